"""What hooks take and return: small dataclasses defined by the portal.

Plugins never see ORM rows and never return them; the core turns these values
into database rows. Money is integer minor units plus an ISO currency code.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class PluginRefusal(Exception):
    """Raise it from a hook to say "no" with a reason the seller reads.

    ``raise PluginRefusal("This address is outside our delivery area.")`` in
    ``carrier_rates``, ``carrier_buy_label``, ``carrier_void_label`` or
    ``carrier_validate_tracking_number`` is shown to the seller after the
    carrier's name ("Swift Post: This address is outside our delivery
    area.", beside the field or the rates), is not
    logged as a crash and does not make the plugin "unavailable". Any other
    exception is a crash: logged, and the plugin is shown as unavailable.
    Write the message for the seller: a full sentence, no stack trace.
    """

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class TrackingStatus(StrEnum):
    """The one set of parcel statuses every carrier's codes are mapped onto."""

    PRE_TRANSIT = "pre_transit"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    FAILED_ATTEMPT = "failed_attempt"
    EXCEPTION = "exception"
    RETURNED_TO_SENDER = "returned_to_sender"

    @property
    def label(self) -> str:
        """The words buyers see: "In transit", "Returned to sender", ..."""
        return self.value.replace("_", " ").capitalize()


# -- every plugin ---------------------------------------------------------------

@dataclass(frozen=True)
class PluginInfo:
    """How sellers see a plugin on ``/seller/plugins`` and in messages ("Swift Post is on").

    A carrier's ``CarrierInfo.name`` is used when the plugin gives none.
    """

    name: str  # the display name: "EasyPost tracking"
    description: str = ""  # one sentence under the name: what it does for the shop


# -- carriers -------------------------------------------------------------------

@dataclass(frozen=True)
class CarrierInfo:
    """A carrier as the ship form lists it.

    ``tracking`` says how events arrive: ``"manual"`` (the seller types them),
    ``"webhook"`` (the carrier pushes them) or ``"polling"`` (the portal asks).
    ``labels`` is true when the carrier quotes rates and sells labels.
    ``detects`` is true when the carrier takes part in guessing the carrier of
    a pasted tracking number. ``always_on`` carriers need no enabling (the
    manual fallback).
    """

    code: str  # the carrier's code, stored on each shipment; the hooks are aimed at it
    name: str  # what sellers and buyers read: "Swift Post"
    tracking: str = "manual"  # "manual", "webhook" or "polling"
    labels: bool = False  # implements carrier_rates and carrier_buy_label
    detects: bool = True  # asked to recognise a number when the seller leaves the carrier blank
    always_on: bool = False  # on for every shop until the shop turns it off


@dataclass(frozen=True)
class TrackingNumberCheck:
    """The verdict on one tracking number; ``message`` says why when not valid."""

    valid: bool  # true when the number is one of this carrier's
    tracking_number: str  # normalised: upper case, no spaces
    carrier_code: str  # the carrier that answers
    carrier_name: str = ""  # its name, as in CarrierInfo.name
    tracking_url: str = ""  # the parcel's public page (https), stored on the shipment
    message: str = ""  # when not valid: why, in words the seller reads beside the field


@dataclass(frozen=True)
class TrackingUpdate:
    """One scan of a parcel. ``external_id`` makes the same scan stored once."""

    occurred_at: datetime  # when the scan happened, naive UTC
    status: TrackingStatus  # the parcel's status after this scan
    description: str  # what the buyer reads: "Arrived at sorting centre" (300 characters kept)
    location: str = ""  # where: "Portland, OR" (120 characters kept)
    external_id: str | None = None  # the carrier's id of the scan: stored once per parcel


@dataclass(frozen=True)
class TrackingQuery:
    """What the portal knows about a parcel when it asks its carrier for news."""

    tracking_number: str  # the parcel's number, as stored
    shipped_at: datetime  # when the seller shipped it, naive UTC
    known_events: int = 0  # how many scans of it the portal has stored
    last_event_at: datetime | None = None  # the latest stored scan's time, naive UTC


@dataclass(frozen=True)
class TrackingReport:
    """News about one parcel: its new scans and the carrier's delivery estimate."""

    tracking_number: str  # which parcel (upper case, no spaces)
    updates: tuple[TrackingUpdate, ...] = ()  # its scans, any order; known ones are skipped
    estimated_delivery: date | None = None  # the carrier's estimate; becomes the order's


@dataclass(frozen=True)
class WebhookRequest:
    """A carrier's push, as received: header names are lower case, body is raw bytes."""

    headers: dict[str, str]  # header names in lower case
    body: bytes  # the raw body: verify the signature on it before parsing
    secret: str  # the shop's webhook secret for the plugin ("" if it has none)
    received_at: datetime  # when the portal received it, naive UTC


