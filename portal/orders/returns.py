"""Returns that finish: what a buyer sends back line by line and why, the parcel it
travels in, and what its receipt refunds.

A return request (:mod:`portal.orders.requests`) carries :class:`~portal.models.ReturnItem`
rows: a line, a quantity, a reason. Once approved, the buyer sends the items to the
shop's return address in a parcel that is a ``Shipment`` with ``direction = "return"``
(never one of the order's outbound parcels). The seller marks what came back; the
returned quantities' share of what was paid is refunded through the ledger, and the
order becomes Returned only once every item is back ("partly returned" until then).
"""

import json
from dataclasses import dataclass

from peewee import fn

from portal.db import database
from portal.models import Order, OrderLine, OrderRequest, ReturnItem, Shipment, Shop, User
from portal.money import format_money
from portal.orders import actions, fulfilment, ledger
from portal.orders.errors import BadInput, RequestRefused
from portal.orders.holds import APPROVED, COMPLETED, OPEN
from portal.orders.lifecycle import (PaymentStatus, StaleOrder, Status, lock, record, transition,
                                     update_order)

# The returns whose items count as taken: waiting for the seller, or received.
COUNTED = (OPEN, APPROVED, COMPLETED)

REASONS = {"too_small": "Too small", "not_as_described": "Not as described",
           "damaged": "Arrived damaged", "changed_mind": "Changed my mind", "other": "Other"}

OUT, RETURN = "out", "return"  # Shipment.direction

ADDRESS_KEYS = ("name", "line1", "line2", "city", "region", "postal_code", "country")


@dataclass(frozen=True)
class Wanted:
    """One line the buyer wants to send back: how many, and why (``note``: their words)."""

    line_id: int
    quantity: int
    reason: str
    note: str = ""


# -- what may still be returned ------------------------------------------------------

def taken(order: Order) -> dict[int, int]:
    """Order line id → items already returned or asked for (in a return that waits for
    the seller or was received: what the shop found counts)."""
    rows = (ReturnItem.select(ReturnItem.order_line, ReturnItem.quantity, ReturnItem.received,
                              OrderRequest.status)
            .join(OrderRequest)
            .where((OrderRequest.order == order.id)
                   & OrderRequest.status.in_(COUNTED)).tuples())
    found: dict[int, int] = {}
    for line_id, quantity, received, status in rows:
        found[line_id] = found.get(line_id, 0) + (
            (received or 0) if status == COMPLETED else quantity)
    return found


def available(lines: list[OrderLine], order: Order,
              requests: list[OrderRequest] | None = None) -> dict[int, int]:
    """Line id → how many of it the buyer may still send back (of ``lines``, the
    returnable ones). ``requests``: all the order's requests, if the caller has them:
    without one that waits or was received, nothing is taken and no query asks."""
    counted = requests is None or any(r.status in COUNTED for r in requests)
    used = taken(order) if counted else {}
    return {line.id: max(line.quantity - used.get(line.id, 0), 0) for line in lines}


def check(lines: list[OrderLine], order: Order, wanted: list[Wanted]) -> list[Wanted]:
    """The items asked for, checked: known returnable lines, a quantity from 1 to what
    is left, a reason from the list (``other`` with words). Raises :class:`BadInput`."""
    by_id = {line.id: line for line in lines}
    left = available(lines, order)
    chosen = []
    for item in wanted:
        if item.quantity == 0:
            continue
        line = by_id.get(item.line_id)
        if line is None:
            raise BadInput("return.unknown_line", "That item is not one you can return from "
                           "this order.")
        name = line.product_name
        if not 0 < item.quantity <= left[line.id]:
            raise BadInput("return.bad_quantity", f"{name}: you can send back from 1 to "
                           f"{left[line.id]} of it." if left[line.id] else
                           f"{name} is already returned or on its way back.")
        if item.reason not in REASONS:
            raise BadInput("return.no_reason", f"{name}: choose why you are returning it.")
        note = (item.note or "").strip()[:300]
        if item.reason == "other" and not note:
            raise BadInput("return.no_words", f"{name}: you chose \"Other\"; tell the shop "
                           "why in a few words.")
        chosen.append(Wanted(line.id, item.quantity, item.reason, note))
    if not chosen:
        raise BadInput("return.nothing_chosen", "Choose at least one item to return, and "
                       "how many.")
    return chosen


def describe_item(line: OrderLine, item) -> str:
    """ "Linen shirt (M, White) × 1: Too small (the sleeves)" """
    text = f"{line.product_name} ({line.size}, {line.colour}) × {item.quantity}: " \
           f"{REASONS.get(item.reason, item.reason)}"
    if item.note:
        text += f" ({item.note})"
    if item.received is not None:
        text += f"; {item.received} received"
    return text


