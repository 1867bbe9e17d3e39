"""The hook specifications: every way a plugin can extend the portal.

This module is the reference; ``docs/plugins.md`` explains it with examples.
A plugin implements any of these functions, decorated with ``portal.hookimpl``,
with the same name and any subset of the arguments (so a new argument added
here never breaks an old plugin). The portal calls hooks with keyword
arguments only, through pluggy (its order: ``tryfirst``/``trylast`` and
wrappers mean what pluggy says), each implementation with a time budget: a
plugin that raises or takes too long is logged, answers ``None`` so the next
plugin is asked, and is shown as unavailable; it never crashes the page. To
refuse with a reason the seller reads, raise
:class:`portal.hooktypes.PluginRefusal`; that is not a failure. ``settings``
is always the plugin's own settings for the shop, as its settings form
validated them (a dict, empty when it has no form).

Hooks aimed at one carrier or payment method receive its code and return
``None`` for codes the plugin does not own.
"""

import pluggy

hookspec = pluggy.HookspecMarker("portal")
hookimpl = pluggy.HookimplMarker("portal")  # re-exported as ``portal.hookimpl``


# -------------------------------------------------------------------------
# Every plugin
# -------------------------------------------------------------------------

@hookspec(firstresult=True)
def plugin_settings_form(plugin_name):
    """The WTForms form class for the plugin's per-shop settings.

    Called when a seller opens ``/seller/plugins`` and when they save the
    plugin's settings. The validated ``form.data`` is stored for the shop and
    passed as ``settings`` to every other hook of the plugin.

    Stops at first non-None result.

    :param plugin_name: the name the plugin is registered under (its entry point name).
    :returns: a ``wtforms.Form`` subclass (not an instance), or ``None`` for a
        plugin without settings.
    """


@hookspec(firstresult=True)
def plugin_info(plugin_name):
    """The plugin's display name and a sentence about it, for sellers.

    Called when ``/seller/plugins`` is drawn and for its messages ("Swift
    Post is on"). Without it, a carrier plugin is shown by its
    ``CarrierInfo.name``, any other by its registered name.

    Stops at first non-None result.

    :param plugin_name: the name the plugin is registered under (its entry point name).
    :returns: a :class:`portal.hooks.hooktypes.PluginInfo`, or ``None`` for another
        plugin's name.
    """


# -------------------------------------------------------------------------
# Carriers
# -------------------------------------------------------------------------

@hookspec
def carrier_info():
    """Describe the carrier this plugin brings.

    Called to list carriers: the ship form's carrier list, auto-detection,
    ``/seller/plugins``, ``flask --app portal plugins``.

    :returns: a :class:`portal.hooks.hooktypes.CarrierInfo` (code, name, how tracking
        arrives, whether it sells labels), or ``None`` if the plugin is no carrier.
    """


@hookspec(firstresult=True)
def carrier_validate_tracking_number(carrier_code, tracking_number, settings):
    """Say whether a tracking number is one of this carrier's (format and check digit).

    Called when a seller ships with a tracking number, once per enabled
    carrier when they leave the carrier blank (auto-detection).

    Stops at first non-None result.

    :param carrier_code: the carrier asked about.
    :param tracking_number: as typed, already upper case without spaces.
    :param settings: the plugin's settings for the shop.
    :returns: a :class:`portal.hooks.hooktypes.TrackingNumberCheck` (``valid`` false
        with a ``message`` the seller sees), or ``None`` for another carrier's code.
    """


@hookspec(firstresult=True)
def carrier_tracking_url(carrier_code, tracking_number, settings):
    """The public page where anyone can follow this parcel on the carrier's site.

    Called when the buyer's tracking block is drawn.

    Stops at first non-None result.

    :param carrier_code: the shipment's carrier.
    :param tracking_number: the shipment's tracking number.
    :param settings: the plugin's settings for the shop.
    :returns: an absolute ``https://`` URL, ``""`` when the carrier has no public
        page, or ``None`` for another carrier's code.
    """