@dataclass(frozen=True)
class WebhookResult:
    """A plugin's answer to a push.

    ``accepted`` false means refused: ``status`` is the 4xx to answer and
    nothing is stored. ``event_id`` is the carrier's id for the push; the
    portal stores each id once, so a replay changes nothing.
    """

    accepted: bool  # false: refused, nothing stored
    status: int = 200  # the HTTP status to answer: 200, or a 4xx when refused
    message: str = ""  # sent back to the carrier in the JSON answer
    event_id: str | None = None  # the carrier's id of the push: a replay is stored once
    reports: tuple[TrackingReport, ...] = ()  # the news, one report per parcel


@dataclass(frozen=True)
class Parcel:
    """What a rate depends on: from where, to where, how heavy."""

    from_country: str  # ISO 3166 alpha-2 code of the shop's ship-from address: "US"
    from_postal_code: str  # the ship-from postal code ("" when the shop has none)
    to_country: str  # ISO 3166 alpha-2 code of the buyer's address
    to_postal_code: str  # the buyer's postal code ("" in countries without one)
    weight_grams: int  # the parcel's weight
    currency: str  # ISO 4217 code the rates should be in (the order's currency)


@dataclass(frozen=True)
class Rate:
    """A price to ship a parcel with one of a carrier's services."""

    carrier_code: str  # your CarrierInfo.code
    service_code: str  # your code of the service; given back in carrier_buy_label's rate
    service_name: str  # what the seller reads: "Swift Post Next Day"
    amount: int  # the price in minor units (cents)
    currency: str  # ISO 4217 code of amount
    days: int | None = None  # delivery estimate in days


@dataclass(frozen=True)
class Label:
    """A label the seller bought: the carrier assigned its tracking number."""

    carrier_code: str  # your CarrierInfo.code
    service_code: str  # the service bought (the rate's service_code)
    service_name: str  # the service's name, printed on the label page
    tracking_number: str  # the number you assigned: the parcel's tracking number
    label_id: str  # your id of the label; carrier_void_label receives it
    amount: int  # what was charged, in minor units
    currency: str  # ISO 4217 code of amount
    tracking_url: str = ""  # the parcel's public page (https)


# -- payment methods ---------------------------------------------------------------

@dataclass(frozen=True)
class PaymentOption:
    """A way to pay at checkout, with its fee shown before paying.

    ``capture`` says when ``payment_capture`` takes the money: ``"on_shipping"``
    (when the order's first package ships) or ``"on_delivery"`` (when the order
    is Delivered: cash on delivery). It is stored with the authorisation, so an
    order keeps the rule it was placed under. An option with another value is not
    offered.
    """

    method_code: str  # your code of the method; the payment hooks are aimed at it
    name: str  # what the buyer reads: "Card"
    fee: int  # minor units
    currency: str  # ISO 4217 code of fee
    capture: str = "on_shipping"  # when the money is taken: "on_shipping" or "on_delivery"


@dataclass(frozen=True)
class PaymentResult:
    """The outcome of authorise, capture or refund: failures are data, not exceptions.

    ``display`` is what the order shows ("Visa •••• 4242"); card numbers never
    reach the portal.
    """

    succeeded: bool  # false: declined or refused, with a message
    reference: str = ""  # the gateway's reference, given back to capture and refund
    amount: int = 0  # minor units authorised, captured or refunded
    currency: str = ""  # ISO 4217 code of amount
    display: str = ""  # what the order shows: "Visa •••• 4242"
    message: str = ""  # why it failed, in words the buyer or seller reads
    # An authorisation that needs the buyer first (a redirect flow): succeeded=False
    # with the page to send them to; the payment stays pending, not declined.
    redirect_url: str = ""  # where the buyer answers: your page_url, or your gateway's https page


@dataclass(frozen=True)
class PaymentPrompt:
    """A payment that waits for its buyer, as ``payment_page`` draws it."""

    idempotency_key: str  # the authorisation's key, as payment_authorise received it
    amount: int  # minor units to authorise
    currency: str  # ISO 4217 code of amount
    shop_name: str  # who is paid: "Northwind Threads"
    order_number: str  # the order it pays for: "7K3Q9-XWD2M"


@dataclass(frozen=True)
class PageButton:
    """A button of a payment page: the portal draws it as a POST form with its CSRF token."""

    action: str  # given back to payment_page as ``action`` when the buyer presses it
    label: str  # what the buyer reads: "Approve"
    primary: bool = False  # drawn as the page's main button


@dataclass(frozen=True)
class PaymentPage:
    """What a plugin's payment page shows, or, once the buyer answered, where they go.

    The portal draws it in its own layout (the shop and the amount above it); text is
    escaped like any outside text. With ``answer`` set the buyer is sent back to the
    portal, which calls ``payment_authorise`` again with ``token=answer``.
    """

    title: str  # the page's heading: "Demo Wallet"
    text: str = ""  # a paragraph under the amount
    buttons: tuple[PageButton, ...] = ()  # the buyer's choices, in order
    answer: str = ""  # the buyer answered: your signed answer, given back as token
    message: str = ""  # something went wrong: shown to the buyer above the buttons


# -- coupons -------------------------------------------------------------------------

