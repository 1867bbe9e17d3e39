"""What buyers ask of sellers after the purchase, and the sellers' answers.

A buyer cancels a Pending order and changes its address at once; once the order
is Processed those become requests to the seller, and never once it has
shipped. Modifications (size, colour, quantity) are asked for inside the shop's
modification window, returns inside its return window. The seller approves or
refuses each; an approval applies the change through the same functions the
seller's own edits use, so stock, prices and the timeline follow.
"""

import json
from dataclasses import dataclass, field
from datetime import date, datetime

from peewee import JOIN, IntegrityError

from portal.addresses import AddressCheck
from portal.db import database, prepared
from portal.models import Order, OrderLine, OrderRequest, Product, Shop, User, Variant, utcnow
from portal.orders import actions, editing, fulfilment, messages, queries, returns
from portal.orders.actions import (NEEDS_SELLER, delivered_on,  # noqa: F401 (the buyer's windows)
                                   modification_deadline, return_deadline)
from portal.orders.errors import BadInput, RequestRefused
from portal.orders.holds import APPROVED, CLOSED, COMPLETED, KINDS, OPEN, REFUSED  # noqa: F401
from portal.orders.lifecycle import PaymentStatus, Status, lock, record, transition, update_order


def requests_of(order: Order) -> list[OrderRequest]:
    return list(_requests_of(order.id))


@prepared
def _requests_of(order_id):
    return (OrderRequest.select().where(OrderRequest.order == order_id)
            .order_by(OrderRequest.created_at.desc(), OrderRequest.id.desc()))


def _already_asked(kind: str) -> RequestRefused:
    verdict = actions.already_asked(kind)
    return RequestRefused(verdict.code, verdict.message)


def _open(order: Order, kind: str, buyer: User, reason: str = "", details=None) -> OrderRequest:
    """Open a request: at most one of each kind waits per order (the database's unique
    index decides between two posts that race). The order's version moves on, so a
    seller's form built before the request arrived is stale and says so."""
    if OrderRequest.select().where((OrderRequest.order == order.id) & (OrderRequest.kind == kind)
                                   & OrderRequest.status.in_(NEEDS_SELLER)).exists():
        raise _already_asked(kind)
    reason = (reason or "").strip()
    try:
        with database.atomic():
            request = OrderRequest.create(order=order.id, shop=order.shop_id, kind=kind,
                                          reason=reason[:500], created_by=buyer,
                                          details=json.dumps(details or {}))
            update_order(order, stamp=False)
            record(order, "request", f"Asked the shop for: {KINDS[kind].lower()}"
                   + (f" ({reason})" if reason else ""), actor=buyer, actor_role="buyer",
                   opened=kind)
            # The conversation carries the request's words, and the answer's (decide).
            messages.from_request(order, buyer, messages.BUYER,
                                  f"{KINDS[kind]}: {reason}" if reason else "")
    except IntegrityError:
        raise _already_asked(kind) from None
    return request


# -- the buyer ------------------------------------------------------------------

def buyer_cancel(order: Order, *, buyer: User, reason: str, version: int) -> str:
    """Cancel a Pending order now ("cancelled"), or ask the seller once it is Processed
    ("requested")."""
    if actions.buyer_cancel(order).check().at_once:
        fulfilment.cancel(order, reason=reason or "cancelled by the buyer", version=version,
                          actor=buyer, actor_role="buyer")
        return "cancelled"
    _open(order, "cancellation", buyer, reason)
    return "requested"


def buyer_change_address(order: Order, check: AddressCheck, *, buyer: User,
                         version: int) -> str:
    """A new address: applied at once while Pending ("changed"), asked of the seller
    once Processed ("requested"), never once shipped."""
    if actions.change_address(order).check().at_once:
        editing.change_address(order, check, version=version, actor=buyer, actor_role="buyer")
        return "changed"
    if editing.address_of(order) == check.address:
        raise RequestRefused("address.unchanged", "That is the address the order already has.")
    _open(order, "address_change", buyer, details=check.address)
    return "requested"


