"""Fulfilment: the checklist, processing, shipping (in one or several packages),
delivery and cancellation, as the seller does them.

Every function takes the order version the seller's form was built from; if
someone changed the order since, :class:`~portal.orders.lifecycle.StaleOrder`
is raised and nothing is written. Rule breaks raise :class:`FulfilmentError`
with a code and a message for the seller; whether an action is open at all is
decided in :mod:`portal.orders.actions`, which the pages ask too.
"""

from dataclasses import dataclass, field

from peewee import Case

from portal.db import database
from portal.models import Order, OrderLine, Shipment, ShipmentLine, User, Variant, utcnow
from portal.orders import actions, balance, holds, ledger
from portal.orders.errors import FulfilmentError, OrderRefused
from portal.orders.lifecycle import PaymentStatus, Status, lock, record, transition, update_order

__all__ = ["FulfilmentError"]  # raised here; defined with the others in portal.orders.errors


def lines_of(order: Order) -> list[OrderLine]:
    return list(OrderLine.select().where(OrderLine.order == order.id).order_by(OrderLine.id))


def remaining(order: Order) -> dict[int, int]:
    """Order line id → how many of it are still to ship."""
    return {line.id: line.quantity - line.shipped_quantity for line in lines_of(order)}


def checklist_complete(order: Order, lines: list[OrderLine]) -> bool:
    return order.address_verified and all(line.picked for line in lines)


def save_checklist(order: Order, *, picked: set[int], address_verified: bool, version: int,
                   actor: User) -> None:
    """Tick (or untick) lines as picked and the address as verified (Pending orders only)."""
    actions.checklist(order).check()
    lines = lines_of(order)
    picked &= {line.id for line in lines}
    with database.atomic():
        update_order(order, version=version, address_verified=address_verified)
        OrderLine.update(picked=OrderLine.id.in_(list(picked) or [0])) \
            .where(OrderLine.order == order.id).execute()
        for line in lines:
            line.picked = line.id in picked
        done = len(picked)
        record(order, "checklist", f"Checklist: {done} of {len(lines)} lines picked, address "
               + ("verified" if address_verified else "not verified"),
               actor=actor, actor_role="seller", internal=True)


def process(order: Order, *, version: int, actor: User, lines: list | None = None) -> None:
    """Pending → Processed, once every line is picked and the address verified.

    ``lines`` are the order's lines if the caller has them (bulk actions load them
    for many orders at once)."""
    actions.process(order).check()
    if not checklist_complete(order, lines if lines is not None else lines_of(order)):
        raise FulfilmentError("process.checklist_incomplete",
                              f"Order {order.number}: tick every line and verify the "
                              "address before marking it processed.")
    transition(order, Status.PROCESSED, actor=actor, actor_role="seller", version=version)


def check_and_process(order: Order, *, picked: set[int], address_verified: bool, version: int,
                      actor: User) -> bool:
    """Save the checklist as ticked and, when it is complete, process the order: one step.

    Returns whether the order is now Processed; an incomplete checklist is still
    saved (what was ticked stays ticked) and the order stays Pending.
    """
    actions.checklist(order).check()
    with database.atomic():
        save_checklist(order, picked=picked, address_verified=address_verified, version=version,
                       actor=actor)
        lines = lines_of(order)
        if not checklist_complete(order, lines):
            return False
        process(order, version=order.version, actor=actor, lines=lines)
    return True


def confirm_and_process(order: Order, *, lines: list[OrderLine], actor: User) -> None:
    """Bulk "mark as processed": the seller confirms the whole checklist (every line
    picked, the address verified) for this order and processes it. The timeline says
    who confirmed it, and that it was done in bulk."""
    actions.process(order).check()
    with database.atomic():
        update_order(order, address_verified=True)
        OrderLine.update(picked=True).where(OrderLine.order == order.id).execute()
        for line in lines:
            line.picked = True
        record(order, "checklist", f"Checklist confirmed in bulk by {actor.name}: all "
               f"{len(lines)} line{'s' if len(lines) != 1 else ''} picked, address verified",
               actor=actor, actor_role="seller", internal=True)
        process(order, version=order.version, actor=actor, lines=lines)


