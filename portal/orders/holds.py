"""What a buyer's request waiting for the seller means for the rest of the order.

Two rules, kept here once so that every way of shipping and cancelling follows them:

- While the buyer waits for an answer about *where* the order goes (a new address)
  or *whether* it goes (a cancellation), none of it ships: not from the ship form,
  not with a bought label, not as one package of several, not from a CSV upload.
- A request that a change made moot (a modification once a package has left, any
  request once the order is cancelled) is closed, with the reason the buyer sees.
"""

from portal.models import Order, OrderRequest, User, utcnow
from portal.orders.lifecycle import record

KINDS = {"cancellation": "Cancellation", "address_change": "New shipping address",
         "modification": "Modification", "return": "Return"}
OPEN, APPROVED, REFUSED, COMPLETED, CLOSED = "open", "approved", "refused", "completed", "closed"

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
        asked.setdefault(order_id, []).append(HOLD_SHIPPING[kind])
    return {order_id: f"Order {numbers[order_id]} waits for your answer: the buyer asked for "
            f"{' and '.join(what)}. Approve or refuse the request on the order page, then ship."
            for order_id, what in asked.items()}


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
