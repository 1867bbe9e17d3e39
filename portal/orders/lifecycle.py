"""The order life cycle: the six statuses and the only ways between them.

Every status change in the portal goes through :func:`transition`. It refuses
anything not in :data:`TRANSITIONS` with :class:`TransitionRefused` and writes
nothing; an allowed change bumps the order's version, and writes a timeline
event, in one transaction.
"""

from enum import StrEnum

from portal import outbox
from portal.coupons import records as coupon_records
from portal.db import database
from portal.models import Order, OrderEvent, User, utcnow
from portal.orders.errors import OrderRefused


class Status(StrEnum):
    PENDING = "pending"
    PROCESSED = "processed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    RETURNED = "returned"

    @property
    def label(self) -> str:
        """The word users see: "Pending", "Shipped", ..."""
        return self.value.capitalize()


class PaymentStatus(StrEnum):
    """The payment's own status, beside the order's (as in Shopify and Saleor)."""

    AWAITING = "awaiting"  # placed at checkout, its authorisation not answered yet
    AUTHORISED = "authorised"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"

    @property
    def label(self) -> str:
        if self is PaymentStatus.AWAITING:
            return "Awaiting payment"
        return self.value.replace("_", " ").capitalize()


TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.PENDING: frozenset({Status.PROCESSED, Status.CANCELLED}),
    Status.PROCESSED: frozenset({Status.SHIPPED, Status.CANCELLED}),
    # Back to Processed only when the label of the last package is voided before pickup.
    Status.SHIPPED: frozenset({Status.DELIVERED, Status.PROCESSED}),
    # A return runs beside a Delivered order and ends it in Returned.
    Status.DELIVERED: frozenset({Status.RETURNED}),
    Status.CANCELLED: frozenset(),
    Status.RETURNED: frozenset(),
}

# Orders a buyer has paid for and kept: what the spending summary adds up.
SPENDING_STATUSES = (Status.PENDING, Status.PROCESSED, Status.SHIPPED, Status.DELIVERED)


class TransitionRefused(OrderRefused):
    """The order may not move from its status to the one asked for (``order.transition``)."""

    def __init__(self, number: str, current: Status, target: Status):
        self.number, self.current, self.target = number, current, target
        allowed = ", ".join(s.label for s in sorted(TRANSITIONS[current])) or "none"
        super().__init__(
            "order.transition",
            f"Order {number} is {current.label} and cannot become {target.label} "
            f"(allowed from {current.label}: {allowed}).",
            reason=f"it is {current.label}")


class StaleOrder(OrderRefused):
    """Someone else changed the order since it was read; nothing was written (``order.stale``)."""

    def __init__(self, number: str):
        self.number = number
        super().__init__(
            "order.stale",
            f"Order {number} was changed by someone else in the meantime. "
            "Nothing was saved; here is the order as it is now.",
            reason="changed by someone else in the meantime")


def change_words(current: Status, target: Status, reason: str = "") -> str:
    """The timeline's words for a status change: "Pending → Cancelled: ordered twice"."""
    return f"{current.label} → {target.label}" + (f": {reason}" if reason else "")


def can_transition(current: str, target: str) -> bool:
    return Status(target) in TRANSITIONS[Status(current)]


def allowed_targets(current: str) -> frozenset[Status]:
    return TRANSITIONS[Status(current)]


def record(order: Order, kind: str, message: str, *, actor: User | None = None,
           actor_role: str = "system", before: str | None = None, after: str | None = None,
           internal: bool = False, at=None, **details) -> OrderEvent:
    """Write one timeline event for ``order`` (``internal`` ones only sellers see), and
    the same event into the outbox, in one transaction: whoever listens (plugins, and
    later e-mail and notifications) hears of it once it is committed, and only then.
    ``details`` ride along in the outbox event only (e.g. a cancellation's reason)."""
    with database.atomic():
        event = OrderEvent.create(order=order.id, created_at=at or utcnow(), actor=actor,
                                  actor_role=actor_role, kind=kind, message=message[:500],
                                  before=before, after=after, internal=internal)
        outbox.record(kind, order_id=order.id, shop_id=order.shop_id, number=order.number,
                      timeline_event=event.id, actor_role=actor_role,
                      actor_id=getattr(actor, "id", actor), message=message[:500],
                      before=before, after=after, internal=internal, **details)
    return event


def update_order(order: Order, *, version: int | None = None, stamp: bool = True,
                 **fields) -> None:
    """Write ``fields`` if the order is still at ``version`` (default: the copy's own).

    Bumps the version, so every other copy of the order is now stale; raises
    :class:`StaleOrder` and writes nothing when someone else wrote first.
    ``stamp=False`` leaves ``updated_at`` alone (a buyer's request changes no field
    of the order, but the seller's open forms must see that something arrived).
    Call it inside ``database.atomic()`` together with the rest of the change.
    """
    expected = order.version if version is None else version
    now = utcnow()
    stamped = {"updated_at": now} if stamp else {}
    updated = (Order.update(version=Order.version + 1, **stamped, **fields)
               .where((Order.id == order.id) & (Order.version == expected))
               .execute())
    if updated != 1:
        raise StaleOrder(order.number)
    for name, value in fields.items():
        setattr(order, name, value)
    order.version = expected + 1
    if stamp:
        order.updated_at = now


def lock(order_id: int) -> Order:
    """The order as it is now, kept from every other writer until the transaction ends.

    Call it first thing inside ``database.atomic()``: the no-op update takes
    SQLite's write lock (or PostgreSQL's row lock) before the read, so what is
    read cannot change before the transaction commits.
    """
    Order.update(version=Order.version).where(Order.id == order_id).execute()
    return Order.get_by_id(order_id)


def transition(order: Order, target: Status, *, actor: User | None = None,
               actor_role: str = "system", reason: str = "",
               version: int | None = None) -> OrderEvent:
    """Move ``order`` to ``target`` and record it on the timeline.

    Refuses a transition that is not allowed (:class:`TransitionRefused`) and
    one based on a stale copy of the order (:class:`StaleOrder`: ``version``,
    default the copy's own, is no longer current); in both cases nothing is
    written. On success ``order`` is updated in place and the event returned.
    """
    current, target = Status(order.status), Status(target)
    if target not in TRANSITIONS[current]:
        raise TransitionRefused(order.number, current, target)
    message = change_words(current, target, reason)
    with database.atomic():
        update_order(order, version=version, status=target.value)
        if target is Status.CANCELLED:  # a cancelled order's coupons may be used again
            coupon_records.release(order.id)
        # The outbox event that goes with it is how plugins hear of it, after the commit.
        event = record(order, "status_changed", message, actor=actor, actor_role=actor_role,
                       before=current.value, after=target.value, at=order.updated_at,
                       reason=reason)
    return event