def process_many(orders: list[Order], *, actor: User) -> tuple[list[str], list[tuple[str, str]]]:
    """Bulk "mark as processed": each ticked order that may be processed is, the seller
    confirming its checklist (:func:`confirm_and_process`). Returns the numbers
    processed, and (number, why not) for the others, in order-number order."""
    lines: dict[int, list[OrderLine]] = {}
    for line in OrderLine.select().where(OrderLine.order.in_([o.id for o in orders])):
        lines.setdefault(line.order_id, []).append(line)
    done, skipped = [], []
    for order in sorted(orders, key=lambda o: o.number):
        try:
            confirm_and_process(order, lines=lines.get(order.id, []), actor=actor)
        except OrderRefused as refused:
            skipped.append((order.number, refused.reason))
        else:
            done.append(order.number)
    return done, skipped


@dataclass(frozen=True)
class Package:
    """What goes into one parcel: order line id → quantity, and how it travels."""

    quantities: dict[int, int]
    carrier_code: str
    carrier_name: str
    tracking_number: str
    tracking_url: str = ""
    label: dict = field(default_factory=dict)  # Shipment label columns, when one was bought


def ship(order: Order, package: Package, *, version: int, actor: User) -> Shipment:
    """Send some or all of what is left to ship, in one package.

    The order stays Processed ("Partially shipped") until every item has left;
    the package that ships the last item moves it to Shipped.
    """
    actions.ship(order, hold=None).check()  # the hold is checked below, after the write
    lines = {line.id: line for line in lines_of(order)}
    wanted = {k: q for k, q in package.quantities.items() if q}
    for line_id, quantity in wanted.items():
        line = lines.get(line_id)
        if line is None:
            raise FulfilmentError("ship.unknown_line", "That item is not part of this order.")
        left = line.quantity - line.shipped_quantity
        if not 0 < quantity <= left:
            raise FulfilmentError("ship.too_many", f"{line.product_name} ({line.size}, "
                                  f"{line.colour}): {left} left to ship, not {quantity}.")
    if not wanted:
        raise FulfilmentError("ship.empty_package", "Choose at least one item for this package.")
    count = sum(wanted.values())
    shipped_count = order.shipped_count + count
    complete = shipped_count >= order.item_count
    now = utcnow()
    with database.atomic():
        update_order(order, version=version, shipped_count=shipped_count)
        # Checked after the write above: no request can arrive between check and ship.
        actions.ship(order, holds.shipping_hold(order)).check()
        shipment = Shipment.create(
            order=order.id, carrier_code=package.carrier_code, carrier_name=package.carrier_name,
            tracking_number=package.tracking_number, tracking_url=package.tracking_url,
            shipped_at=now, estimated_delivery=order.estimated_delivery, **package.label)
        ShipmentLine.insert_many(
            [{"shipment": shipment.id, "order_line": k, "quantity": q} for k, q in wanted.items()]
        ).execute()
        OrderLine.update(shipped_quantity=OrderLine.shipped_quantity + Case(
            OrderLine.id, [(k, q) for k, q in wanted.items()], 0)) \
            .where(OrderLine.id.in_(list(wanted))).execute()
        packages = Shipment.select().where((Shipment.order == order.id)
                                           & (Shipment.direction == "out")).count()
        what = "all items" if complete and packages == 1 else \
            f"{count} of {order.item_count} items"
        record(order, "shipped", f"Package {packages} shipped with {package.carrier_name}, "
               f"tracking {package.tracking_number} ({what})", actor=actor, actor_role="seller",
               at=now, shipment_id=shipment.id)
        holds.close_moot(order, ["modification"], "the order has shipped, so its items can "
                         "no longer change.", actor=actor)
        # The first package takes the money: the capture is written pending here, with the
        # shipment, and the plugin is asked after the commit (portal.payments).
        ledger.capture_on_shipping(order)
        if complete:
            transition(order, Status.SHIPPED, actor=actor, actor_role="seller")
    return shipment


