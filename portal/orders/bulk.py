"""Orders that arrive already placed: the demo's history, test builders, imports.

:func:`portal.orders.placing.place_order` places one order now, from a cart. The
orders here were placed in the past (a year of demo history, a test's order in a
given status, orders brought over from another system) and are written many at a
time, by place_order's rules and through the same functions of ``placing``:

- lines as :func:`placing.line` makes them (a variant at the price it was bought
  at); the money as :func:`placing.money` adds it up, and a total that does not add
  up refused as at checkout (``checkout.price_changed``, :func:`placing.check_total`);
  the item summary of ``editing.item_summary``; order numbers of ``numbers``; the
  ``ship_*`` columns of :func:`placing.ship_fields`;
- stock is *not* taken unless asked: for history, the catalogue's stock is what is
  left today, after those orders. ``take_stock=True`` (orders the catalogue has not
  counted yet) takes it with :func:`placing.take_stock`: the same conditional update,
  the same ``checkout.out_of_stock`` refusal, and then nothing is written;
- the "placed" timeline event in place_order's words, then the history that led to
  the order's status (processed, shipped, delivered, cancelled, returned) in
  ``lifecycle.transition``'s words, for each step whose time is given; no outbox
  events: nobody is told today of what happened long ago;
- the payment on the ledger as it happened (what ``ledger.recorded_rows`` did): an
  authorisation that succeeded through the method's plugin (references in that
  plugin's own form, :func:`reference_prefix`, so its follow-up calls accept them;
  its ``capture`` column as :func:`placing.capture_of` says, as at checkout), then
  the capture when it shipped (or when delivered: cash on delivery), the void when
  it was cancelled, the refund when it was returned; the order's payment status is
  what :func:`ledger.totals` makes of those rows. The rows name no authorisation:
  the ledger counts such rows as the first authorisation's, the only one here.

Rows are plain tuples in :data:`COLUMNS` order, with ids counted here: a million
orders are ten million rows (bench/seed.py), so :class:`Batch` builds each order's
rows with as little per-order work as it can. :func:`place_past` is the one-call
form for a few orders (tests, the plugin-author fixtures, imports). Not for two
writers at once: ids are counted on from each table's largest.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import count
from typing import NamedTuple

from portal.db import database, insert_rows, next_id, reset_sequences
from portal.models import (Order, OrderEvent, OrderLine, PaymentTransaction, Shipment,
                           ShipmentLine, Shop, TrackingEvent, User)
from portal.orders import ledger, placing
from portal.orders.editing import item_summary
from portal.orders.lifecycle import PaymentStatus, Status, change_words
from portal.orders.numbers import new_order_number
from portal.orders.placing import CheckoutRefused, Line, PaymentChoice

ORDER_TABLES = (Order, OrderLine, Shipment, ShipmentLine, TrackingEvent, OrderEvent,
                PaymentTransaction)  # parents first
# Each table's columns in the order the rows are built: what varies, then what
# never does (one tuple concatenation instead of many).
COLUMNS = {
    Order: ["id", "number", "shop", "buyer", "status", "payment_status", "payment_method",
            "subtotal", "discount_total", "shipping_total", "fee_total", "total",
            "item_summary", "item_count", "placed_at", "estimated_delivery", "updated_at",
            "currency", "ship_name", "ship_line1", "ship_line2", "ship_city", "ship_region",
            "ship_postal_code", "ship_country", "ship_phone", "address_verified",
            "shipped_count", "shipping_service", "shipping_name"],
    OrderLine: ["id", "order", *placing.LINE_FIELDS, "picked", "shipped_quantity"],
    Shipment: ["id", "order", "tracking_number", "status", "shipped_at", "estimated_delivery",
               "delivered_at", "carrier_code", "carrier_name", "tracking_url"],
    ShipmentLine: ["id", "shipment", "order_line", "quantity"],
    TrackingEvent: ["id", "shipment", "occurred_at", "external_id", "status", "description",
                    "location"],
    OrderEvent: ["id", "order", "created_at", "actor", "actor_role", "kind", "message",
                 "before", "after"],
    PaymentTransaction: ["id", "order", "kind", "amount", "idempotency_key", "reference",
                         "created_at", "completed_at",
                         "method_code", "plugin", "display", "currency", "state", "message",
                         "reason", "attempts", "next_attempt_at", "capture"],
}

TEST_CARD = PaymentChoice("card", "card", 0, "Visa •••• 4242")

# Statuses whose fulfilment checklist was ticked on the way (Processed comes after it).
CHECKED = frozenset({Status.PROCESSED, Status.SHIPPED, Status.DELIVERED, Status.RETURNED})
SHIPPED = frozenset({Status.SHIPPED, Status.DELIVERED, Status.RETURNED})
RETURN_RECEIVED = "return received, refund issued"
CANCELLED = Status.CANCELLED


class Basket(NamedTuple):
    """What an order bought: its lines, and what follows from them alone (the money as
    :func:`placing.money` adds it up, before any payment fee)."""

    lines: tuple[Line, ...]
    subtotal: int
    discount_total: int
    shipping_total: int
    item_count: int
    summary: str


def basket(lines: Iterable[Line], *, shipping: int = 0, discount: int = 0) -> Basket:
    """The basket of ``lines`` (in their order), shipped for ``shipping``."""
    lines = tuple(lines)
    sums = placing.money(lines, discount=discount, shipping=shipping)
    return Basket(lines, sums.subtotal, sums.discount_total, sums.shipping_total,
                  sum(item.quantity for item in lines), item_summary(lines))


class Times(NamedTuple):
    """When each step of an order's history happened, as the batch writes times
    (datetimes, or text as SQLite stores them); None: the step has no timeline entry."""

    placed: object
    processed: object = None
    shipped: object = None
    delivered: object = None
    cancelled: object = None
    returned: object = None


class Parcel(NamedTuple):
    """The one package a shipped order left in (every line in full), and its scans."""

    carrier_code: str
    carrier_name: str
    tracking_number: str
    status: str  # its latest tracking status
    estimated_delivery: object
    scans: tuple = ()  # (occurred_at, external_id, status, description, location)
    tracking_url: str = ""


def payment_after(status: Status, payment: PaymentChoice) -> tuple[str, ...]:
    """What happened to an order's payment after its authorisation, by the ledger's
    rules: captured when it shipped (or when delivered, the capture its plugin
    declares for cash on delivery), voided when cancelled (nothing had shipped),
    refunded in full when returned."""
    if status is Status.CANCELLED:
        return (ledger.Kind.VOID.value,)
    on_delivery = placing.capture_of(payment) == "on_delivery"
    if status not in SHIPPED or (status is Status.SHIPPED and on_delivery):
        return ()
    if status is Status.RETURNED:
        return ledger.Kind.CAPTURE.value, ledger.Kind.REFUND.value
    return (ledger.Kind.CAPTURE.value,)


def payment_status(status: Status, payment: PaymentChoice) -> PaymentStatus:
    """The payment status the ledger gives the rows :func:`payment_after` writes."""
    rows = [PaymentTransaction(kind=kind, amount=1, state=ledger.State.SUCCEEDED.value)
            for kind in (ledger.Kind.AUTHORISE.value, *payment_after(status, payment))]
    return ledger.totals(rows).status


# How the built-in payment plugins' references begin: each one's capture, refund and
# void accept only its own (the card test gateway wants a ``tg_auth_`` authorisation,
# the wallet ``wal_auth_``, cash on delivery ``cod_``). Another plugin's past orders
# get the test gateway's.
REFERENCE_PREFIXES = {"card": "tg_", "cod": "cod_", "wallet": "wal_"}


def reference_prefix(plugin: str, kind: str) -> str:
    """The start of a past payment's reference, as ``plugin`` makes them
    (``wal_auth_``, ``cod_capture_``, ...); the order number follows."""
    start = REFERENCE_PREFIXES.get(plugin, "tg_")
    return f"{start}auth_" if kind == ledger.Kind.AUTHORISE else f"{start}{kind}_"


def _step(field: str, by_seller: bool, before: Status, after: Status, reason: str = ""):
    return (Times._fields.index(field), by_seller, "seller" if by_seller else "system",
            change_words(before, after, reason), before.value, after.value)


# The fulfilment history after "placed": (the Times field, done by the seller (else the
# system), role, the words, before, after). A cancellation's words carry its reason.
FULFILMENT = (_step("processed", True, Status.PENDING, Status.PROCESSED),
              _step("shipped", True, Status.PROCESSED, Status.SHIPPED),
              _step("delivered", False, Status.SHIPPED, Status.DELIVERED),
              _step("returned", True, Status.DELIVERED, Status.RETURNED, RETURN_RECEIVED))


class Batch:
    """The rows of many past orders, a list per table (:data:`COLUMNS`), ids counted on
    from the tables' largest. :meth:`add` an order at a time, then :meth:`write` (or
    :meth:`take` the rows and store them yourself, as the demo seeder does)."""

    def __init__(self):
        self.ids = {model: count(next_id(model)) for model in ORDER_TABLES}
        self.rows = {model: [] for model in ORDER_TABLES}
        self._states: dict = {}  # (status, payment, currency): what repeats, built once
        self._placed: dict = {}  # (total, currency): the "placed" entry's words
        self._cancelled: dict = {}  # reason: a cancellation's words

    def take(self) -> dict:
        """The rows made so far (parents first), and start a new list."""
        rows, self.rows = self.rows, {model: [] for model in ORDER_TABLES}
        return rows

    def write(self) -> None:
        """Insert the rows made so far (call it inside a transaction)."""
        for model, rows in self.take().items():
            insert_rows(model, COLUMNS[model], rows)
        reset_sequences(*ORDER_TABLES)

    def _state(self, status: Status, payment: PaymentChoice, currency: str) -> tuple:
        key = (status, payment, currency)
        state = self._states.get(key)
        if state is None:
            capture = placing.capture_of(payment)
            ledger_constants = (payment.method_code, payment.plugin, payment.display[:80],
                                currency, ledger.State.SUCCEEDED.value, "", "", 1, None,
                                capture)
            when = {"capture": "delivered" if capture == "on_delivery" else "shipped",
                    "void": "cancelled", "refund": "returned"}
            # After the authorisation: (kind, its Times field, its reference's start).
            later = tuple((kind, Times._fields.index(when[kind]),
                           reference_prefix(payment.plugin, kind))
                          for kind in payment_after(status, payment))
            state = self._states[key] = (
                (status.value, payment_status(status, payment).value, payment.display[:80]),
                later, ledger_constants, status in CHECKED, max(payment.fee, 0),
                reference_prefix(payment.plugin, ledger.Kind.AUTHORISE.value))
        return state

    def placed_words(self, total: int, currency: str) -> str:
        key = (total, currency)
        words = self._placed.get(key)
        if words is None:  # babel formats each amount once, not once per order
            words = self._placed[key] = placing.placed_message(total, currency)
        return words

    def add(self, number: str, shop_id: int, buyer_id: int, seller_id: int | None,
            basket: Basket, payment: PaymentChoice, address: tuple, status: Status,
            times: Times, *, currency: str = "USD", estimated_delivery=None,
            cancel_reason: str = "", parcel: Parcel | None = None,
            shipping_service: tuple[str, str] = ("", "")) -> int:
        """An order of ``basket`` paid with ``payment``, shipped to ``address`` (the
        ``ship_*`` values in column order), now ``status``, with the history ``times``
        gives; ``shipping_service`` is the chosen shipping's (key, name). Returns the
        order's id."""
        rows, ids = self.rows, self.ids
        order_id = next(ids[Order])
        order_state, later, ledger_constants, checked, fee, auth_prefix = self._state(
            status, payment, currency)
        subtotal, discount, shipping = basket.subtotal, basket.discount_total, \
            basket.shipping_total
        total = placing.totals(subtotal, discount, shipping, fee)
        line_ids = ids[OrderLine]
        shipped = parcel is not None
        lines = [(next(line_ids), order_id) + item
                 + (checked, item.quantity if shipped else 0) for item in basket.lines]
        rows[OrderLine].extend(lines)
        placed = times.placed
        rows[Order].append(
            (order_id, number, shop_id, buyer_id) + order_state
            + (subtotal, discount, shipping, fee, total)
            + (basket.summary, basket.item_count, placed, estimated_delivery, placed, currency)
            + address + (checked, basket.item_count if shipped else 0) + shipping_service)
        event_ids, events = ids[OrderEvent], rows[OrderEvent]
        events.append((next(event_ids), order_id, placed, buyer_id, "buyer", "placed",
                       self.placed_words(total, currency), None, None))
        if len(times) > 1:
            self._history(order_id, status, times, buyer_id, seller_id, cancel_reason)
        if shipped:
            self._parcel(order_id, parcel, times, lines)
        # The money on the record: authorised when placed, then what the status implies.
        payment_ids, ledger_rows = ids[PaymentTransaction], rows[PaymentTransaction]
        ledger_rows.append((next(payment_ids), order_id, "authorise", total,
                            number + "-authorise", auth_prefix + number, placed, placed)
                           + ledger_constants)
        for kind, field_index, prefix in later:  # at its step's time (else when placed)
            at = times[field_index]
            at = placed if at is None else at
            ledger_rows.append((next(payment_ids), order_id, kind, total, f"{number}-{kind}",
                                prefix + number, at, at) + ledger_constants)
        return order_id

    def _history(self, order_id, status, times, buyer_id, seller_id, cancel_reason) -> None:
        """The timeline entries after "placed", one per step that has a time."""
        event_ids, events = self.ids[OrderEvent], self.rows[OrderEvent]
        if status is CANCELLED:
            if times.cancelled is not None:
                words = self._cancelled.get(cancel_reason)
                if words is None:
                    words = self._cancelled[cancel_reason] = change_words(
                        Status.PENDING, CANCELLED, cancel_reason)
                events.append((next(event_ids), order_id, times.cancelled, buyer_id, "buyer",
                               "status_changed", words, "pending", "cancelled"))
            return
        for field_index, by_seller, role, words, before, after in FULFILMENT:
            at = times[field_index]
            if at is not None:
                events.append((next(event_ids), order_id, at, seller_id if by_seller else None,
                               role, "status_changed", words, before, after))

    def _parcel(self, order_id, parcel: Parcel, times: Times, lines) -> None:
        shipment_id = next(self.ids[Shipment])
        self.rows[Shipment].append(
            (shipment_id, order_id, parcel.tracking_number, parcel.status, times.shipped,
             parcel.estimated_delivery, times.delivered, parcel.carrier_code,
             parcel.carrier_name, parcel.tracking_url))
        contents_ids = self.ids[ShipmentLine]  # quantity is the line's column 8
        self.rows[ShipmentLine].extend([(next(contents_ids), shipment_id, line[0], line[8])
                                        for line in lines])
        scan_ids = self.ids[TrackingEvent]
        self.rows[TrackingEvent].extend([(next(scan_ids), shipment_id) + scan
                                         for scan in parcel.scans])


