"""Shipping: carriers as the order domain sees them (this module: the one boundary
between orders and carrier plugins), tracking (``tracking``), carrier pushes
(``carrier_webhooks``) and the CSV bulk shipping (``bulk_shipping``).

The seller's ship form and the CSV bulk shipping call these functions; they
answer through the shop's enabled carrier plugins (see ``portal.hooks.hookspecs``)
and turn a plugin's failure into a message, never an exception.
"""

import re
from dataclasses import dataclass

from portal.hooks import pluginmanager, shop_plugins
from portal.hooks.hooktypes import CarrierInfo, Label, Parcel, Rate, TrackingNumberCheck
from portal.models import Order, Shipment, User, utcnow
from portal.orders import actions, fulfilment, holds
from portal.orders.errors import FulfilmentError, OrderRefused
from portal.orders.lifecycle import StaleOrder

__all__ = ["CarrierInfo", "TrackingNumberCheck", "carriers_for_shop", "check_tracking_number",
           "tracking_links", "quote_rates", "buy_label", "ship_with_label", "void_label",
           "ShippingRefused"]


class ShippingRefused(Exception):
    """A label could not be bought or voided; the message says why, for the seller."""


def _carriers(setup: shop_plugins.ShopPlugins) -> dict[str, tuple[str, CarrierInfo]]:
    """The shop's enabled carriers: code -> (plugin name, info); the always-on fallback last.

    A carrier whose required settings are empty ("Not configured") is left out.
    """
    found = []
    for name in setup.enabled():
        info = shop_plugins.carrier_info(name)
        if info is not None and setup.is_configured(name):
            found.append((info.always_on, info.code, name, info))
    found.sort(key=lambda item: item[0])  # stable: registration order otherwise
    return {code: (name, info) for _, code, name, info in found}


def carriers_for_shop(shop) -> list[CarrierInfo]:
    """The carriers the shop can ship with, in the order the ship form lists them."""
    return [info for _, info in _carriers(shop_plugins.for_shop(shop)).values()]


def normalise(tracking_number: str) -> str:
    return re.sub(r"\s+", "", tracking_number or "").upper()


def check_tracking_number(shop, carrier_code: str | None, tracking_number: str) -> TrackingNumberCheck:
    """Validate ``tracking_number`` for the carrier, or detect the carrier when ``carrier_code`` is empty."""
    number = normalise(tracking_number)
    setup = shop_plugins.for_shop(shop)
    carriers = _carriers(setup)
    if carrier_code:
        if carrier_code not in carriers:
            return TrackingNumberCheck(False, number, carrier_code,
                                       message=f"{carrier_code!r} is not one of this shop's carriers.")
        return _check(setup, *carriers[carrier_code], number)
    if not number:
        return TrackingNumberCheck(False, number, "", message="Enter a tracking number.")
    for name, info in carriers.values():
        if info.detects:
            check = _check(setup, name, info, number)
            if check.valid:
                return check
    names = ", ".join(info.name for _, info in carriers.values() if info.detects) or "none"
    return TrackingNumberCheck(False, number, "", message=(
        f"None of this shop's carriers ({names}) recognises {number}: "
        "check the number, or choose the carrier."))


def _check(setup, name: str, info: CarrierInfo, number: str) -> TrackingNumberCheck:
    # Asked of the shop's plugins together, in pluggy's order: a plugin that claims the
    # same code answers before a trylast fallback (the manual carrier), wrappers see it.
    outcome = setup.call_first("carrier_validate_tracking_number", carrier_code=info.code,
                               tracking_number=number)
    if outcome is None:
        outcome = pluginmanager.call(name, "carrier_validate_tracking_number",
                                     carrier_code=info.code, tracking_number=number,
                                     settings=setup.settings(name))
    if outcome.refused:
        return TrackingNumberCheck(False, number, info.code, info.name,
                                   message=f"{info.name}: {outcome.refused}")
    if not outcome.ok or not isinstance(outcome.value, TrackingNumberCheck):
        return TrackingNumberCheck(False, number, info.code, info.name, message=(
            f"{info.name} cannot check tracking numbers right now; try again in a minute."))
    return outcome.value


