"""Order Management: the seller's view of the shop's orders.

Lists with status tabs (and the derived "Delayed"), search, date range and
sorting, all on keyset pages; the dashboard's figures; the CSV export. Every
function takes the shop and never returns another shop's orders.
"""

from collections import namedtuple
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from peewee import fn

from portal.db import database, is_sqlite

from portal.models import (Order, OrderLine, OrderRequest, Product, Shipment, Shop,
                           ShopStatusCount, User, Variant)
from portal.money import to_decimal
from portal.orders import search
from portal.orders.lifecycle import Status
from portal.orders.numbers import normalise
from portal.orders.queries import (ROW_COLUMNS, Page, keyset_page, number_starts,
                                   row_type)

DELAYED = "delayed"
REQUESTS = "requests"  # orders with a buyer request the seller has to act on
TABS = [("", "All")] + [(s.value, s.label) for s in Status] + [(DELAYED, "Delayed"),
                                                                (REQUESTS, "Requests")]
SORTS = {  # name: (label, column, descending)
    "newest": ("Newest first", Order.placed_at, True),
    "oldest": ("Oldest first", Order.placed_at, False),
    "total_high": ("Highest total", Order.total, True),
    "total_low": ("Lowest total", Order.total, False),
}


@dataclass(frozen=True)
class Filters:
    status: str = ""  # a Status value, DELAYED, or "" for all
    q: str = ""
    placed_from: datetime | None = None  # inclusive
    placed_to: datetime | None = None  # exclusive
    sort: str = "newest"


def delayed_clause(shop: Shop, now: datetime):
    """Late by the shop's own promise: not shipped within the handling time,
    or shipped and past the estimated delivery date."""
    cutoff = now - timedelta(days=shop.handling_days)
    waiting = Order.status.in_([Status.PENDING.value, Status.PROCESSED.value])
    late = ((waiting & (Order.placed_at < cutoff))
            | ((Order.status == Status.SHIPPED.value) & (Order.estimated_delivery < now.date())))
    # The outer IN lets SQLite answer each arm from its own (shop, status, ...) index
    # (a "multi-index OR": 0.3 ms for a 10,000-order shop instead of 47 ms).
    return Order.status.in_([Status.PENDING.value, Status.PROCESSED.value,
                             Status.SHIPPED.value]) & late


def is_delayed(order: Order, shop: Shop, now: datetime) -> bool:
    if order.status in (Status.PENDING, Status.PROCESSED):
        return order.placed_at < now - timedelta(days=shop.handling_days)
    return order.status == Status.SHIPPED and order.estimated_delivery is not None \
        and order.estimated_delivery < now.date()


def requests_needing_action(shop: Shop):
    """The shop's requests to decide (open) or to finish (an approved return to receive)."""
    return OrderRequest.select().where((OrderRequest.shop == shop.id)
                                       & OrderRequest.status.in_(["open", "approved"]))


def search_clause(shop: Shop, text: str):
    """Match by order number (prefix), buyer e-mail or name, product, tracking number.

    Each kind of match is a subquery run once, so the shop's orders are tested
    against small sets instead of a per-order scan of their lines. Buyers and
    products are found through the text index (``portal.orders.search``). Text
    shorter than three characters, which no trigram index answers, matches the
    order number, the tracking number and the shop's own product names (a scan of
    its catalogue), not buyers: that would be a scan of every person.
    """
    text = text.strip()
    clause = (Order.id.in_(_product_orders(shop, text))
              | Order.id.in_(_tracked_orders(text)))
    buyers = None if search.is_short(text) else _buyers_clause(text)
    if buyers is not None:
        clause |= buyers
    number = normalise(text)
    if number:
        clause |= number_starts(number)
    return clause


def _product_orders(shop: Shop, text: str):
    """Ids of the orders with a line of the shop's products whose name has ``text``
    (read from the lines' (variant, order) index alone)."""
    variants = Variant.select(Variant.id).where(Variant.product.in_(_products(shop, text)))
    return OrderLine.select(OrderLine.order).where(OrderLine.variant.in_(variants))


