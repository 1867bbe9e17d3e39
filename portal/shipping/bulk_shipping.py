"""Bulk shipping from a CSV of ``order_number,carrier,tracking_number``.

Every row is checked before anything ships; the rows that pass ship (each with
all that is left of its order), the others change nothing and say why.
"""

from dataclasses import dataclass

from portal.csvfiles import BadFile, read_table
from portal.models import Order, Shipment, Shop, User
from portal.orders import fulfilment, holds
from portal.orders.lifecycle import StaleOrder, Status
from portal.orders.management import orders_by_number
from portal.orders.numbers import normalise
from portal.shipping import check_tracking_number

MAX_ROWS = 5000
HEADER = ["order_number", "carrier", "tracking_number"]


@dataclass
class RowResult:
    line: int  # line number in the file, as a spreadsheet shows it
    order_number: str
    carrier: str
    tracking_number: str
    ok: bool = False
    message: str = ""
    order: Order | None = None
    check: object = None


__all__ = ["BadFile", "read_rows", "check_rows", "ship_rows"]


def read_rows(data: bytes) -> list[RowResult]:
    """The upload's rows (:class:`BadFile` says what is wrong with a file it cannot read)."""
    rows = []
    for number, cells in read_table(data):
        if number == 1 and [c.lower() for c in cells[:3]] == HEADER:
            continue
        cells += [""] * (3 - len(cells))
        rows.append(RowResult(number, cells[0], cells[1].lower(), cells[2]))
        if len(cells) > 3 and any(cells[3:]):
            rows[-1].message = "Expected three columns: order_number, carrier, tracking_number."
    if not rows:
        raise BadFile("The file has no rows. Each row is: order_number,carrier,tracking_number.")
    if len(rows) > MAX_ROWS:
        raise BadFile(f"At most {MAX_ROWS:,} rows at a time; this file has {len(rows):,}.")
    return rows


def check_rows(shop: Shop, rows: list[RowResult]) -> list[RowResult]:
    """Decide for every row whether it can ship, without changing anything."""
    orders = orders_by_number(shop, [r.order_number for r in rows], limit=MAX_ROWS)
    used = {n: o for n, o in Shipment.select(Shipment.tracking_number, Order.number)
            .join(Order).where((Order.shop == shop.id) & Shipment.tracking_number.in_(
                [r.tracking_number.upper().replace(" ", "") for r in rows] or [""])).tuples()}
    held = holds.shipping_holds([o for o in orders.values() if o.status == Status.PROCESSED])
    seen: dict[str, int] = {}
    for row in rows:
        if row.message:
            continue
        order = orders.get(normalise(row.order_number))
        if not row.order_number:
            row.message = "The order number is missing."
        elif order is None:
            row.message = f"No order {row.order_number} in your shop."
        elif order.number in seen:
            row.message = f"Order {order.number} is already on line {seen[order.number]}."
        elif order.status == Status.PENDING:
            row.message = f"Order {order.number} is Pending: complete its checklist first."
        elif order.status != Status.PROCESSED:
            row.message = f"Order {order.number} is {Status(order.status).label}, not waiting to ship."
        elif order.id in held:
            row.message = held[order.id]
        elif not row.tracking_number:
            row.message = "The tracking number is missing."
        else:
            check = check_tracking_number(shop, row.carrier or None, row.tracking_number)
            if not check.valid:
                row.message = check.message
            elif check.tracking_number in used:
                row.message = (f"Tracking number {check.tracking_number} is already used "
                               f"for order {used[check.tracking_number]}.")
            else:
                row.ok, row.order, row.check = True, order, check
                used[check.tracking_number] = order.number  # once per file too
                row.message = f"Ready to ship with {check.carrier_name}."
        if order is not None:
            seen.setdefault(order.number, row.line)
    return rows


def ship_rows(rows: list[RowResult], *, actor: User) -> int:
    """Ship every checked row (all that is left of its order); return how many shipped."""
    shipped = 0
    for row in rows:
        if not row.ok:
            continue
        order, check = row.order, row.check
        package = fulfilment.Package(fulfilment.remaining(order), check.carrier_code, check.carrier_name,
                                     check.tracking_number, check.tracking_url)
        try:
            fulfilment.ship(order, package, version=order.version, actor=actor)
        except (StaleOrder, fulfilment.FulfilmentError) as exc:
            row.ok, row.message = False, str(exc)
            continue
        row.message = f"Shipped with {check.carrier_name}, tracking {check.tracking_number}."
        shipped += 1
    return shipped
