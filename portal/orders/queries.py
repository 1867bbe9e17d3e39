"""Reading orders: lists with keyset pagination, tab counts, spending, detail.

Every function takes the id of the person asking and only ever returns that
person's orders; the views never build order queries of their own. Each list
costs a fixed number of queries, whatever the number of rows.
"""

import hashlib
from collections import namedtuple
from dataclasses import dataclass, field
from datetime import date, datetime

from peewee import JOIN, Case, Tuple, fn

from portal.db import is_sqlite, prepared
from portal.models import (Order, OrderEvent, OrderLine, Product, Shipment, ShipmentLine, Shop,
                           TrackingEvent, User, Variant)
from portal.orders import search
from portal.orders.lifecycle import SPENDING_STATUSES, Status
from portal.orders.numbers import normalise


class BadCursor(ValueError):
    """A page link that was not made by :func:`encode_cursor`."""


def encode_cursor(order: Order, sort=Order.placed_at) -> str:
    value = getattr(order, sort.name)
    text = f"{value:%Y%m%d%H%M%S%f}" if isinstance(value, datetime) else str(value)
    return f"{text}.{order.id}"


# Cursors carry database integers: anything outside 64 bits is not one of ours
# (and would overflow SQLite's and PostgreSQL's integers into a 500).
_MAX_INT = 2**63 - 1


def _bounded_int(text: str) -> int:
    if not (text.isascii() and text.lstrip("-").isdigit()) or len(text) > 20:
        raise ValueError(text)
    number = int(text)
    if not -_MAX_INT <= number <= _MAX_INT:
        raise ValueError(text)
    return number


def decode_cursor(text: str, sort=Order.placed_at) -> tuple:
    try:
        value, _, ident = text.partition(".")
        if sort.field_type == "DATETIME":
            return datetime.strptime(value, "%Y%m%d%H%M%S%f"), _bounded_int(ident)
        return _bounded_int(value), _bounded_int(ident)
    except ValueError:
        raise BadCursor(text) from None


@dataclass
class Page:
    """One page of a list, with the cursors of its neighbours."""

    rows: list
    newer: str | None = None  # cursor for the page before this one
    older: str | None = None  # cursor for the page after this one


def keyset_page(query, *, before: str | None, after: str | None, limit: int,
                sort=Order.placed_at, descending: bool = True, row=None) -> Page:
    """Run ``query`` (orders, unsorted) for one page sorted by ``sort`` then id.

    ``before`` continues down the list from a cursor, ``after`` goes back up;
    both are index range scans on (sort, id), so page 10,000 costs what page 1
    costs. Newest first is ``sort=placed_at, descending=True``. ``row``, when
    given, turns each of the query's tuples into the page's row (which has ``id``
    and the sort column).
    """
    key = Tuple(sort, Order.id)
    down = [sort.desc(), Order.id.desc()] if descending else [sort.asc(), Order.id.asc()]
    up = [sort.asc(), Order.id.asc()] if descending else [sort.desc(), Order.id.desc()]
    if after:
        mark = Tuple(*decode_cursor(after, sort))
        rows = list(query.where(key > mark if descending else key < mark)
                    .order_by(*up).limit(limit + 1))
        has_newer, has_older = len(rows) > limit, True
        rows = rows[:limit][::-1]
    else:
        if before:
            mark = Tuple(*decode_cursor(before, sort))
            query = query.where(key < mark if descending else key > mark)
        rows = list(query.order_by(*down).limit(limit + 1))
        has_newer, has_older = bool(before), len(rows) > limit
        rows = rows[:limit]
    if row is not None:
        rows = [row(r) for r in rows]
    return Page(
        rows=rows,
        newer=encode_cursor(rows[0], sort) if rows and has_newer else None,
        older=encode_cursor(rows[-1], sort) if rows and has_older else None,
    )


class _RowBadges:
    """What the status badge asks of a list row, as :class:`Order` answers it."""

    __slots__ = ()
    partially_shipped = Order.partially_shipped
    partly_returned = Order.partly_returned


# A list row holds the columns its page shows, not a model: peewee builds a full
# ``Order`` (40 columns, three timestamps) for about 0.1 ms, a tuple for a tenth of it.
ROW_COLUMNS = (Order.id, Order.number, Order.status, Order.placed_at, Order.total,
               Order.currency, Order.item_summary, Order.item_count, Order.shipped_count,
               Order.returned_count, Order.estimated_delivery, Order.delay_note)
_ROW_FIELDS = tuple(c.name for c in ROW_COLUMNS)
ShopRef = namedtuple("ShopRef", "id name handling_days timezone")


def row_type(name: str, extra: tuple[str, ...], doc: str) -> type:
    """A list row's class: ``ROW_COLUMNS``, then ``extra``, with the status badge's answers."""
    base = namedtuple(name, _ROW_FIELDS + extra)
    return type(name, (base, _RowBadges), {"__slots__": (), "__doc__": doc})


BuyerRow = row_type("BuyerRow", ("buyer_unread", "shop"),
                    "One order on the buyer's Orders list, with its shop (a ShopRef).")

