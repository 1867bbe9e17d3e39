"""Coupons: a shop's promotions and the rules every one of them keeps.

The rules are the portal's (no plugin decides them): ``rules`` (the time window in
the shop's time zone, minimum spend, total and per-buyer limits, combining; refusals
with a stable code beside the sentence), ``codes`` (readable codes, unique per shop),
``emails`` (one mailbox, however its address is spelt), ``allocation`` (a discount
spread over the lines to the minor unit), ``records`` (the coupons and their uses in
the database: a use is taken in the order's placing transaction, released by a
cancel). How much a coupon takes off is its kind's business: coupon plugins
(``coupon_kinds``/``coupon_discounts``), asked by ``discounts``.

Only ``discounts`` calls plugins; the other modules import neither Flask nor the
plugin layer, so the order domain (``portal.orders.placing``) can use them.
"""