def buyer_modify(order: Order, shop: Shop, changes: dict[int, tuple[int, int]], *,
                 buyer: User, reason: str, now: datetime) -> None:
    """Ask for other sizes, colours or quantities, inside the modification window."""
    actions.ask_modification(order, shop, now).check()
    lines = fulfilment.lines_of(order)
    choices = editing.variant_choices(lines)
    wanted = {}
    for line in lines:
        variant_id, quantity = changes.get(line.id, (line.variant_id, line.quantity))
        if (variant_id, quantity) == (line.variant_id, line.quantity):
            continue
        variant = next((v for v in choices[line.id] if v.id == variant_id), None)
        if variant is None or not 0 <= quantity <= 99:
            raise BadInput("form.bad_line", f"{line.product_name}: choose one of its sizes "
                           "and colours and a quantity from 0 to 99.")
        # What the shop has: its stock, plus what this line already set aside.
        available = variant.stock + (line.quantity if variant.id == line.variant_id else 0)
        if quantity > available:
            raise RequestRefused("modify.out_of_stock", f"{line.product_name} ({variant.size}, "
                                 f"{variant.colour}): only {available} available, not {quantity}.")
        wanted[str(line.id)] = [variant_id, quantity]
    if not wanted:
        raise BadInput("form.nothing_changed", "Change a size, colour or quantity first.")
    if not any(changes.get(line.id, (None, line.quantity))[1] for line in lines):
        raise RequestRefused("modify.no_items", "To remove everything, cancel the order instead.")
    _open(order, "modification", buyer, reason, details=wanted)


def returnable_lines(order: Order, lines: list[OrderLine] | None = None) -> list[OrderLine]:
    """The lines the shop's return policy takes back (not its non-returnable products);
    of ``lines`` if the caller has them from :func:`portal.orders.queries.order_detail`
    (which reads each line's ``returnable``), else one query."""
    if lines is not None:
        return [line for line in lines if line.returnable]
    return list(OrderLine.select(OrderLine)
                .join(Variant, JOIN.LEFT_OUTER, on=(OrderLine.variant == Variant.id))
                .join(Product, JOIN.LEFT_OUTER, on=(Variant.product == Product.id))
                .where((OrderLine.order == order.id) & queries.returnable())
                .order_by(OrderLine.id))


def buyer_return(order: Order, shop: Shop, *, buyer: User, today: date,
                 items: list[returns.Wanted] | None = None, reason: str = "") -> OrderRequest:
    """Ask to send items of a Delivered order back, inside the shop's return window:
    ``items`` (line, quantity, reason each; see :func:`portal.orders.returns.check`), or
    without them every returnable item not yet returned, for ``reason``."""
    actions.request_return(order, shop, today).check()
    lines = [line for line in returnable_lines(order) if line.quantity > 0]
    if not lines:
        raise RequestRefused("return.not_returnable", "The shop does not take these products back.")
    if items is None:
        if not (reason or "").strip():
            raise BadInput("form.no_reason", "Tell the shop why you are returning it.")
        left = returns.available(lines, order)
        items = [returns.Wanted(line.id, left[line.id], "other", reason.strip())
                 for line in lines if left[line.id]]
    chosen = returns.check(lines, order, items)
    with database.atomic():
        request = _open(order, "return", buyer, returns.summary(lines, chosen),
                        details={"lines": [item.line_id for item in chosen]})
        returns.add_items(request, chosen)
    return request


# -- the seller -----------------------------------------------------------------

@dataclass
class Asked:
    """What a request asks for, in the order's terms, for both sides to read.

    ``address``: the new address (an unsaved order carrying only the ``ship_*``
    fields, so templates lay it out like the current one); ``changes``: for each
    changed line, (what the order has, what the buyer asked for); ``difference``:
    what the modification does to the total (minor units, + is more to pay);
    ``items``: the lines of a return.
    """

    kind: str
    address: Order | None = None
    changes: list[tuple[str, str]] = field(default_factory=list)
    difference: int = 0
    items: list[str] = field(default_factory=list)