def unship(order: Order, shipment: Shipment, *, actor: User | None,
           reason: str = "label voided") -> None:
    """Take a package back out of the order (its label was voided before pickup):
    its items are to ship again, and a Shipped order is Processed once more."""
    contents = list(ShipmentLine.select().where(ShipmentLine.shipment == shipment.id))
    count = sum(item.quantity for item in contents)
    with database.atomic():
        for item in contents:
            OrderLine.update(shipped_quantity=OrderLine.shipped_quantity - item.quantity) \
                .where(OrderLine.id == item.order_line_id).execute()
        ShipmentLine.delete().where(ShipmentLine.shipment == shipment.id).execute()
        if order.status == Status.SHIPPED:
            transition(order, Status.PROCESSED, actor=actor, actor_role="seller", reason=reason)
        update_order(order, shipped_count=max(order.shipped_count - count, 0))
        record(order, "unshipped", f"Package {shipment.tracking_number} {reason}: "
               f"{count} item{'s' if count != 1 else ''} to ship again", actor=actor,
               actor_role="seller")


# -- voiding a label: the carrier is asked once, however many posts arrive ---------

def claim_void(shipment: Shipment) -> bool:
    """Mark the label void before asking the carrier; False if someone else already did
    (one conditional update: of two posts at once, one claims it, the other is told)."""
    now = utcnow()
    won = (Shipment.update(label_voided_at=now, updated_at=now)
           .where((Shipment.id == shipment.id) & Shipment.label_voided_at.is_null())
           .execute())
    if won:
        shipment.label_voided_at = shipment.updated_at = now
    return bool(won)


def release_void(shipment: Shipment) -> None:
    """The carrier did not void the label after all: it stands again."""
    Shipment.update(label_voided_at=None).where(Shipment.id == shipment.id).execute()
    shipment.label_voided_at = None


def unship_voided(shipment: Shipment, *, actor: User | None) -> Order:
    """Take a claimed, voided package out of its order, on the order as it is now."""
    with database.atomic():
        order = lock(shipment.order_id)
        unship(order, shipment, actor=actor)
    return order


def mark_delivered(order: Order, *, version: int, actor: User) -> None:
    """Shipped → Delivered by the seller's word (carriers do it from tracking)."""
    actions.mark_delivered(order).check()
    with database.atomic():
        transition(order, Status.DELIVERED, actor=actor, actor_role="seller",
                   reason="marked delivered by the seller", version=version)
        if ledger.has_ledger(order.id):  # cash on delivery collected: captured now
            ledger.capture_on_delivery(order)
        elif order.payment_status == PaymentStatus.AUTHORISED:  # before the ledger
            update_order(order, payment_status=PaymentStatus.PAID.value)
        Shipment.update(status="delivered", delivered_at=utcnow()) \
            .where((Shipment.order == order.id) & Shipment.delivered_at.is_null()
                   & (Shipment.direction == "out")).execute()


def cancel(order: Order, *, reason: str, version: int, actor: User, actor_role: str) -> None:
    """Cancel an order that has not shipped: stock goes back, the payment is released."""
    reason = (reason or "").strip()
    if not reason:
        raise FulfilmentError("cancel.no_reason",
                              "Say why the order is cancelled; the buyer will see it.")
    actions.cancel(order).check()
    payment = {PaymentStatus.AUTHORISED: PaymentStatus.VOIDED,
               PaymentStatus.PAID: PaymentStatus.REFUNDED}.get(PaymentStatus(order.payment_status))
    with database.atomic():
        transition(order, Status.CANCELLED, actor=actor, actor_role=actor_role, reason=reason,
                   version=version)
        restock(lines_of(order))
        if ledger.has_ledger(order.id):  # void what is authorised, refund what was taken
            ledger.release(order, reason=f"order cancelled: {reason}")
        elif payment:  # an order from before the ledger
            update_order(order, payment_status=payment.value)
        holds.close_moot(order, list(holds.KINDS), "the order was cancelled.", actor=actor,
                         actor_role=actor_role)
        if order.balance_due:  # the seller's waiting change goes with it
            balance.call_off(order, actor=actor, actor_role=actor_role,
                             reason="the order was cancelled")


def restock(lines: list[OrderLine]) -> None:
    """Put the lines' quantities back on their variants' stock."""
    for line in lines:
        if line.variant_id:
            Variant.update(stock=Variant.stock + line.quantity) \
                .where(Variant.id == line.variant_id).execute()