@hookspec(firstresult=True)
def carrier_rates(carrier_code, parcel, settings):
    """Quote what shipping a parcel costs, one rate per service.

    Called for the checkout's shipping options and for "buy a label" on the
    seller's ship form.

    Stops at first non-None result.

    :param carrier_code: the carrier asked for rates.
    :param parcel: a :class:`portal.hooks.hooktypes.Parcel` (from, to, weight, currency).
    :param settings: the plugin's settings for the shop.
    :returns: a list of :class:`portal.hooks.hooktypes.Rate` (empty when the carrier
        cannot take the parcel), or ``None`` for another carrier's code.
    """


@hookspec(firstresult=True)
def carrier_buy_label(carrier_code, rate, parcel, settings):
    """Buy a shipping label for a parcel at a quoted rate.

    Called when the seller chooses "buy a label". The carrier assigns the
    tracking number.

    Stops at first non-None result.

    :param carrier_code: the carrier selling the label.
    :param rate: the :class:`portal.hooks.hooktypes.Rate` the seller picked.
    :param parcel: the :class:`portal.hooks.hooktypes.Parcel` being shipped.
    :param settings: the plugin's settings for the shop.
    :returns: a :class:`portal.hooks.hooktypes.Label`, or ``None`` for another carrier's code.
    """


@hookspec(firstresult=True)
def carrier_void_label(carrier_code, label_id, tracking_number, settings):
    """Cancel a label bought today and get its price back.

    Called when the seller voids a label (the portal allows it on the day
    the label was bought).

    Stops at first non-None result.

    :param carrier_code: the carrier that sold the label.
    :param label_id: the carrier's id of the label.
    :param tracking_number: the label's tracking number.
    :param settings: the plugin's settings for the shop.
    :returns: ``True`` when the carrier voided it, ``False`` when it refused,
        ``None`` for another carrier's code.
    """


@hookspec(firstresult=True)
def carrier_track(carrier_code, query, settings, now):
    """Fetch the news about a parcel from a carrier that the portal polls.

    Called by the background worker (every minute) for each undelivered
    shipment of a carrier whose ``CarrierInfo.tracking`` is ``"polling"``.
    Return every scan you know of: scans the portal has stored already (same
    ``external_id``) are skipped.

    Stops at first non-None result.

    :param carrier_code: the shipment's carrier.
    :param query: a :class:`portal.hooks.hooktypes.TrackingQuery` (tracking number,
        when it shipped, how many scans the portal has, the latest one's time).
    :param settings: the plugin's settings for the shop.
    :param now: the current time (naive UTC), so that tests can move it.
    :returns: a :class:`portal.hooks.hooktypes.TrackingReport`, or ``None`` for
        another carrier's code.
    """


@hookspec(firstresult=True)
def carrier_parse_webhook(carrier_code, request, settings):
    """Verify a carrier's push and turn it into tracking news.

    Called for each ``POST /webhooks/carriers/<code>?shop=<slug>``. Verify the
    signature with ``request.secret`` (in constant time) and refuse a stale
    push before reading anything else. A refusal is data: return
    ``WebhookResult(accepted=False, status=4xx, message=...)`` and the portal
    answers that status and stores nothing.

    Stops at first non-None result.

    :param carrier_code: the ``<code>`` of the URL.
    :param request: a :class:`portal.hooks.hooktypes.WebhookRequest` (lower-case
        headers, raw body, the shop's webhook secret, when it arrived).
    :param settings: the plugin's settings for the shop.
    :returns: a :class:`portal.hooks.hooktypes.WebhookResult` whose ``reports`` name
        parcels by tracking number, or ``None`` for another carrier's code.
    """


# -------------------------------------------------------------------------
# Payment methods
# -------------------------------------------------------------------------