def describe(requests: list[OrderRequest], lines: list[OrderLine]) -> dict[int, Asked]:
    """Request id → what it asks for (one query for all the modifications' variants)."""
    details = {r.id: json.loads(r.details or "{}") for r in requests}
    wanted_ids = {v for r in requests if r.kind == "modification"
                  for v, _ in details[r.id].values()}
    variants = ({v.id: v for v in Variant.select().where(Variant.id.in_(list(wanted_ids)))}
                if wanted_ids else {})
    by_id = {line.id: line for line in lines}
    items = returns.items_of([r.id for r in requests if r.kind == "return"])
    found = {}
    for r in requests:
        asked, data = Asked(r.kind), details[r.id]
        if r.kind == "address_change":
            asked.address = Order(**{column: data.get(key, "")
                                     for key, column in editing.ADDRESS_COLUMNS.items()})
        elif r.kind == "modification":
            for line_id, (variant_id, quantity) in data.items():
                line, v = by_id.get(int(line_id)), variants.get(variant_id)
                if line is None:
                    continue
                if v is None:
                    asked.changes.append((editing.describe_line(line), "no longer sold"))
                    continue
                asked.changes.append((editing.describe_line(line),
                                      "removed" if quantity == 0 else
                                      f"{line.product_name} ({v.size}, {v.colour}) × {quantity}"))
                asked.difference += quantity * v.price - line.line_total
        elif r.kind == "return":
            asked.items = ([returns.describe_item(item.order_line, item)
                            for item in items[r.id]] if items.get(r.id) else
                           [editing.describe_line(by_id[i]) for i in data.get("lines", [])
                            if i in by_id])
        found[r.id] = asked
    return found


def _answered(request: OrderRequest) -> RequestRefused:
    """The refusal for the one who lost the race to answer ``request``: the request
    as it is now, and who answered it."""
    now = OrderRequest.get_or_none(OrderRequest.id == request.id)
    verdict = actions.answer(now or OrderRequest(status="deleted"))
    who = f" by {now.decided_by.name}" if now and now.decided_by_id else ""
    return RequestRefused(verdict.code, verdict.message.replace(";", f"{who};", 1)
                          + " Here is the order as it is now.")


def decide(request: OrderRequest, order: Order, *, approve: bool, seller: User,
           response: str = "") -> None:
    """Approve (and apply) or refuse an open request; the buyer sees the answer.

    Answering is one conditional update (``... WHERE status = 'open'``) in the same
    transaction as applying it: of two answers at once, one wins and the other is
    told, and the request never says Refused of an order its approval cancelled.
    """
    if not actions.answer(request):
        raise _answered(request)
    response = (response or "").strip()[:500]
    if not approve and not response:
        raise BadInput("form.no_reason", "Tell the buyer why you refuse.")
    if approve and request.kind == "return" and not returns.has_return_address(order.shop):
        raise RequestRefused("return.no_address", "Add your return address (or a ship-from "
                             "address) in Settings first: the buyer needs to know where to "
                             "send the items.")
    name = KINDS[request.kind].lower()
    status = (APPROVED if approve and request.kind == "return"
              else COMPLETED if approve else REFUSED)
    with database.atomic():
        lock(order.id)  # the order before its requests, as every writer takes them
        won = (OrderRequest.update(status=status, decided_by=seller, decided_at=utcnow(),
                                   response=response)
               .where((OrderRequest.id == request.id) & (OrderRequest.status == OPEN))
               .execute())
        if not won:
            raise _answered(request)
        if approve:
            _apply(request, order, seller)
        request.status, request.decided_by, request.response = status, seller, response
        verdict = "approved" if approve else "refused"
        record(order, "request", f"Request for {name} {verdict}"
               + (f": {response}" if response else "")
               + (" — send the items back to " + returns.address_text(
                   returns.return_address(order.shop)) if approve and request.kind == "return"
                  else ""),
               actor=seller, actor_role="seller")
        messages.from_request(order, seller, messages.SELLER,
                              f"{KINDS[request.kind]} {verdict}: {response}" if response else "")


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
                             version=order.version, actor=seller, request_id=request.id)


def receive_return(request: OrderRequest, order: Order, *, seller: User, version: int,
                   received: dict[int, int] | None = None, refund_shipping: bool = False) -> int:
    """The returned parcel arrived: see :func:`portal.orders.returns.receive`."""
    return returns.receive(request, order, seller=seller, version=version, received=received,
                           refund_shipping=refund_shipping)
