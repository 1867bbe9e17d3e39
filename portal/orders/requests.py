"""What buyers ask of sellers after the purchase, and the sellers' answers.

A buyer cancels a Pending order and changes its address at once; once the order
is Processed those become requests to the seller, and never once it has
shipped. Modifications (size, colour, quantity) are asked for inside the shop's
modification window, returns inside its return window. The seller approves or
refuses each; an approval applies the change through the same functions the
seller's own edits use, so stock, prices and the timeline follow.
"""

import json
from datetime import date, datetime, timedelta

from peewee import JOIN, fn

from portal.addresses import AddressCheck
from portal.db import database
from portal.models import (Order, OrderLine, OrderRequest, Product, Shipment, Shop, User, Variant,
                           utcnow)
from portal.orders import editing, fulfilment
from portal.orders.fulfilment import FulfilmentError
from portal.orders.lifecycle import PaymentStatus, Status, record, transition, update_order

KINDS = {"cancellation": "Cancellation", "address_change": "New shipping address",
         "modification": "Modification", "return": "Return"}
OPEN, APPROVED, REFUSED, COMPLETED = "open", "approved", "refused", "completed"
NEEDS_SELLER = (OPEN, APPROVED)  # open: to decide; approved (a return): to receive


def requests_of(order: Order) -> list[OrderRequest]:
    return list(OrderRequest.select().where(OrderRequest.order == order.id)
                .order_by(OrderRequest.created_at.desc(), OrderRequest.id.desc()))


def _open(order: Order, kind: str, buyer: User, reason: str = "", details=None) -> OrderRequest:
    if OrderRequest.select().where((OrderRequest.order == order.id) & (OrderRequest.kind == kind)
                                   & OrderRequest.status.in_(NEEDS_SELLER)).exists():
        raise FulfilmentError(f"You already asked for this ({KINDS[kind].lower()}); "
                              "the shop will answer soon.")
    with database.atomic():
        request = OrderRequest.create(order=order.id, shop=order.shop_id, kind=kind,
                                      reason=reason.strip()[:500], created_by=buyer,
                                      details=json.dumps(details or {}))
        record(order, "request", f"Buyer asked for: {KINDS[kind].lower()}"
               + (f" ({reason.strip()})" if reason.strip() else ""), actor=buyer,
               actor_role="buyer")
    return request


# -- the buyer ------------------------------------------------------------------

def buyer_cancel(order: Order, *, buyer: User, reason: str, version: int) -> str:
    """Cancel a Pending order now ("cancelled"), or ask the seller once it is Processed
    ("requested")."""
    if order.status == Status.PENDING:
        fulfilment.cancel(order, reason=reason or "cancelled by the buyer", version=version,
                          actor=buyer, actor_role="buyer")
        return "cancelled"
    if order.status == Status.PROCESSED and not order.shipped_count:
        _open(order, "cancellation", buyer, reason)
        return "requested"
    raise FulfilmentError(f"Order {order.number} is {_label(order)}: it can no longer be "
                          "cancelled. Once it arrives you can return it.")


def buyer_change_address(order: Order, check: AddressCheck, *, buyer: User,
                         version: int) -> str:
    """A new address: applied at once while Pending ("changed"), asked of the seller
    once Processed ("requested"), never once shipped."""
    if order.status == Status.PENDING:
        editing.change_address(order, check, version=version, actor=buyer, actor_role="buyer")
        return "changed"
    if order.status == Status.PROCESSED and not order.shipped_count:
        if editing.address_of(order) == check.address:
            raise FulfilmentError("That is the address the order already has.")
        _open(order, "address_change", buyer, details=check.address)
        return "requested"
    raise FulfilmentError(f"Order {order.number} has shipped: its address can no longer change.")


def modification_deadline(order: Order, shop: Shop) -> datetime:
    return order.placed_at + timedelta(hours=shop.modification_window_hours)


def can_ask_modification(order: Order, shop: Shop, now: datetime) -> bool:
    return editing.editable(order) and now <= modification_deadline(order, shop)


def buyer_modify(order: Order, shop: Shop, changes: dict[int, tuple[int, int]], *,
                 buyer: User, reason: str, now: datetime) -> None:
    """Ask for other sizes, colours or quantities, inside the modification window."""
    if not can_ask_modification(order, shop, now):
        raise FulfilmentError("Changes could be asked for until "
                              f"{modification_deadline(order, shop):%b %d, %H:%M} UTC, before "
                              "the order ships; message the shop instead.")
    lines = fulfilment.lines_of(order)
    choices = editing.variant_choices(lines)
    wanted = {}
    for line in lines:
        variant_id, quantity = changes.get(line.id, (line.variant_id, line.quantity))
        if (variant_id, quantity) == (line.variant_id, line.quantity):
            continue
        if not any(v.id == variant_id for v in choices[line.id]) or not 0 <= quantity <= 99:
            raise FulfilmentError(f"{line.product_name}: choose one of its sizes and colours "
                                  "and a quantity from 0 to 99.")
        wanted[str(line.id)] = [variant_id, quantity]
    if not wanted:
        raise FulfilmentError("Change a size, colour or quantity first.")
    if not any(changes.get(line.id, (None, line.quantity))[1] for line in lines):
        raise FulfilmentError("To remove everything, cancel the order instead.")
    _open(order, "modification", buyer, reason, details=wanted)