def _products(shop: Shop, text: str):
    if search.is_short(text):  # a scan of the shop's own catalogue
        return Product.select(Product.id).where((Product.shop == shop.id)
                                                & Product.name.contains(text))
    return search.products_containing(shop.id, text)


def _tracked_orders(text: str):
    return Shipment.select(Shipment.order).where(
        Shipment.tracking_number == text.upper().replace(" ", ""))


FEW_ORDERS = 500  # matches up to which a search lists the orders from their ids


def search_order_ids(shop: Shop, text: str) -> list[int] | None:
    """The ids of the shop's orders a search matches, when there are at most
    ``FEW_ORDERS`` of them (one statement that stops there), so that the list reads
    just those; ``None`` when there are more, or the text names more than
    ``FEW_BUYERS`` people, and the list walks the shop's orders testing
    :func:`search_clause` instead: dense matches fill a page early.

    SQLite only: without statistics its planner walks the shop's index testing each
    order against even a handful of ids (about 10,000 index entries in a big shop);
    PostgreSQL weighs the two plans from its own statistics (``None`` there).
    """
    if not is_sqlite():
        return None
    text = text.strip()
    people = [] if search.is_short(text) else search.user_ids_containing(text, FEW_BUYERS + 1)
    if len(people) > FEW_BUYERS:
        return None
    # Written as SQL: peewee spent about 3 ms building this nest of subqueries per
    # search, five times what SQLite takes to run it. "+ 0": see _kept_to.
    products, params = _products(shop, text).sql()
    arms = [f'SELECT "order_id" FROM "order_line" WHERE "variant_id" IN (SELECT "id" '
            f'FROM "variant" WHERE "product_id" IN ({products}))',  # the shop's own lines
            'SELECT "o"."id" FROM "shipment" AS "s" JOIN "orders" AS "o" ON "o"."id" = '
            '"s"."order_id" WHERE "s"."tracking_number" = ? AND "o"."shop_id" + 0 = ?']
    params += [text.upper().replace(" ", ""), shop.id]
    if people:  # (the buyer index holds the shop: read from the index alone)
        arms.append(f'SELECT "id" FROM "orders" WHERE "buyer_id" IN '
                    f'({", ".join("?" * len(people))}) AND "shop_id" + 0 = ?')
        params += [*people, shop.id]
    number = normalise(text)
    if number:  # the number's prefix as a range of its unique index (GLOB, unlike LIKE)
        arms.append('SELECT "id" FROM "orders" WHERE "number" GLOB ? AND "shop_id" + 0 = ?')
        params += [f"{number}*", shop.id]
    # UNION ALL stops at the limit; an order matched twice counts twice, which only
    # sends a borderline search to the walk
    found = [row[0] for row in database.execute_sql(
        " UNION ALL ".join(arms) + " LIMIT ?", [*params, FEW_ORDERS + 1])]
    return None if len(found) > FEW_ORDERS else sorted(set(found))


def _kept_to(shop: Shop):
    """The shop test for orders found another way (by id, by buyer): the "+ 0" keeps
    SQLite from walking the shop's index and testing each of its orders instead."""
    return (Order.shop + 0) == shop.id


FEW_BUYERS = 200  # people matching a search, past which their orders are not listed first


def _buyers_clause(text: str):
    """Orders from people whose name or e-mail contains ``text``, for a query that
    joins the buyer (:func:`filtered`) and keeps to the shop's orders.

    On SQLite the index is asked first, for at most ``FEW_BUYERS + 1`` people (a read
    that stops there). Few (a name, an address): their orders are an id set read
    from the buyer index, so the list tests each of the shop's orders from its own
    index alone, no table row; a rare name costs about what a tab costs. Many
    ("buyer5" is 11,000 people, "example.com" all of them): their orders are dense
    in the list, so the walk down the shop's orders tests the joined buyer's name
    and e-mail and stops at the page's end, instead of first listing every match.
    None: nobody matches.
    """
    if is_sqlite():
        ids = search.user_ids_containing(text, FEW_BUYERS + 1)
        if not ids:
            return None
        if len(ids) <= FEW_BUYERS:
            # (no shop test inside: SQLite would read the shop's index for it instead)
            return Order.id.in_(Order.select(Order.id).where(Order.buyer.in_(ids)))
        return User.name.contains(text) | User.email.contains(text)
    return Order.buyer.in_(search.users_containing(text))


