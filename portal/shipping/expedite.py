"""A faster shipping service for a late order: the remedy "free upgrade to expedited
shipping" (the domain's ``delays.explain`` applies it; this picks it, asking the carriers).

From the shop's carriers' rates for the order, the fastest service quicker than the one
the buyer chose; when the shop has no carrier that quotes (it charges its flat rate), a
flat "Expedited shipping" a few days quicker than its flat rate's estimate.
"""

from portal.orders.delays import Upgrade
from portal.shipping import quote_rates

FLAT_EXPEDITED = ("flat:expedited", "Expedited shipping")


class NoUpgrade(Exception):
    """No faster service to upgrade to; the message says why, for the seller."""


def faster_service(shop, order) -> Upgrade:
    """The service to upgrade ``order`` to, or :class:`NoUpgrade` saying why there is none.

    Carriers that did not answer are no reason to fall back to the flat "Expedited": the
    seller may try again."""
    quote = quote_rates(shop, order)
    rates = [r for r in quote.rates if r.days]
    if not rates:
        if quote.unavailable:
            raise NoUpgrade("Your carriers did not answer with rates (" +
                            ", ".join(quote.unavailable) + "): try the upgrade again later.")
        days = max(1, min(2, shop.flat_rate_days - 1))
        if order.shipping_service == FLAT_EXPEDITED[0] or days >= shop.flat_rate_days:
            raise NoUpgrade("This order already ships as fast as your flat rate allows.")
        return Upgrade(*FLAT_EXPEDITED, days)
    chosen = next((r.days for r in rates
                   if f"{r.carrier_code}:{r.service_code}" == order.shipping_service), None)
    current = chosen if chosen is not None else max(r.days for r in rates)
    fastest = min(rates, key=lambda r: (r.days, r.amount))
    if fastest.days >= current:
        raise NoUpgrade("This order already has your carriers' fastest service.")
    return Upgrade(f"{fastest.carrier_code}:{fastest.service_code}",
                   fastest.service_name, fastest.days)