def delivered_on(order: Order) -> date:
    last = (Shipment.select(fn.MAX(Shipment.delivered_at))
            .where(Shipment.order == order.id).scalar())
    if isinstance(last, str):
        last = datetime.fromisoformat(last)
    return (last or order.updated_at).date()


def return_deadline(order: Order, shop: Shop) -> date:
    return delivered_on(order) + timedelta(days=shop.return_window_days)


def returnable_lines(order: Order) -> list[OrderLine]:
    """The lines the shop's return policy takes back (not its non-returnable products)."""
    return list(OrderLine.select(OrderLine)
                .join(Variant, JOIN.LEFT_OUTER, on=(OrderLine.variant == Variant.id))
                .join(Product, JOIN.LEFT_OUTER, on=(Variant.product == Product.id))
                .where((OrderLine.order == order.id)
                       & ((Product.returnable == True) | Product.id.is_null()))  # noqa: E712
                .order_by(OrderLine.id))


def buyer_return(order: Order, shop: Shop, *, buyer: User, reason: str, today: date) -> None:
    """Ask to send a Delivered order back, inside the shop's return window."""
    if order.status != Status.DELIVERED:
        raise FulfilmentError("Only a delivered order can be returned.")
    if today > return_deadline(order, shop):
        raise FulfilmentError(f"The return window closed on {return_deadline(order, shop):%b %d}.")
    if not reason.strip():
        raise FulfilmentError("Tell the shop why you are returning it.")
    lines = returnable_lines(order)
    if not lines:
        raise FulfilmentError("The shop does not take these products back.")
    _open(order, "return", buyer, reason, details={"lines": [line.id for line in lines]})


# -- the seller -----------------------------------------------------------------

def describe(request: OrderRequest, lines: list[OrderLine]) -> str:
    """The request's details in words, for the seller deciding on it."""
    details = json.loads(request.details or "{}")
    if request.kind == "address_change":
        return ", ".join(v for k, v in details.items() if v and k != "phone")
    by_id = {line.id: line for line in lines}
    if request.kind == "modification":
        variants = {v.id: v for v in Variant.select().where(
            Variant.id.in_([v for v, _ in details.values()] or [0]))}
        parts = []
        for line_id, (variant_id, quantity) in details.items():
            line, v = by_id.get(int(line_id)), variants.get(variant_id)
            if line and v:
                parts.append(f"{editing.describe_line(line)} → {line.product_name} "
                             f"({v.size}, {v.colour}) × {quantity}")
        return "; ".join(parts)
    if request.kind == "return":
        return ", ".join(editing.describe_line(by_id[i]) for i in details.get("lines", [])
                         if i in by_id)
    return ""


def decide(request: OrderRequest, order: Order, *, approve: bool, seller: User,
           response: str = "") -> None:
    """Approve (and apply) or refuse an open request; the buyer sees the answer."""
    if request.status != OPEN:
        raise FulfilmentError("This request was already answered.")
    response = response.strip()[:500]
    if not approve and not response:
        raise FulfilmentError("Tell the buyer why you refuse.")
    name = KINDS[request.kind].lower()
    with database.atomic():
        if approve:
            _apply(request, order, seller)
        request.status = (APPROVED if approve and request.kind == "return"
                          else COMPLETED if approve else REFUSED)
        request.decided_by, request.decided_at, request.response = seller, utcnow(), response
        request.save()
        verdict = "approved" if approve else "refused"
        record(order, "request", f"Request for {name} {verdict}"
               + (f": {response}" if response else "")
               + (" — send the items back" if approve and request.kind == "return" else ""),
               actor=seller, actor_role="seller")


def _apply(request: OrderRequest, order: Order, seller: User) -> None:
    details = json.loads(request.details or "{}")
    if request.kind == "cancellation":
        fulfilment.cancel(order, reason=request.reason or "asked by the buyer",
                          version=order.version, actor=seller, actor_role="seller")
    elif request.kind == "address_change":
        editing.change_address(order, AddressCheck(details), version=order.version,
                               actor=seller)
    elif request.kind == "modification":
        editing.change_lines(order, {int(k): (v, q) for k, (v, q) in details.items()},
                             version=order.version, actor=seller)


def receive_return(request: OrderRequest, order: Order, *, seller: User, version: int) -> None:
    """The returned parcel arrived: the order becomes Returned, refunded and restocked."""
    if request.kind != "return" or request.status != APPROVED:
        raise FulfilmentError("There is no approved return waiting for this order.")
    returned = set(json.loads(request.details or "{}").get("lines", []))
    lines = fulfilment.lines_of(order)
    refund = (PaymentStatus.REFUNDED if returned >= {line.id for line in lines}
              else PaymentStatus.PARTIALLY_REFUNDED)
    with database.atomic():
        transition(order, Status.RETURNED, actor=seller, actor_role="seller",
                   reason="return received, refund issued", version=version)
        fulfilment.restock([line for line in lines if line.id in returned])
        update_order(order, payment_status=refund.value)
        request.status = COMPLETED
        request.save()


def _label(order: Order) -> str:
    return "Partially shipped" if order.partially_shipped else Status(order.status).label