def filtered(shop: Shop, filters: Filters, now: datetime, *columns, ids=None):
    """The shop's orders (with their buyer) that pass ``filters``, unsorted; with
    ``ids`` (what :func:`search_order_ids` found), those orders instead of a search."""
    query = (Order.select(*(columns or (Order, User.id, User.name, User.email)))
             .join(User, on=(Order.buyer == User.id)))
    if ids is None:
        query = query.where(Order.shop == shop.id)
    else:
        query = query.where(Order.id.in_(ids) & _kept_to(shop))
    if filters.status == DELAYED:
        query = query.where(delayed_clause(shop, now))
    elif filters.status == REQUESTS:
        query = query.where(Order.id.in_(
            requests_needing_action(shop).select(OrderRequest.order)))
    elif filters.status:
        query = query.where(Order.status == filters.status)
    if filters.q and ids is None:
        query = query.where(search_clause(shop, filters.q))
    if filters.placed_from:
        query = query.where(Order.placed_at >= filters.placed_from)
    if filters.placed_to:
        query = query.where(Order.placed_at < filters.placed_to)
    return query


BuyerRef = namedtuple("BuyerRef", "id name email")
SellerRow = row_type("SellerRow", ("seller_unread", "buyer"),
                     "One order on Order Management's list, with its buyer (a BuyerRef).")
_SELLER_COLUMNS = ROW_COLUMNS + (Order.seller_unread, User.id, User.name, User.email)
_BUYER_AT = len(ROW_COLUMNS) + 1


def _seller_row(values: tuple):
    return SellerRow(*values[:_BUYER_AT], BuyerRef(*values[_BUYER_AT:]))


def shop_orders(shop: Shop, filters: Filters, now: datetime, *, before: str | None = None,
                after: str | None = None, limit: int = 50) -> Page:
    """One page of the shop's orders as ``SellerRow`` (the list's columns, no model)."""
    _, column, descending = SORTS[filters.sort]
    ids = search_order_ids(shop, filters.q) if filters.q else None
    query = filtered(shop, filters, now, *_SELLER_COLUMNS, ids=ids).tuples()
    return keyset_page(query, before=before, after=after, limit=limit,
                       sort=column, descending=descending, row=_seller_row)


def status_counts(shop: Shop, now: datetime) -> dict[str, int]:
    """Orders per status tab, "delayed", "requests" and "all": three queries, none of
    which counts the shop's orders one by one (the statuses are read from
    ``ShopStatusCount``, kept in step by triggers; the other two read indexes)."""
    counts = {status.value: 0 for status in Status}
    counts.update(ShopStatusCount.select(ShopStatusCount.status, ShopStatusCount.n)
                  .where(ShopStatusCount.shop == shop.id).tuples())
    counts["all"] = sum(counts.values())
    counts[DELAYED] = (Order.select(fn.COUNT(Order.id))
                       .where((Order.shop == shop.id) & delayed_clause(shop, now)).scalar())
    counts[REQUESTS] = (requests_needing_action(shop)
                        .select(fn.COUNT(fn.DISTINCT(OrderRequest.order))).scalar())
    return counts


def orders_by_number(shop: Shop, numbers: list[str], *, limit: int = 500) -> dict[str, Order]:
    """The shop's orders among the first ``limit`` of ``numbers`` (others' are simply
    absent), read 500 numbers to a query."""
    wanted = list(dict.fromkeys(normalise(n) for n in numbers if n.strip()))[:limit]
    found = {}
    for start in range(0, len(wanted), 500):
        found.update({o.number: o for o in Order.select().where(
            (Order.shop == shop.id) & Order.number.in_(wanted[start:start + 500]))})
    return found


