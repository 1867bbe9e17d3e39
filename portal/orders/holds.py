"""What a buyer's request waiting for the seller means for the rest of the order.

Two rules, kept here once so that every way of shipping and cancelling follows them:

- While the buyer waits for an answer about *where* the order goes (a new address)
  or *whether* it goes (a cancellation), none of it ships: not from the ship form,
  not with a bought label, not as one package of several, not from a CSV upload.
- A request that a change made moot (a modification once a package has left, any
  request once the order is cancelled) is closed, with the reason the buyer sees.
"""

from enum import StrEnum

from portal.models import Order, OrderRequest, User, utcnow
from portal.orders.lifecycle import record


class RequestKind(StrEnum):
    """What a buyer may ask of the shop after the purchase."""

    CANCELLATION = "cancellation"
    ADDRESS_CHANGE = "address_change"
    MODIFICATION = "modification"
    RETURN = "return"


class RequestStatus(StrEnum):
    """Where a request stands; ``label`` is how the buyer's page says it."""

    OPEN = "open"
    APPROVED = "approved"  # a return: approved, the parcel is on its way back
    REFUSED = "refused"
    COMPLETED = "completed"
    CLOSED = "closed"  # made moot by another change (the order shipped, or was cancelled)

    @property
    def label(self) -> str:
        return _REQUEST_LABELS[self]


_REQUEST_LABELS = {RequestStatus.OPEN: "Waiting for the shop", RequestStatus.APPROVED: "Approved",
                   RequestStatus.REFUSED: "Refused", RequestStatus.COMPLETED: "Done",
                   RequestStatus.CLOSED: "No longer possible"}

KINDS = {RequestKind.CANCELLATION.value: "Cancellation",
         RequestKind.ADDRESS_CHANGE.value: "New shipping address",
         RequestKind.MODIFICATION.value: "Modification", RequestKind.RETURN.value: "Return"}
# Plain strings, as the database stores and returns them.
OPEN, APPROVED, REFUSED, COMPLETED, CLOSED = (s.value for s in RequestStatus)

# The open requests that stop an order from shipping, and what the buyer asked for.
HOLD_SHIPPING = {"address_change": "a new shipping address",
                 "cancellation": "to cancel the order"}


def shipping_holds(orders: list[Order]) -> dict[int, str]:
    """Order id → why it may not ship yet, for the orders a request holds (one query)."""
    if not orders:
        return {}
    numbers = {order.id: order.number for order in orders}
    asked: dict[int, list[str]] = {}
    for order_id, kind in (OrderRequest.select(OrderRequest.order, OrderRequest.kind)
                           .where(OrderRequest.order.in_(list(numbers))
                                  & (OrderRequest.status == OPEN)
                                  & OrderRequest.kind.in_(list(HOLD_SHIPPING)))
                           .order_by(OrderRequest.id).tuples()):
        asked.setdefault(order_id, []).append(kind)
    return {order_id: _hold(numbers[order_id], kinds) for order_id, kinds in asked.items()}


def hold_message(order: Order, open_kinds: list[str]) -> str | None:
    """Why ``order`` may not ship, from the kinds of its open requests (oldest first)."""
    held = [kind for kind in open_kinds if kind in HOLD_SHIPPING]
    return _hold(order.number, held) if held else None


def _hold(number: str, kinds: list[str]) -> str:
    what = " and ".join(HOLD_SHIPPING[kind] for kind in kinds)
    return (f"Order {number} waits for your answer: the buyer asked for {what}. "
            "Approve or refuse the request on the order page, then ship.")


def shipping_hold(order: Order) -> str | None:
    """Why ``order`` may not ship yet, or None."""
    return shipping_holds([order]).get(order.id)


def close_moot(order: Order, kinds: list[str], reason: str, *, actor: User | None,
               actor_role: str = "seller") -> int:
    """Close the order's open requests of ``kinds``: they can no longer apply.

    The buyer sees ``reason`` on the request and on the timeline. Call it inside
    the transaction of the change that made them moot. Returns how many closed.
    """
    moot = list(OrderRequest.select(OrderRequest.id, OrderRequest.kind)
                .where((OrderRequest.order == order.id) & (OrderRequest.status == OPEN)
                       & OrderRequest.kind.in_(kinds)))
    if not moot:
        return 0
    closed = (OrderRequest.update(status=CLOSED, response=reason[:500], decided_at=utcnow(),
                                  decided_by=actor)
              .where(OrderRequest.id.in_([r.id for r in moot]) & (OrderRequest.status == OPEN))
              .execute())
    for r in moot:
        record(order, "request", f"Request for {KINDS[r.kind].lower()} closed: {reason}",
               actor=actor, actor_role=actor_role)
    return closed