@dataclass(frozen=True)
class TrackingLink:
    """Where the buyer can follow a parcel; ``available`` false when its carrier failed."""

    url: str
    available: bool = True


def tracking_links(shop_id: int, shipments: list[Shipment]) -> dict[int, TrackingLink]:
    """Each shipment's public tracking page, asked of its carrier (the stored link if it fails)."""
    if not shipments:
        return {}
    setup = shop_plugins.for_shop(shop_id)
    carriers = _carriers(setup)
    links = {}
    for shipment in shipments:
        name = carriers.get(shipment.carrier_code, (shipment.carrier_code, None))[0]
        outcome = setup.call_first("carrier_tracking_url", carrier_code=shipment.carrier_code,
                                   tracking_number=shipment.tracking_number)
        if outcome is None:  # not one of the shop's carriers any more: ask its plugin alone
            outcome = pluginmanager.call(name, "carrier_tracking_url",
                                         carrier_code=shipment.carrier_code,
                                         tracking_number=shipment.tracking_number,
                                         settings=setup.settings(name))
        if not outcome.ok:
            links[shipment.id] = TrackingLink(shipment.tracking_url, available=False)
        else:
            links[shipment.id] = TrackingLink(outcome.value or shipment.tracking_url)
    return links


# -- platform shipping: rates and labels ----------------------------------------

def parcel_for(shop, order: Order) -> Parcel:
    """The parcel an order makes (a pound-ish per item until products have weights)."""
    return Parcel(from_country=shop.ship_from_country or "US",
                  from_postal_code=shop.ship_from_postal_code, to_country=order.ship_country,
                  to_postal_code=order.ship_postal_code, weight_grams=450 * max(order.item_count, 1),
                  currency=order.currency)


@dataclass(frozen=True)
class RateQuote:
    rates: list[Rate]
    unavailable: list[str]  # names of carriers that failed to answer
    refused: list[str] = ()  # "<carrier>: <why>" from carriers that said no (PluginRefusal)


def quote_rates(shop, order: Order, carrier_code: str | None = None,
                parcel: Parcel | None = None) -> RateQuote:
    """Rates for shipping ``order`` with the shop's label-selling carriers, cheapest first
    (``parcel``: another way than from the shop to the buyer, e.g. a return)."""
    parcel = parcel or parcel_for(shop, order)
    setup = shop_plugins.for_shop(shop)
    rates, unavailable, refused = [], [], []
    for code, (name, info) in _carriers(setup).items():
        if not info.labels or (carrier_code and code != carrier_code):
            continue
        outcome = pluginmanager.call(name, "carrier_rates", carrier_code=code,
                                     parcel=parcel, settings=setup.settings(name))
        if outcome.refused:
            refused.append(f"{info.name}: {outcome.refused}")
        elif outcome.ok and isinstance(outcome.value, list):
            rates += [r for r in outcome.value if isinstance(r, Rate)]
        else:
            unavailable.append(info.name)
    return RateQuote(sorted(rates, key=lambda r: (r.amount, r.carrier_code)), unavailable,
                     refused)


def buy_label(shop, order: Order, carrier_code: str, service_code: str,
              parcel: Parcel | None = None) -> Label:
    """Buy a label at the carrier's current rate for the service; raises :class:`ShippingRefused`.

    The price is quoted again here, never taken from the form. ``parcel``: as in
    :func:`quote_rates`.
    """
    parcel = parcel or parcel_for(shop, order)
    quote = quote_rates(shop, order, carrier_code, parcel)
    rate = next((r for r in quote.rates if r.service_code == service_code), None)
    if rate is None:
        if quote.refused:
            raise ShippingRefused(" ".join(quote.refused))
        raise ShippingRefused("That shipping service is not available for this order any more.")
    setup = shop_plugins.for_shop(shop)
    name, info = _carriers(setup)[carrier_code]
    outcome = pluginmanager.call(name, "carrier_buy_label", carrier_code=carrier_code, rate=rate,
                                 parcel=parcel, settings=setup.settings(name))
    if outcome.refused:
        raise ShippingRefused(f"{info.name}: {outcome.refused} Nothing was charged.")
    if not outcome.ok or not isinstance(outcome.value, Label):
        raise ShippingRefused(f"{info.name} could not sell a label right now; nothing was charged.")
    return outcome.value


