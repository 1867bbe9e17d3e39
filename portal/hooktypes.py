"""What hooks take and return: small dataclasses defined by the portal.

Plugins never see ORM rows and never return them; the core turns these values
into database rows. Money is integer minor units plus an ISO currency code.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


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

    code: str
    name: str
    tracking: str = "manual"
    labels: bool = False
    detects: bool = True
    always_on: bool = False


@dataclass(frozen=True)
class TrackingNumberCheck:
    """The verdict on one tracking number; ``message`` says why when not valid."""

    valid: bool
    tracking_number: str  # normalised: upper case, no spaces
    carrier_code: str
    carrier_name: str = ""
    tracking_url: str = ""
    message: str = ""


@dataclass(frozen=True)
class TrackingUpdate:
    """One scan of a parcel. ``external_id`` makes the same scan stored once."""

    occurred_at: datetime  # naive UTC
    status: TrackingStatus
    description: str
    location: str = ""
    external_id: str | None = None


@dataclass(frozen=True)
class TrackingQuery:
    """What the portal knows about a parcel when it asks its carrier for news."""

    tracking_number: str
    shipped_at: datetime
    known_events: int = 0
    last_event_at: datetime | None = None


@dataclass(frozen=True)
class TrackingReport:
    """News about one parcel: its new scans and the carrier's delivery estimate."""

    tracking_number: str
    updates: tuple[TrackingUpdate, ...] = ()
    estimated_delivery: date | None = None


@dataclass(frozen=True)
class WebhookRequest:
    """A carrier's push, as received: header names are lower case, body is raw bytes."""

    headers: dict[str, str]
    body: bytes
    secret: str
    received_at: datetime  # naive UTC


@dataclass(frozen=True)
class WebhookResult:
    """A plugin's answer to a push.

    ``accepted`` false means refused: ``status`` is the 4xx to answer and
    nothing is stored. ``event_id`` is the carrier's id for the push; the
    portal stores each id once, so a replay changes nothing.
    """

    accepted: bool
    status: int = 200
    message: str = ""
    event_id: str | None = None
    reports: tuple[TrackingReport, ...] = ()


@dataclass(frozen=True)
class Parcel:
    """What a rate depends on: from where, to where, how heavy."""

    from_country: str
    from_postal_code: str
    to_country: str
    to_postal_code: str
    weight_grams: int
    currency: str


@dataclass(frozen=True)
class Rate:
    """A price to ship a parcel with one of a carrier's services."""

    carrier_code: str
    service_code: str
    service_name: str
    amount: int  # minor units
    currency: str
    days: int | None = None  # delivery estimate in days


@dataclass(frozen=True)
class Label:
    """A label the seller bought: the carrier assigned its tracking number."""

    carrier_code: str
    service_code: str
    service_name: str
    tracking_number: str
    label_id: str
    amount: int
    currency: str
    tracking_url: str = ""


# -- payment methods ---------------------------------------------------------------

@dataclass(frozen=True)
class PaymentOption:
    """A way to pay at checkout, with its fee shown before paying."""

    method_code: str
    name: str
    fee: int  # minor units
    currency: str


@dataclass(frozen=True)
class PaymentResult:
    """The outcome of authorise, capture or refund: failures are data, not exceptions.

    ``display`` is what the order shows ("Visa •••• 4242"); card numbers never
    reach the portal.
    """

    succeeded: bool
    reference: str = ""
    amount: int = 0
    currency: str = ""
    display: str = ""
    message: str = ""


# -- coupons -------------------------------------------------------------------------

@dataclass(frozen=True)
class CouponKind:
    """A kind of discount a seller can create (percentage, fixed amount, ...)."""

    code: str
    name: str


@dataclass(frozen=True)
class CartLine:
    product_id: int
    variant_id: int
    unit_price: int
    quantity: int


@dataclass(frozen=True)
class Cart:
    shop_id: int
    buyer_id: int
    currency: str
    lines: tuple[CartLine, ...]
    shipping: int = 0


@dataclass(frozen=True)
class Coupon:
    code: str
    kind: str
    settings: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Discount:
    """Money off a cart, with the words the buyer sees."""

    coupon_code: str
    amount: int
    currency: str
    description: str
    free_shipping: bool = False


# -- order events ------------------------------------------------------------------

@dataclass(frozen=True)
class OrderChange:
    """An order moved from one status to another."""

    order_number: str
    shop_id: int
    before: str
    after: str
    actor_role: str
    reason: str = ""
