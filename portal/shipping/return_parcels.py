"""A return's parcel: a label the shop buys through its carrier plugin (the ordinary
label path, from the buyer to the shop's return address), or the tracking number the
buyer types (its carrier detected like any other). Either way it is a return
shipment (:mod:`portal.orders.returns`): followed by polling and webhooks, never one
of the order's outbound parcels."""

from portal.hooks.hooktypes import Parcel
from portal.models import Order, OrderRequest, Shipment, User
from portal.orders import returns
from portal.orders.errors import BadInput, OrderRefused
from portal.shipping import (ShippingRefused, buy_label, carriers_for_shop,
                             check_tracking_number, label_shipment_fields, quote_rates)


def parcel_back(shop, order: Order) -> Parcel:
    """The return parcel: from the buyer's address to the shop's return address, with the
    items still to come back weighed like outbound ones."""
    to = returns.return_address(shop)
    return Parcel(from_country=order.ship_country, from_postal_code=order.ship_postal_code,
                  to_country=to["country"] or "US", to_postal_code=to["postal_code"],
                  weight_grams=450 * max(order.item_count - order.returned_count, 1),
                  currency=order.currency)


def buy_return_label(shop, order: Order, request: OrderRequest, *, actor: User) -> Shipment:
    """Buy the cheapest label the shop's carriers sell for the parcel back, and make it
    the return's parcel. Raises :class:`ShippingRefused` (the carrier) or
    ``OrderRefused`` (the return is not waiting for a parcel)."""
    if not returns.may_send(request):
        raise BadInput("return.not_approved", "Only an approved return waiting for its "
                       "parcel can get a label.")
    if (parcel := returns.parcel_of(request)) is not None and parcel.label_id:
        raise BadInput("return.label_bought", "A return label was bought already "
                       f"({parcel.tracking_number}); nothing was bought.")
    parcel = parcel_back(shop, order)
    quote = quote_rates(shop, order, parcel=parcel)
    if not quote.rates:
        raise ShippingRefused(" ".join(quote.refused) or "None of the shop's carriers sells "
                              "labels for this parcel right now; the buyer can send it with "
                              "their own carrier and enter its tracking number.")
    rate = quote.rates[0]
    bought = buy_label(shop, order, rate.carrier_code, rate.service_code, parcel)
    try:
        return returns.add_parcel(request, order, carrier_code=bought.carrier_code,
                                  carrier_name=next((c.name for c in carriers_for_shop(shop)
                                                     if c.code == bought.carrier_code),
                                                    bought.carrier_code),
                                  tracking_number=bought.tracking_number,
                                  tracking_url=bought.tracking_url,
                                  label=label_shipment_fields(bought), actor=actor,
                                  actor_role="seller")
    except OrderRefused as refused:
        raise ShippingRefused(f"{refused} The label {bought.tracking_number} was bought but "
                              "not used; void it from the carrier's dashboard today.") from refused


def enter_tracking(shop, order: Order, request: OrderRequest, tracking_number: str, *,
                   buyer: User) -> Shipment:
    """The buyer sent the parcel with a carrier of their own choosing: its number,
    recognised by one of the shop's carriers. Raises ``OrderRefused`` with why not."""
    if not returns.may_send(request):
        raise BadInput("return.not_approved", "This return is not waiting for its parcel.")
    check = check_tracking_number(shop, "", tracking_number)
    if not check.valid:
        raise BadInput("return.bad_tracking", check.message or "Check the tracking number.")
    return returns.add_parcel(request, order, carrier_code=check.carrier_code,
                              carrier_name=check.carrier_name or check.carrier_code,
                              tracking_number=check.tracking_number,
                              tracking_url=check.tracking_url or "", actor=buyer,
                              actor_role="buyer")