@hookspec
def payment_methods(shop_id, currency, amount, settings):
    """Offer ways to pay for a checkout, each with its fee.

    Called when the checkout's payment step is drawn.

    :param shop_id: the shop being paid.
    :param currency: the order's ISO currency code.
    :param amount: what is due before the fee, in minor units.
    :param settings: the plugin's settings for the shop.
    :returns: a list of :class:`portal.hooks.hooktypes.PaymentOption` (may be empty).
    """


@hookspec(firstresult=True)
def payment_authorise(method_code, amount, currency, token, idempotency_key, settings,
                      page_url, return_url, secret):
    """Reserve the money for an order.

    Called once when the buyer places an order. The ``idempotency_key`` is
    the same if the buyer double-clicks: charge once.

    A method that needs the buyer first (a wallet: a redirect flow) answers
    ``PaymentResult(succeeded=False, redirect_url=...)``: the payment stays
    pending (not declined), the buyer is sent to ``redirect_url``, and when
    they come back to ``return_url`` with ``?token=<answer>`` the portal calls
    this hook again, same key, with ``token`` set to that answer: verify it
    (it is the buyer's to forge) and approve or decline. Asked again with an
    empty or unverifiable token, answer the redirect again. A payment that
    waits for its buyer longer than an hour is declined by the portal ("not
    completed in time"); the portal asks you once more first.

    Stops at first non-None result.

    :param method_code: the payment method chosen.
    :param amount: the total including the fee, in minor units.
    :param currency: ISO currency code.
    :param token: the gateway's one-time token for the buyer's card or wallet
        (never a card number); in a redirect flow, what the buyer brought back
        ("" the first time).
    :param idempotency_key: unique per checkout attempt.
    :param settings: the plugin's settings for the shop.
    :param page_url: the portal's page for this payment that :func:`payment_page`
        draws (a path on the portal), for a redirect flow served inside the portal
        (added later: a plugin that does not name it does not get it).
    :param return_url: where the buyer comes back with ``?token=<answer>`` (a path
        on the portal) (added later, as ``page_url``).
    :param secret: the shop's secret for the plugin, made when the shop enabled a
        plugin that takes webhooks or draws payment pages: sign your answers with it
        (added later, as ``page_url``).
    :returns: a :class:`portal.hooks.hooktypes.PaymentResult` (a decline is
        ``succeeded=False``), or ``None`` for another method's code.
    """


@hookspec(firstresult=True)
def payment_page(method_code, payment, action, secret, settings):
    """Draw the page where the buyer answers a payment that waits for them.

    Called for a redirect flow served inside the portal (the built-in
    wallet): ``payment_authorise`` answered ``redirect_url=page_url``, and the
    buyer opens that page. The portal checks that it is their own order's
    pending payment and calls this hook to draw it (``action`` is ""), then
    again when they press one of its buttons (a POST the portal checked for
    CSRF; ``action`` is the button's). Answer ``PaymentPage(answer=...)`` to send the
    buyer back: the portal calls ``payment_authorise`` with ``token=answer``
    (sign it with ``secret`` and bind it to ``payment.idempotency_key``, so an
    answer for another payment, or a forged one, is refused there).

    Stops at first non-None result.

    :param method_code: the payment's method.
    :param payment: a :class:`portal.hooks.hooktypes.PaymentPrompt` (key, amount,
        currency, shop name, order number).
    :param action: "" when the page is opened; the ``PageButton.action`` the buyer
        pressed.
    :param secret: the shop's secret for the plugin (as ``payment_authorise`` gets it).
    :param settings: the plugin's settings for the shop.
    :returns: a :class:`portal.hooks.hooktypes.PaymentPage`, or ``None`` for another
        method's code.
    """