_BUYER_COLUMNS = ROW_COLUMNS + (Order.buyer_unread, Shop.id, Shop.name, Shop.handling_days,
                                Shop.timezone)
_SHOP_AT = len(ROW_COLUMNS) + 1


def _buyer_row(values: tuple) -> BuyerRow:
    return BuyerRow(*values[:_SHOP_AT], ShopRef(*values[_SHOP_AT:]))


def number_starts(number: str):
    """Orders whose number starts with ``number`` (normalised).

    On SQLite an id set read from the unique index on number (GLOB, unlike LIKE,
    reads it as a range), so that a list testing its rows against it needs no table
    row for that; on PostgreSQL the plain test, which its planner places itself."""
    if is_sqlite():  # a normalised number holds only 0-9, A-Z and "-": nothing GLOB reads
        return Order.id.in_(Order.select(Order.id).where(Order.number % f"{number}*"))
    return Order.number.startswith(number)


def search_clause(text: str):
    """Match an order by number (prefix), shop name or product name (contains).

    Three characters or more go through the text index (``portal.orders.search``):
    the matching shops and line names are found first, then each of the buyer's
    orders is tested against those small sets. Shorter text, which no trigram index
    answers, is a ``LIKE`` on each of the buyer's own orders: bounded by them.
    """
    text = text.strip()
    if search.is_short(text):
        shops, names = Shop.name.contains(text), OrderLine.product_name.contains(text)
    else:
        shops = Order.shop.in_(search.shops_containing(text))
        names = search.line_name_contains(OrderLine.product_name, text)
    clause = shops
    if names is not None:  # None: no line carries such a name, so no line is read
        clause |= fn.EXISTS(
            OrderLine.select(OrderLine.id).where((OrderLine.order == Order.id) & names))
    number = normalise(text)
    if number:
        clause |= number_starts(number)
    return clause


def buyer_orders(buyer_id: int, *, status: Status | None = None, q: str = "",
                 before: str | None = None, after: str | None = None,
                 limit: int = 20) -> Page:
    """One page of the buyer's orders as :class:`BuyerRow`, newest first."""
    # The shop's handling time and clock ride along: "Running late" needs no query per row.
    query = (Order.select(*_BUYER_COLUMNS).join(Shop).where(Order.buyer == buyer_id)
             .tuples())
    if status:
        query = query.where(Order.status == status.value)
    if q.strip():
        query = query.where(search_clause(q))
    return keyset_page(query, before=before, after=after, limit=limit, row=_buyer_row)


def buyer_status_counts(buyer_id: int) -> dict[str, int]:
    """Orders per status for the buyer's tabs, plus ``"all"``: one query."""
    rows = (Order.select(Order.status, fn.COUNT(Order.id).alias("n"))
            .where(Order.buyer == buyer_id).group_by(Order.status).tuples())
    counts = {status.value: 0 for status in Status}
    counts.update(dict(rows))
    counts["all"] = sum(counts.values())
    return counts


@dataclass
class Spending:
    """What the buyer spent this month and this year, per currency and per shop."""

    month: dict[str, int] = field(default_factory=dict)  # currency -> minor units
    year: dict[str, int] = field(default_factory=dict)
    shops: list[tuple[str, str, int]] = field(default_factory=list)  # name, currency, year
    # The rest beyond the top shops, so a phone shows a short table: how many
    # shops, and their year's total per currency.
    other_shops: int = 0
    others: dict[str, int] = field(default_factory=dict)


def spending_summary(buyer_id: int, today: date, top: int = 5) -> Spending:
    """Add up the buyer's kept orders (not Cancelled or Returned): one query.

    The ``top`` shops by this year's spending are listed; the others are summed.
    """
    year_start = datetime(today.year, 1, 1)
    month_start = datetime(today.year, today.month, 1)
    in_month = Case(None, [(Order.placed_at >= month_start, Order.total)], 0)
    rows = (Order.select(Shop.name, Order.currency,
                         fn.SUM(Order.total).alias("year"), fn.SUM(in_month).alias("month"))
            .join(Shop)
            .where((Order.buyer == buyer_id) & (Order.placed_at >= year_start)
                   & Order.status.in_([s.value for s in SPENDING_STATUSES]))
            .group_by(Shop.id, Shop.name, Order.currency)
            .order_by(fn.SUM(Order.total).desc())
            .tuples())
    summary = Spending()
    for shop_name, currency, year_total, month_total in rows:
        summary.year[currency] = summary.year.get(currency, 0) + int(year_total)
        summary.month[currency] = summary.month.get(currency, 0) + int(month_total)
        if len(summary.shops) < top:
            summary.shops.append((shop_name, currency, int(year_total)))
        else:
            summary.other_shops += 1
            summary.others[currency] = summary.others.get(currency, 0) + int(year_total)
    return summary


def order_for_buyer(buyer_id: int, number: str) -> Order | None:
    """The buyer's order with this number (and its shop), or None for anyone else's."""
    return next(iter(_buyer_order(normalise(number), int(buyer_id))), None)