def ship_with_label(shop, order: Order, carrier_code: str, service_code: str, *, version: int,
                    actor: User) -> Shipment:
    """Buy a label for everything left to ship, at the rate quoted now, and ship it.

    Nothing is bought for an order that could not use the label: one that may not
    ship (:func:`portal.orders.actions.ship`), was changed since the seller's form
    (:class:`StaleOrder`) or waits for the seller's answer to a request. The carrier
    saying no raises :class:`ShippingRefused`; a label bought and then refused by the
    order (someone changed it in between) raises ``FulfilmentError`` with code
    ``label.unused``, saying which label to void.
    """
    actions.ship(order, None, "buy_label").check()
    if order.version != version:
        raise StaleOrder(order.number)
    actions.ship(order, holds.shipping_hold(order), "buy_label").check()
    bought = buy_label(shop, order, carrier_code, service_code)
    name = next((c.name for c in carriers_for_shop(shop) if c.code == carrier_code), carrier_code)
    package = fulfilment.Package(fulfilment.remaining(order), bought.carrier_code, name,
                                 bought.tracking_number, bought.tracking_url,
                                 label_shipment_fields(bought))
    try:
        return fulfilment.ship(order, package, version=version, actor=actor)
    except OrderRefused as refused:
        raise FulfilmentError(
            "label.unused", f"{refused} The label {bought.tracking_number} was bought but not "
            "used; void it from the carrier's dashboard today.") from refused


def label_shipment_fields(label: Label) -> dict:
    """The ``Shipment`` label columns for a bought label (carrier and number come from it too)."""
    return dict(label_id=label.label_id, label_service=label.service_name,
                label_amount=label.amount, label_currency=label.currency,
                label_bought_at=utcnow())


def can_void(shipment: Shipment) -> bool:
    """A label can be voided on the day it was bought (UTC), if nothing was scanned yet but its creation."""
    return (shipment.label_id is not None and shipment.label_voided_at is None
            and shipment.label_bought_at.date() == utcnow().date()
            and shipment.status == "pre_transit")


def void_label(shop, shipment: Shipment, *, actor=None) -> Shipment:
    """Void the shipment's label with its carrier, and take the package out of its
    order (its items are to ship again); raises :class:`ShippingRefused`."""
    if shipment.label_voided_at is not None:
        raise ShippingRefused(ALREADY_VOIDED)
    if not can_void(shipment):
        raise ShippingRefused("Only a label bought today, not yet picked up, can be voided.")
    # Claimed first, so that of two posts at once only one asks the carrier.
    if not fulfilment.claim_void(shipment):
        raise ShippingRefused(ALREADY_VOIDED)
    try:
        setup = shop_plugins.for_shop(shop)
        name, info = _carriers(setup).get(shipment.carrier_code, (shipment.carrier_code, None))
        outcome = pluginmanager.call(name, "carrier_void_label",
                                     carrier_code=shipment.carrier_code,
                                     label_id=shipment.label_id,
                                     tracking_number=shipment.tracking_number,
                                     settings=setup.settings(name))
        if outcome.refused:
            raise ShippingRefused(f"{shipment.carrier_name} did not void the label: "
                                  f"{outcome.refused} It still stands.")
        if not outcome.ok or outcome.value is not True:
            raise ShippingRefused(f"{shipment.carrier_name} did not void the label; "
                                  "it still stands.")
    except BaseException:
        fulfilment.release_void(shipment)
        raise
    shipment.order = fulfilment.unship_voided(shipment, actor=actor)
    return shipment


ALREADY_VOIDED = "This label is already void (voided just now, perhaps from another tab)."