def order_for_seller(shop: Shop, number: str) -> Order | None:
    return (Order.select(Order, User).join(User, on=(Order.buyer == User.id))
            .where((Order.shop == shop.id) & (Order.number == normalise(number)))
            .get_or_none())


EXPORT_HEADER = ["order_number", "placed_at", "status", "buyer_name", "buyer_email",
                 "items", "item_count", "currency", "subtotal", "discount", "shipping", "fees",
                 "total", "ship_name", "ship_line1", "ship_line2", "ship_city", "ship_region",
                 "ship_postal_code", "ship_country", "tracking_numbers"]


def export_rows(shop: Shop, filters: Filters, now: datetime, batch: int = 2000):
    """Yield the filtered orders as CSV rows, a keyset batch at a time.

    Memory stays flat whatever the number of rows: no batch is kept once written.
    """
    _, column, descending = SORTS[filters.sort]
    cursor = None
    while True:
        page = keyset_page(filtered(shop, filters, now), before=cursor, after=None,
                           limit=batch, sort=column, descending=descending)
        if not page.rows:
            return
        tracking: dict[int, list[str]] = {}
        for order_id, number in (Shipment.select(Shipment.order, Shipment.tracking_number)
                                 .where(Shipment.order.in_([o.id for o in page.rows])
                                        & (Shipment.direction == "out"))
                                 .order_by(Shipment.id).tuples()):
            tracking.setdefault(order_id, []).append(number)
        for o in page.rows:
            yield [o.number, o.placed_at.isoformat(timespec="seconds"), o.status,
                   o.buyer.name, o.buyer.email, o.item_summary, o.item_count, o.currency,
                   *(str(to_decimal(amount, o.currency)) for amount in (
                       o.subtotal, o.discount_total, o.shipping_total, o.fee_total, o.total)),
                   o.ship_name, o.ship_line1,
                   o.ship_line2, o.ship_city, o.ship_region, o.ship_postal_code, o.ship_country,
                   " ".join(tracking.get(o.id, []))]
        if not page.older:
            return
        cursor = page.older


@dataclass
class DayFigures:
    day: date
    orders: int
    revenue: int  # minor units, in the shop's currency


def daily_figures(shop: Shop, today: date, days: int = 30) -> list[DayFigures]:
    """Orders and revenue (kept orders) per day for the last ``days`` days, one query."""
    start = datetime.combine(today - timedelta(days=days - 1), datetime.min.time())
    kept = Order.status.not_in([Status.CANCELLED.value, Status.RETURNED.value])
    day = fn.DATE(Order.placed_at)
    rows = (Order.select(day.alias("day"), fn.COUNT(Order.id),
                         fn.SUM(Order.total))
            .where((Order.shop == shop.id) & (Order.placed_at >= start) & kept)
            .group_by(day).tuples())
    found = {str(d)[:10]: (n, int(total or 0)) for d, n, total in rows}
    result = []
    for k in range(days):
        d = start.date() + timedelta(days=k)
        n, revenue = found.get(d.isoformat(), (0, 0))
        result.append(DayFigures(d, n, revenue))
    return result


def open_requests(shop: Shop, limit: int = 5) -> list[OrderRequest]:
    """The oldest requests waiting for the seller, with their order and buyer."""
    return list(requests_needing_action(shop)
                .select(OrderRequest, Order.id, Order.number, User.id, User.name)
                .join(Order).switch(OrderRequest).join(User, on=(OrderRequest.created_by == User.id))
                .order_by(OrderRequest.created_at).limit(limit))


def delayed_orders(shop: Shop, now: datetime, limit: int = 5) -> list[Order]:
    """The longest-waiting delayed orders, oldest first."""
    return list(Order.select(Order, User.id, User.name).join(User, on=(Order.buyer == User.id))
                .where((Order.shop == shop.id) & delayed_clause(shop, now))
                .order_by(Order.placed_at).limit(limit))
