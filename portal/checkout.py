"""Checkout's money: place the order (``portal.orders.placing``), then ask the payment
plugin (``portal.payments``), then act on its answer.

The order domain may not call plugins, so this module joins the two, in the
ledger's order: the order and its pending authorisation row are committed first,
the plugin is asked after the commit with the row's idempotency key, and a
decline cancels the order in a transaction of its own (stock back, cart
restored: :func:`portal.orders.placing.payment_declined`, called by
``payments.run`` for whoever hears the answer). An authorisation whose outcome is
unknown stays pending, the order "awaiting payment"; the reconciler asks again,
and a decline it hears cancels the order the same way.
"""

from dataclasses import dataclass

import phonenumbers

from portal import cart, payments, shipping
from portal.coupons import discounts
from portal.models import Order, PaymentTransaction, Shop, User
from portal.orders import placing
from portal.orders.ledger import State
from portal.payments import redirects


@dataclass(frozen=True)
class ShippingOption:
    key: str  # "carrier:service", what the form posts
    name: str
    amount: int
    days: int | None


def shipping_options(shop, *, country: str, postal_code: str, item_count: int,
                     currency: str) -> list[ShippingOption]:
    """What shipping the buyer may choose: the shop's carriers' rates (through
    ``carrier_rates``) in the order's currency, or, when none quotes one, the shop's
    flat rate (its settings: an amount in the shop's currency, which is the order's)."""
    draft = Order(ship_country=country, ship_postal_code=postal_code, item_count=item_count,
                  currency=currency)
    quote = shipping.quote_rates(shop, draft)
    options = [ShippingOption(f"{r.carrier_code}:{r.service_code}", r.service_name, r.amount,
                              r.days) for r in quote.rates if r.currency == currency]
    return options or [ShippingOption("flat:standard", "Standard shipping",
                                      shop.flat_rate_amount, shop.flat_rate_days)]


def check_phone(phone: str, country: str) -> tuple[str, str]:
    """The phone number in international form, or an error for the buyer ("" each)."""
    phone = (phone or "").strip()
    if not phone:
        return "", ""
    try:
        parsed = phonenumbers.parse(phone, (country or "").upper() or None)
    except phonenumbers.NumberParseException:
        return phone, "This is not a phone number."
    if not phonenumbers.is_valid_number(parsed):
        return phone, "This phone number is not valid for its country."
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), ""


@dataclass(frozen=True)
class Outcome:
    order: Order
    authorisation: PaymentTransaction
    declined: str = ""  # why, when the payment was declined (the order is cancelled)
    redirect_url: str = ""  # the payment waits for the buyer there (a wallet's page)

    @property
    def ok(self) -> bool:
        return not self.declined


def place_and_pay(buyer: User, shop_id: int, *, checkout_token: str, address: dict,
                  shipping_total: int, payment: placing.PaymentChoice, card_token: str = "",
                  expected_total: int | None = None, discount_total: int = 0,
                  shipping_label: str = "", coupon_codes=(), shipping_service: str = "") -> Outcome:
    """Place the order and authorise its payment. Raises ``CheckoutRefused`` (nothing
    written); a declined payment is an :class:`Outcome` with ``declined`` set, one that
    waits for the buyer (a wallet) has ``redirect_url`` set.

    The coupons (the typed ``coupon_codes`` and the shop's automatic ones) are worked
    out again on the cart as it is now, as the review did: what the buyer reviewed is
    what the order gets, or ``expected_total`` refuses it."""
    plan = None
    mine = next((c for c in cart.carts_of(buyer.id) if c.shop_id == shop_id), None)
    if mine is not None:
        shop = Shop.get_by_id(shop_id)
        worked = discounts.evaluate(shop, buyer, mine, shipping=shipping_total,
                                    codes=coupon_codes)
        plan = worked.plan()
        shipping_total -= worked.shipping_off
    placed = placing.place_order(buyer, shop_id, checkout_token=checkout_token,
                                 address=address, shipping_total=shipping_total,
                                 payment=payment, expected_total=expected_total,
                                 discount_total=discount_total, shipping_label=shipping_label,
                                 coupons=plan, shipping_service=shipping_service)
    row = placed.authorisation
    if row is not None and row.state == State.PENDING:
        row = payments.run(row, token=card_token)  # a decline cancels the order there
    order = Order.get_by_id(placed.order.id)
    if row is not None and row.state == State.FAILED:
        return Outcome(order, row, row.message or "The payment was declined.")
    return Outcome(order, row, redirect_url=redirects.waiting_url(row))