@hookspec(firstresult=True)
def payment_capture(method_code, reference, amount, currency, settings, idempotency_key):
    """Take money that was authorised.

    Called when the order ships (its first package), or when it is Delivered
    for a method whose ``PaymentOption.capture`` is ``"on_delivery"`` (cash on
    delivery). If the call overruns the time budget or raises, the
    portal keeps it pending and calls again later with the same
    ``idempotency_key``: take the money once per key.

    Stops at first non-None result.

    :param method_code: the order's payment method.
    :param reference: the reference ``payment_authorise`` returned.
    :param amount: minor units to capture.
    :param currency: ISO currency code.
    :param settings: the plugin's settings for the shop.
    :param idempotency_key: unique per capture; the same when the portal asks again
        (added later: a plugin that does not name it does not get it).
    :returns: a :class:`portal.hooks.hooktypes.PaymentResult`, or ``None`` for another method's code.
    """


@hookspec(firstresult=True)
def payment_refund(method_code, reference, amount, currency, settings, idempotency_key):
    """Give money back, fully or in part.

    Called when the seller refunds, cancels a paid order, lowers a paid order's
    total, or a return is received. The portal never asks for more than was
    captured and not refunded yet; a call that overruns is asked again with the
    same ``idempotency_key``: refund once per key.

    Stops at first non-None result.

    :param method_code: the order's payment method.
    :param reference: the payment's reference.
    :param amount: minor units to refund.
    :param currency: ISO currency code.
    :param settings: the plugin's settings for the shop.
    :param idempotency_key: unique per refund; the same when the portal asks again
        (added later: a plugin that does not name it does not get it).
    :returns: a :class:`portal.hooks.hooktypes.PaymentResult`, or ``None`` for another method's code.
    """


@hookspec(firstresult=True)
def payment_void(method_code, reference, amount, currency, idempotency_key, settings):
    """Release an authorisation that will not be captured (the money was never taken).

    Called when an order is cancelled before anything was captured. A call that
    overruns is asked again later with the same ``idempotency_key``.

    Stops at first non-None result.

    :param method_code: the order's payment method.
    :param reference: the reference ``payment_authorise`` returned.
    :param amount: minor units authorised and now released.
    :param currency: ISO currency code.
    :param idempotency_key: unique per void; the same when the portal asks again.
    :param settings: the plugin's settings for the shop.
    :returns: a :class:`portal.hooks.hooktypes.PaymentResult`, or ``None`` for another method's code.
    """


# -------------------------------------------------------------------------
# Coupons
# -------------------------------------------------------------------------

@hookspec
def coupon_kinds():
    """The kinds of discount the plugin brings (percentage, fixed, bundle, ...).

    Called when a seller creates or edits a coupon on ``/seller/coupons`` (the
    built-in kinds in every shop, a plugin's kinds once the shop turned it on).
    A kind's ``settings_form`` (a WTForms ``Form``) is shown under the rules every
    coupon has (dates, minimum spend, limits, combining, who may use it) and what it
    validates is the coupon's ``settings``; a field named ``products`` that is a
    ``SelectMultipleField`` gets the shop's products as choices.

    :returns: a list of :class:`portal.hooks.hooktypes.CouponKind`.
    """


@hookspec
def coupon_discounts(cart, coupons, settings):
    """Work out the discounts the buyer's coupons give on a cart.

    Called whenever the checkout's review is drawn, and once more just before the
    order is placed, for the plugin that brings the coupon's kind; the portal asks
    about one coupon at a time (a list of one), so that a refusal is that coupon's.
    The portal has checked its own rules first (dates in the shop's time zone,
    minimum spend, usage limits, who may use it, combining) and caps each discount
    at what is left of its lines, spreading it over them to the minor unit.
    Raise :class:`portal.hooks.hooktypes.PluginRefusal` to refuse a coupon with a
    reason the buyer reads ("It rewards buyers with 3 delivered orders"); a coupon
    that takes nothing off is "does not apply to anything in your cart".

    :param cart: a :class:`portal.hooks.hooktypes.Cart`.
    :param coupons: the :class:`portal.hooks.hooktypes.Coupon` codes the buyer entered
        that are valid now (dates and usage limits already checked).
    :param settings: the plugin's settings for the shop.
    :returns: a list of :class:`portal.hooks.hooktypes.Discount` for the coupons of
        kinds this plugin brings (empty for others); a discount with ``variant_ids``
        applies to those lines only.
    """