def items_of(request_ids: list[int]) -> dict[int, list[ReturnItem]]:
    """Request id → its items, each with ``.order_line`` loaded (one query)."""
    found: dict[int, list[ReturnItem]] = {r: [] for r in request_ids}
    if request_ids:
        for item in (ReturnItem.select(ReturnItem, OrderLine).join(OrderLine)
                     .where(ReturnItem.request.in_(request_ids)).order_by(ReturnItem.id)):
            found[item.request_id].append(item)
    return found


def add_items(request: OrderRequest, items: list[Wanted]) -> None:
    for item in items:
        ReturnItem.create(request=request.id, order_line=item.line_id, quantity=item.quantity,
                          reason=item.reason, note=item.note)


def summary(lines: list[OrderLine], items: list[Wanted]) -> str:
    """The request's reason, in words: each item and why."""
    by_id = {line.id: line for line in lines}
    return "; ".join(f"{by_id[i.line_id].product_name} × {i.quantity}: {REASONS[i.reason]}"
                     + (f" ({i.note})" if i.note else "") for i in items)


# -- the shop's return address ---------------------------------------------------------

def return_address(shop: Shop) -> dict[str, str]:
    """Where returns go: the shop's return address, or its ship-from address when it
    has none."""
    prefix = "return_" if shop.return_line1 else "ship_from_"
    address = {key: getattr(shop, prefix + key) or "" for key in ADDRESS_KEYS}
    address["name"] = address["name"] or shop.name
    return address


def has_return_address(shop: Shop) -> bool:
    """Whether the shop has somewhere to send returns (a street and a city)."""
    address = return_address(shop)
    return bool(address["line1"].strip() and address["city"].strip())


def address_text(address: dict[str, str]) -> str:
    parts = [address["name"], address["line1"], address["line2"],
             " ".join(p for p in (address["postal_code"], address["city"]) if p),
             address["region"], address["country"]]
    return ", ".join(p for p in parts if p)


# -- the parcel back -------------------------------------------------------------------

def parcel_of(request: OrderRequest) -> Shipment | None:
    if not request.return_shipment_id:
        return None
    return Shipment.get_or_none(Shipment.id == request.return_shipment_id)


def may_send(request: OrderRequest) -> bool:
    """Whether a parcel can still be set for this return (approved, not received)."""
    return request.kind == "return" and request.status == APPROVED


def add_parcel(request: OrderRequest, order: Order, *, carrier_code: str, carrier_name: str,
               tracking_number: str, tracking_url: str = "", label: dict | None = None,
               actor: User, actor_role: str) -> Shipment:
    """The parcel the items travel back in: a return shipment (a bought label's, or the
    number the buyer typed). A later one replaces an earlier one the shop did not buy
    a label for (the buyer corrects a typo). Raises :class:`RequestRefused`."""
    with database.atomic():
        lock(order.id)
        now = OrderRequest.get_or_none(OrderRequest.id == request.id)
        if now is None or not may_send(now):
            raise RequestRefused("return.not_approved", "This return is not waiting for its "
                                 "parcel any more; nothing was changed.")
        old = parcel_of(now)
        if old is not None and old.label_id and label is None:
            raise RequestRefused("return.label_bought", "The shop bought a label for this "
                                 "return: use it (its tracking number is on the page).")
        if old is not None and old.label_id and label is not None:
            raise RequestRefused("return.label_bought", "A return label was bought already "
                                 f"({old.tracking_number}); nothing was bought.")
        shipment = Shipment.create(order=order.id, carrier_code=carrier_code,
                                   carrier_name=carrier_name, tracking_number=tracking_number,
                                   tracking_url=tracking_url, direction=RETURN, **(label or {}))
        OrderRequest.update(return_shipment=shipment.id).where(
            OrderRequest.id == request.id).execute()
        if old is not None:
            old.delete_instance(recursive=True)
        request.return_shipment = shipment.id
        what = "A return label was bought" if label else "The buyer sent the return"
        record(order, "return_parcel", f"{what}: {carrier_name} {tracking_number}",
               actor=actor, actor_role=actor_role, tracking_number=tracking_number,
               tracking_url=tracking_url, label=bool(label))
    return shipment


# -- receipt and refund ----------------------------------------------------------------

def share(line: OrderLine, count: int) -> int:
    """What ``count`` items of ``line`` were paid: its total less its discount, pro rata
    per unit, rounded down to the minor unit (all of them: exactly what was paid)."""
    if line.quantity <= 0:
        return 0
    count = min(max(count, 0), line.quantity)
    return (line.line_total - line.discount) * count // line.quantity


def line_refund(line: OrderLine, before: int, count: int) -> int:
    """The refund for ``count`` more items of ``line`` when ``before`` came back earlier:
    the difference of shares, so partial returns add up to the line's share exactly."""
    return share(line, before + count) - share(line, before)


def shipping_paid(order: Order, lines: list[OrderLine]) -> int:
    """What the buyer paid for shipping: the shipping less the discount not on lines
    (free shipping)."""
    off_lines = max(order.discount_total - sum(line.discount for line in lines), 0)
    return max(order.shipping_total - off_lines, 0)