@dataclass(frozen=True)
class CouponKind:
    """A kind of discount a seller can create (percentage, fixed amount, ...)."""

    code: str  # your code of the kind: coupons of it are handed to you
    name: str  # what the seller reads: "10% off"
    description: str = ""  # one sentence for the seller choosing a kind (added later)
    settings_form: type | None = None  # a WTForms Form of the coupon's own settings (added later)


@dataclass(frozen=True)
class CartLine:
    """One line of a cart."""

    product_id: int  # the product's id in the portal
    variant_id: int  # the variant's (size, colour) id in the portal
    unit_price: int  # minor units
    quantity: int  # how many


@dataclass(frozen=True)
class Cart:
    """What a buyer is about to order from one shop."""

    shop_id: int  # the shop's id
    buyer_id: int  # the buyer's id
    currency: str  # ISO 4217 code of every amount
    lines: tuple[CartLine, ...]  # the lines
    shipping: int = 0  # the shipping price, minor units
    delivered_orders: int = 0  # the buyer's orders at this shop that were delivered (added later)


@dataclass(frozen=True)
class Coupon:
    """A coupon the buyer entered, with the settings the seller gave it."""

    code: str  # what the buyer typed: "SAVE10"
    kind: str  # its CouponKind.code
    settings: dict = field(default_factory=dict)  # the seller's settings of this coupon


@dataclass(frozen=True)
class Discount:
    """Money off a cart, with the words the buyer sees."""

    coupon_code: str  # the coupon that gives it
    amount: int  # minor units off the cart
    currency: str  # ISO 4217 code of amount
    description: str  # what the buyer reads: "10% off"
    free_shipping: bool = False  # the coupon also makes shipping free
    variant_ids: tuple[int, ...] = ()  # the lines it applies to (spread over them); () all (added later)


# -- order events ------------------------------------------------------------------

@dataclass(frozen=True)
class PlacedOrder:
    """A new order, as the buyer placed it at checkout: its figures at that moment.

    Amounts are minor units of ``currency``; ``total`` is
    ``subtotal - discount_total + shipping_total + fee_total``.
    """

    number: str  # the order's number: "7K3Q9-XWD2M"
    shop_id: int  # the order's shop
    currency: str  # ISO 4217 code of every amount
    total: int  # what the buyer pays, minor units
    item_count: int  # how many items (the sum of the lines' quantities)
    item_summary: str = ""  # the buyer's words for the items: "Linen shirt + 2 more"
    subtotal: int = 0  # the lines' prices times quantities, minor units
    discount_total: int = 0  # coupons' money off, minor units
    shipping_total: int = 0  # shipping, minor units
    fee_total: int = 0  # the payment method's fee, minor units
    payment_method: str = ""  # what the order shows: "Visa •••• 4242", "Cash on delivery"
    placed_at: datetime | None = None  # when it was placed, naive UTC


@dataclass(frozen=True)
class OrderChange:
    """An order moved from one status to another."""

    order_number: str  # the order's number: "7K3Q9-XWD2M"
    shop_id: int  # the order's shop
    before: str  # the status it left: "pending", "processed", ...
    after: str  # the status it is in now
    actor_role: str  # who moved it: "buyer", "seller" or "system"
    reason: str = ""  # the reason given (cancellations), else ""
    # Delivery is at least once: a plugin that must act once keeps the ids it has seen.
    event_id: int | None = field(default=None, compare=False)  # the outbox event's id: the same when told again


# -- notification channels ---------------------------------------------------------

@dataclass(frozen=True)
class NotificationChannel:
    """A way of telling people that a plugin brings (text messages, a chat app).

    Users find it on ``/account`` beside e-mail, off until they turn it on per kind of
    notification, for orders of the shops that enabled the plugin.
    """

    code: str  # short and unique among channels ("sms"), 20 characters at most
    name: str  # what users read on /account: "Text message (SMS)"
    description: str = ""  # one line under the name on /account
    needs: str = ""  # what the recipient must have: "phone", "email" or "" (nothing)


@dataclass(frozen=True)
class NotificationMessage:
    """One notification for one person, to send on a channel (no database rows inside)."""

    kind: str  # the kind of notification: "shipped", "placed", ... (as on /account)
    title: str  # the kind in words: "Package shipped"
    text: str  # what happened: "Order 7K3Q9-XWD2M: Package 1 shipped with UPS, ..."
    url: str  # the absolute URL of the order's page for this recipient
    order_number: str  # the order's number: "7K3Q9-XWD2M"
    shop_name: str  # the order's shop
    recipient_name: str  # the person told
    recipient_email: str = ""  # their e-mail address
    recipient_phone: str = ""  # their phone number in E.164 ("+14155550123"), or ""
    link: str = ""  # an outside page to follow (a carrier's tracking), or ""
    to_seller: bool = False  # told to the shop's owner (else to the buyer)
    # Delivery is at least once: the same event and recipient arrive again after a failure.
    event_id: int | None = field(default=None, compare=False)  # the outbox event's id: the same when told again