# -- a few orders in one call (tests, the plugin-author fixtures, imports) ------------

@dataclass
class PastOrder:
    """An order placed at ``placed_at``, now ``status``. ``lines`` are
    :func:`placing.line` values (or snapshots without a variant); ``total``, when
    given, is the total the source says it came to, refused if the lines make another.
    ``times`` gives the history after placing (default: none on the timeline)."""

    buyer: User
    shop: Shop
    lines: list[Line]
    address: dict
    placed_at: datetime
    status: Status = Status.PENDING
    payment: PaymentChoice = TEST_CARD
    shipping_total: int = 0
    discount_total: int = 0
    total: int | None = None
    currency: str | None = None  # default: the shop's
    number: str | None = None
    estimated_delivery: date | None = None
    times: Times | None = None
    parcel: Parcel | None = None
    cancel_reason: str = ""
    shipping_service: tuple[str, str] = ("", "")  # the chosen shipping's key and name
    seller: User | None = field(default=None)  # who processed and shipped: the shop's owner


def place_past(orders: Iterable[PastOrder], *, take_stock: bool = False) -> list[Order]:
    """Write ``orders`` in one transaction, all or none; returns them as stored.

    Refuses (:class:`CheckoutRefused`, nothing written) an order without lines
    (``checkout.empty``), a line whose variant is not in the shop's catalogue
    (``checkout.unknown_variant``) or whose quantity or line total is wrong
    (``checkout.bad_line``), a ``total`` the lines do not make
    (``checkout.price_changed``), and with ``take_stock`` a line short of stock
    (``checkout.out_of_stock``).
    """
    orders = list(orders)
    with database.atomic():
        batch = Batch()
        ids = [_add(batch, order, take_stock) for order in orders]
        batch.write()
    found = {o.id: o for o in Order.select().where(Order.id.in_(ids or [0]))}
    return [found[i] for i in ids]