def _legacy_items(request: OrderRequest, lines: list[OrderLine]) -> list[ReturnItem]:
    """A return asked for before items: its lines, whole (stored now as items)."""
    ids = set(json.loads(request.details or "{}").get("lines", []))
    return [ReturnItem.create(request=request.id, order_line=line.id, quantity=line.quantity,
                              reason="other", note=request.reason[:300] or "")
            for line in lines if line.id in ids and line.quantity > 0]


def receive(request: OrderRequest, order: Order, *, seller: User, version: int,
            received: dict[int, int] | None = None, refund_shipping: bool = False) -> int:
    """The parcel came back: ``received`` (line id → items found; default: what was
    asked) go back on the shelf and their share is refunded, with the shipping if asked
    and not refunded before. Returns the amount refunded (minor units).

    One conditional update takes the request from approved to completed, so of two
    submits only one refunds. The order becomes Returned once every item is back;
    otherwise it stays Delivered, partly returned."""
    actions.receive(request).check()
    with database.atomic():
        order = lock(order.id)
        won = (OrderRequest.update(status=COMPLETED)
               .where((OrderRequest.id == request.id) & (OrderRequest.status == APPROVED))
               .execute())
        if not won:
            raise RequestRefused("return.already_received",
                                 "This return was already received; nothing was changed.")
        if order.version != version:  # the seller's form is older than the order
            raise StaleOrder(order.number)
        lines = fulfilment.lines_of(order)
        by_id = {line.id: line for line in lines}
        items = items_of([request.id])[request.id] or _legacy_items(request, lines)
        before = taken_back(order, excluding=request.id)
        got: dict[int, int] = {}
        for item in items:
            wanted = item.quantity if received is None else received.get(item.order_line_id, 0)
            if not 0 <= wanted <= item.quantity:
                raise BadInput("return.bad_received", f"{by_id[item.order_line_id].product_name}: "
                               f"from 0 to {item.quantity} came back.")
            got[item.order_line_id] = got.get(item.order_line_id, 0) + wanted
            ReturnItem.update(received=wanted).where(ReturnItem.id == item.id).execute()
        amount = sum(line_refund(by_id[i], before.get(i, 0), n) for i, n in got.items()
                     if i in by_id)
        shipping = 0
        if refund_shipping and not shipping_refunded(order, excluding=request.id):
            shipping = shipping_paid(order, lines)
        back = sum(got.values())
        everything = sum(line.quantity for line in lines)
        returned_count = order.returned_count + back
        fulfilment.restock([OrderLine(variant=by_id[i].variant_id, quantity=n)
                            for i, n in got.items() if n and i in by_id])
        refunded = 0
        if ledger.has_ledger(order.id):
            refunded = min(amount + shipping, ledger.totals_of(order.id).refundable)
            ledger.request(order, ledger.Kind.REFUND, refunded, reason="return received")
        elif amount + shipping:  # an order from before the ledger
            refunded = amount + shipping
            update_order(order, payment_status=(
                PaymentStatus.REFUNDED if returned_count >= everything
                else PaymentStatus.PARTIALLY_REFUNDED).value)
        shipping = min(shipping, refunded)
        OrderRequest.update(refunded=refunded, shipping_refunded=shipping).where(
            OrderRequest.id == request.id).execute()
        update_order(order, returned_count=returned_count)
        money = format_money(refunded, order.currency)
        words = (f"Return received: {back} item{'s' if back != 1 else ''} back; "
                 + (f"refund of {money}" if refunded else "nothing to refund")
                 + (" (with the shipping)" if shipping else ""))
        record(order, "return_received", words, actor=seller, actor_role="seller",
               amount=refunded, currency=order.currency)
        if back and returned_count >= everything:
            transition(order, Status.RETURNED, actor=seller, actor_role="seller",
                       reason="every item is back")
        request.status, request.refunded, request.shipping_refunded = COMPLETED, refunded, shipping
    return refunded


def taken_back(order: Order, excluding: int | None = None) -> dict[int, int]:
    """Line id → items received back by earlier returns."""
    query = (ReturnItem.select(ReturnItem.order_line, fn.SUM(ReturnItem.received))
             .join(OrderRequest)
             .where((OrderRequest.order == order.id) & (OrderRequest.status == COMPLETED)
                    & ReturnItem.received.is_null(False)))
    if excluding is not None:
        query = query.where(OrderRequest.id != excluding)
    return {line_id: int(n or 0) for line_id, n in query.group_by(ReturnItem.order_line).tuples()}


def shipping_refunded(order: Order, excluding: int | None = None) -> bool:
    query = OrderRequest.select().where((OrderRequest.order == order.id)
                                        & (OrderRequest.shipping_refunded > 0))
    if excluding is not None:
        query = query.where(OrderRequest.id != excluding)
    return query.exists()


def refunded_by_returns(requests: list[OrderRequest]) -> int:
    return sum(r.refunded for r in requests if r.kind == "return")