@prepared
def _buyer_order(number, buyer_id):
    return (Order.select(Order, Shop).join(Shop)
            .where((Order.number == number) & (Order.buyer == buyer_id)).limit(1))


def returnable():
    """SQL: whether an order line (joined to its variant and product) is one the shop
    takes back: its product is returnable, or gone from the catalogue."""
    return (Product.returnable == True) | Product.id.is_null()  # noqa: E712 (SQL)


@dataclass
class OrderDetail:
    order: Order
    lines: list
    timeline: list
    shipments: list  # each with .tracking (events, newest first) and .contents


def order_detail(order: Order, *, internal: bool = False) -> OrderDetail:
    """Lines (each with ``returnable``), timeline and packages of an order already
    checked for access.

    ``internal`` adds the seller-only events (notes, checklist). Five queries
    at most, whatever the number of lines, events or packages.
    """
    lines = list(_lines(order.id))
    timeline = list((_internal_timeline if internal else _timeline)(order.id))
    return OrderDetail(order=order, lines=lines, timeline=timeline,
                       shipments=shipments_with_tracking(order, lines))


@prepared
def _lines(order_id):
    return (OrderLine.select(OrderLine, returnable().alias("returnable"))
            .join(Variant, JOIN.LEFT_OUTER, on=(OrderLine.variant == Variant.id))
            .join(Product, JOIN.LEFT_OUTER, on=(Variant.product == Product.id))
            .where(OrderLine.order == order_id).order_by(OrderLine.id))


def _events(order_id):
    return (OrderEvent.select(OrderEvent, User.id, User.name)
            .join(User, JOIN.LEFT_OUTER, on=(OrderEvent.actor == User.id))
            .where(OrderEvent.order == order_id)
            .order_by(OrderEvent.created_at.desc(), OrderEvent.id.desc()))


_internal_timeline = prepared(_events)


@prepared
def _timeline(order_id):
    return _events(order_id).where(OrderEvent.internal == False)  # noqa: E712 (SQL)


def shipments_with_tracking(order: Order, lines: list[OrderLine] | None = None) -> list[Shipment]:
    """The order's parcels to the buyer (not the return parcels), each with ``.tracking``
    (its events, newest first) and ``.contents`` ((order line, quantity) pairs): three
    queries at most. ``lines``: all the order's lines, if the caller has them (the
    contents then name them instead of reading them again)."""
    shipments = list(_parcels_out(order.id))
    by_id = {s.id: s for s in shipments}
    for shipment in shipments:
        shipment.tracking, shipment.contents = [], []
    if shipments:
        for event in _events_out(order.id):
            by_id[event.shipment_id].tracking.append(event)
        if lines is not None:
            line_of = {line.id: line for line in lines}
            for shipment_id, line_id, quantity in _contents_out(order.id):
                by_id[shipment_id].contents.append((line_of[line_id], quantity))
            return shipments
        contents = (ShipmentLine.select(ShipmentLine, OrderLine).join(OrderLine)
                    .where(ShipmentLine.shipment.in_(list(by_id))).order_by(ShipmentLine.id))
        for item in contents:
            by_id[item.shipment_id].contents.append((item.order_line, item.quantity))
    return shipments


@prepared
def _parcels_out(order_id):
    return (Shipment.select().where((Shipment.order == order_id) & (Shipment.direction == "out"))
            .order_by(Shipment.shipped_at, Shipment.id))


@prepared
def _events_out(order_id):
    return (TrackingEvent.select(TrackingEvent).join(Shipment)
            .where((Shipment.order == order_id) & (Shipment.direction == "out"))
            .order_by(TrackingEvent.occurred_at.desc(), TrackingEvent.id.desc()))


@prepared
def _contents_out(order_id):
    return (ShipmentLine.select(ShipmentLine.shipment, ShipmentLine.order_line,
                                ShipmentLine.quantity).join(Shipment)
            .where((Shipment.order == order_id) & (Shipment.direction == "out"))
            .order_by(ShipmentLine.id).tuples())


def tracking_version(order: Order) -> tuple[str, datetime]:
    """An ETag and a Last-Modified time for the order's tracking block (1 query).

    They change whenever anything the block shows changes: the order's status
    or estimate, a parcel's status, estimate or label, or a new event.
    """
    rows = (Shipment.select(Shipment.id, Shipment.status, Shipment.estimated_delivery,
                            Shipment.updated_at, Shipment.shipped_at, Shipment.label_voided_at,
                            fn.COUNT(TrackingEvent.id), fn.MAX(TrackingEvent.id))
            .join(TrackingEvent, JOIN.LEFT_OUTER)
            .where(Shipment.order == order.id)
            .group_by(Shipment.id).order_by(Shipment.id).tuples())
    rows = list(rows)
    text = repr((order.status, order.estimated_delivery, order.version, rows))
    modified = max([order.updated_at] + [_as_time(r[3] or r[4]) for r in rows])
    return hashlib.sha1(text.encode()).hexdigest()[:20], modified


def _as_time(value) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value