# -------------------------------------------------------------------------
# Order events
# -------------------------------------------------------------------------

@hookspec
def order_placed(order, event_id):
    """Be told that a buyer placed a new order (for notifications, exports, analytics).

    Called after the order is committed (from the outbox, as
    :func:`order_status_changed`: at least once, retried with back-off), once
    per plugin enabled by the order's shop. The order is Pending and its
    payment is being authorised: a declined payment cancels it afterwards,
    which ``order_status_changed`` tells. The return value is ignored.

    :param order: a :class:`portal.hooks.hooktypes.PlacedOrder` (number, shop,
        amounts, item count, as placed).
    :param event_id: the outbox event's id, the same if this news is told again.
    """


@hookspec
def order_status_changed(change):
    """Be told that an order moved to another status (for notifications, exports).

    Called after the change is committed (from the outbox, by the background
    worker), for plugins enabled by the order's shop. Delivery is at least once:
    a plugin that raises or overruns is called again later with back-off, so the
    same change can arrive twice; ``change.event_id`` tells them apart. The
    return value is ignored.

    :param change: a :class:`portal.hooks.hooktypes.OrderChange`.
    """


@hookspec
def order_tracking_updated(order_number, shop_id, tracking_number, status, updates, event_id):
    """Be told that a parcel of an order has new tracking scans.

    Called after the scans are committed (from the outbox, as
    :func:`order_status_changed`: at least once, retried with back-off), for
    plugins enabled by the order's shop. The return value is ignored.

    :param order_number: the order's number.
    :param shop_id: the order's shop.
    :param tracking_number: the parcel's tracking number.
    :param status: the parcel's :class:`portal.hooks.hooktypes.TrackingStatus` now.
    :param updates: the new :class:`portal.hooks.hooktypes.TrackingUpdate` scans.
    :param event_id: the outbox event's id, the same if this news is told again
        (added later: a plugin that does not name it does not get it).
    """


# -------------------------------------------------------------------------
# Notification channels
# -------------------------------------------------------------------------

@hookspec
def notification_channels():
    """The channels the plugin sends notifications on (text messages, a chat app).

    Called when ``/account`` draws its notification preferences and when the
    portal decides who hears of an order event (asked once, then remembered
    until the plugin is registered again). A channel is offered for the orders
    of the shops that enabled the plugin; a user gets nothing on it until they
    turn it on for a kind of notification, and nothing on a channel that
    ``needs`` a phone number while their account has none. Codes ``email`` and
    ``inbox`` are the portal's own and are ignored, as is a code another plugin
    brought first.

    :returns: a list of :class:`portal.hooks.hooktypes.NotificationChannel`.
    """


@hookspec(firstresult=True)
def notification_send(channel_code, message, settings):
    """Send one notification to one person on one of the plugin's channels.

    Called from the outbox after the change is committed, once per channel and
    recipient who turned the channel on for the message's kind, for the plugin
    enabled by the order's shop. A call that raises or overruns is called again
    later with back-off (``flask --app portal outbox`` shows why) and never holds
    up e-mail, the in-app notifications or other channels; the same message can
    arrive twice (``message.event_id`` tells). Raise
    :class:`portal.hooks.hooktypes.PluginRefusal` when sending can never work
    (a number the gateway rejects): it is logged and not tried again.

    Stops at first non-None result.

    :param channel_code: the :class:`portal.hooks.hooktypes.NotificationChannel` code.
    :param message: a :class:`portal.hooks.hooktypes.NotificationMessage`.
    :param settings: the plugin's settings for the order's shop.
    :returns: ``True`` once the message is handed over, or ``None`` for another
        plugin's channel code.
    """