def _add(batch: Batch, order: PastOrder, take_stock: bool) -> int:
    status, shop = Status(order.status), order.shop
    currency = order.currency or shop.currency
    _check_lines(order.lines, shop)
    items = basket(order.lines, shipping=order.shipping_total, discount=order.discount_total)
    sums = placing.money(items.lines, discount=items.discount_total,
                         shipping=items.shipping_total, fee=order.payment.fee)
    placing.check_total(sums.total, order.total, currency)
    if take_stock:
        placing.take_stock(sorted((i for i in items.lines if i.variant), key=lambda i: i.variant))
    address = tuple(placing.ship_fields(order.address).values())
    seller_id = order.seller.id if order.seller else shop.owner_id
    return batch.add(order.number or new_order_number(), shop.id, order.buyer.id, seller_id,
                     items, order.payment, address, status, order.times or Times(order.placed_at),
                     currency=currency, estimated_delivery=order.estimated_delivery,
                     cancel_reason=order.cancel_reason, parcel=order.parcel,
                     shipping_service=order.shipping_service)


def _check_lines(lines: list[Line], shop: Shop) -> None:
    if not lines:
        raise CheckoutRefused("checkout.empty", "The order has no lines.")
    for item in lines:
        if item.quantity < 1 or item.line_total != item.unit_price * item.quantity:
            raise CheckoutRefused("checkout.bad_line", f"{item.product_name}: a line needs a "
                                  "quantity of 1 or more and a total of price × quantity.")
    placing.check_catalogue(lines, shop)
