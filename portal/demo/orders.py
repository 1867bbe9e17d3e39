"""The demo's orders: every status, with lines, timeline, shipment and tracking.

A million orders are ten million rows, so the rows are plain tuples in the
columns' order (:data:`COLUMNS`), ids are counted here instead of asked for,
times are written as the text SQLite stores, and what repeats (baskets, timeline
messages, payment states) is built once. bench/seed.py measures the result.
"""

import random
from datetime import datetime, timedelta
from itertools import count

from portal.demo.bulk import next_id
from portal.demo.people import People
from portal.demo.shops import BASKETS_PER_SHOP, Catalogue
from portal.models import (Order, OrderEvent, OrderLine, PaymentTransaction, Shipment,
                           ShipmentLine, TrackingEvent)
from portal.orders.lifecycle import PaymentStatus, Status
from portal.orders.numbers import new_order_number

STATUSES = list(Status)
DEMO_FIRST = 2 * len(STATUSES)  # the demo buyers' first orders: one in every status each
DEMO_HISTORY_EVERY = 1000  # then every 1000th order is buyer@example.com's: pages to page
FIRST_AGE = {Status.PENDING: .3, Status.PROCESSED: 1.5, Status.SHIPPED: 4}  # else 30 days
# Every method names a plugin that exists (an order naming a missing plugin could never
# be captured or refunded); the demo shops turn each of them on (portal.demo.shops).
PAYMENTS = [("Visa •••• 4242", 0), ("Mastercard •••• 4444", 0),
            ("Cash on delivery", 150), ("Demo Wallet", 0)]
CANCEL_REASONS = ["Ordered by mistake", "Found a better price", "Out of stock",
                  "Delivery too slow"]
TRACKING_STEPS = [("pre_transit", "Label created", "Portland, OR"),
                  ("in_transit", "Picked up by carrier", "Portland, OR"),
                  ("in_transit", "Arrived at sorting centre", "Sacramento, CA"),
                  ("out_for_delivery", "Out for delivery", ""),
                  ("delivered", "Delivered, left at front door", "")]
# Step k happens k * 15 + 1 hours after shipping; its external id ends in k.
TRACKING = [(k * 15 + 1, str(k), step) for k, step in enumerate(TRACKING_STEPS)]

# Timeline entries without their id, order, time and actor: (role, kind, message, before, after).
PLACED = ("buyer", "placed", "Order placed", None, None)
CANCELLED = [("buyer", "status_changed", f"Pending → Cancelled: {reason}", "pending",
              "cancelled") for reason in CANCEL_REASONS]
PROCESSED = ("seller", "status_changed", "Pending → Processed", "pending", "processed")
SHIPPED = ("seller", "status_changed", "Processed → Shipped", "processed", "shipped")
DELIVERED = ("system", "status_changed", "Shipped → Delivered", "shipped", "delivered")
RETURNED = ("seller", "status_changed", "Delivered → Returned: return received, refund issued",
            "delivered", "returned")

ORDER_TABLES = (Order, OrderLine, Shipment, ShipmentLine, TrackingEvent, OrderEvent,
                PaymentTransaction)  # parents first
# Each table's columns in the order the rows are built: what varies, then what
# never does (one tuple concatenation instead of many).
ORDER_CONSTANTS = ("USD", 0, 1)  # currency, discount_total, version
SHIPMENT_CONSTANTS = ("demo", "Demo Parcel", "")  # carrier code and name, tracking URL
COLUMNS = {
    Order: ["id", "number", "shop", "buyer", "status", "payment_status", "payment_method",
            "subtotal", "shipping_total", "fee_total", "total", "item_summary", "item_count",
            "placed_at", "estimated_delivery", "updated_at",
            "currency", "discount_total", "version",
            "ship_name", "ship_line1", "ship_line2", "ship_city", "ship_region",
            "ship_postal_code", "ship_country", "ship_phone",
            "address_verified", "shipped_count"],
    OrderLine: ["id", "order", "variant", "product_name", "sku", "size", "colour",
                "unit_price", "quantity", "line_total", "picked", "shipped_quantity"],
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


def _status_for(age_days: float, roll: float) -> Status:
    """Older orders have moved further along, as in a real shop."""
    if age_days < 2:
        return Status.PENDING if roll < .7 else Status.PROCESSED if roll < .9 else Status.CANCELLED
    if age_days < 5:
        return Status.PROCESSED if roll < .3 else Status.SHIPPED if roll < .9 else Status.CANCELLED
    if age_days < 10:
        return Status.SHIPPED if roll < .4 else Status.DELIVERED if roll < .95 else Status.CANCELLED
    return Status.DELIVERED if roll < .85 else Status.RETURNED if roll < .93 else Status.CANCELLED


# Each payment method's code and plugin on the ledger.
PAYMENT_PLUGINS = {"Visa •••• 4242": ("card", "card"), "Mastercard •••• 4444": ("card", "card"),
                   "Demo Wallet": ("wallet", "wallet"), "Cash on delivery": ("cod", "cod")}
# How each plugin's references begin (the prefix its capture, refund and void accept).
REFERENCE_PREFIX = {"card": "tg_", "cod": "cod_", "wallet": "wal_"}


def reference_of(plugin: str, kind: str, number: str) -> str:
    """A demo ledger row's reference, as the method's plugin makes them."""
    return f"{REFERENCE_PREFIX[plugin]}{'auth' if kind == 'authorise' else kind}_{number}"


# When each method's money is taken, as its plugin's PaymentOption.capture declares it.
CAPTURES = {method: "on_delivery" if method == "Cash on delivery" else "on_shipping"
            for method in PAYMENT_PLUGINS}


def _ledger_kinds(status: Status, method: str) -> tuple[str, ...]:
    """What happened to the payment after its authorisation, as the ledger records it:
    captured when shipped (cash on delivery: when delivered), voided when cancelled
    (nothing ships before), refunded in full when returned."""
    if status is Status.CANCELLED:
        return ("void",)
    captured = status in (Status.DELIVERED, Status.RETURNED) or (
        status is Status.SHIPPED and method != "Cash on delivery")
    if not captured:
        return ()
    return ("capture", "refund") if status is Status.RETURNED else ("capture",)


def _payment_status(status: Status, method: str) -> PaymentStatus:
    """The payment status the ledger's rows give (see :func:`_ledger_kinds`)."""
    kinds = _ledger_kinds(status, method)
    if "refund" in kinds:
        return PaymentStatus.REFUNDED
    if "capture" in kinds:
        return PaymentStatus.PAID
    return PaymentStatus.VOIDED if "void" in kinds else PaymentStatus.AUTHORISED


# Hours after the order was placed that each later ledger row is written (near enough to
# the timeline's process, ship, deliver and return steps).
LEDGER_HOURS = {"capture": 30, "void": 3, "refund": 260}


# How far fulfilment got, per status: (checklist ticked, everything shipped).
FULFILLED = {status: (status in (Status.PROCESSED, Status.SHIPPED, Status.DELIVERED,
                                 Status.RETURNED),
                      status in (Status.SHIPPED, Status.DELIVERED, Status.RETURNED))
             for status in Status}

# Per status and payment method: (status, payment method, fee, payment status) as stored.
ORDER_STATES = {(status, k): (status.value, method, fee, _payment_status(status, method).value)
                for status in Status for k, (method, fee) in enumerate(PAYMENTS)}
# Per payment method: the ledger columns that never vary (after the ones that do).
LEDGER_CONSTANTS = {method: (code, plugin, method, "USD", "succeeded", "", "", 1, None,
                             CAPTURES[method])
                    for method, (code, plugin) in PAYMENT_PLUGINS.items()}
# Per payment method: how its plugin's references begin.
METHOD_PREFIX = {method: REFERENCE_PREFIX[plugin]
                 for method, (_, plugin) in PAYMENT_PLUGINS.items()}
# Per status and payment method: the ledger rows after the authorisation.
LEDGER_KINDS = {(status, k): _ledger_kinds(status, method)
                for status in Status for k, (method, _) in enumerate(PAYMENTS)}


class Clock:
    """Writes times as SQLite stores them ("2026-03-01 14:05:09.123456"), cheaply.

    Everything in a demo order's history happens a whole number of hours after
    the order was placed, so a time is an hour number plus the placed time's
    ":MM:SS.ffffff", and its text is that hour's text from a table plus that
    rest: no datetime arithmetic or isoformat() for the ten times of an order.
    """

    def __init__(self, now: datetime, days_back: int = 400, days_ahead: int = 30):
        self.start = (now - timedelta(days=days_back)).replace(minute=0, second=0,
                                                               microsecond=0)
        self.hours = [f"{self.start + timedelta(hours=h):%Y-%m-%d %H}"
                      for h in range((days_back + days_ahead) * 24)]
        self.days = [text[:10] for text in self.hours]
        self.minutes_seconds = [f":{s // 60:02d}:{s % 60:02d}" for s in range(3600)]
        self.now_us = (now - self.start) // timedelta(microseconds=1)
        self.now_hour, self.now_rest = self.before(0)
        self.now_text = self.hours[self.now_hour] + self.now_rest

    def before(self, days: float) -> tuple[int, str]:
        """The moment ``days`` before now, as (hour number, ":MM:SS.ffffff")."""
        hour, us = divmod(self.now_us - int(days * 86_400_000_000), 3_600_000_000)
        seconds, us = divmod(us, 1_000_000)
        return hour, f"{self.minutes_seconds[seconds]}.{us:06d}"

    def passed(self, hour: int, rest: str) -> bool:
        return hour < self.now_hour or (hour == self.now_hour and rest <= self.now_rest)

    def text(self, hour: int, rest: str) -> str:
        """The time's text, or now's for a time still to come (a timeline has no future)."""
        if hour < self.now_hour or (hour == self.now_hour and rest <= self.now_rest):
            return self.hours[hour] + rest
        return self.now_text


class OrderMaker:
    """Makes the rows of the demo's orders, a chunk at a time, from one random stream."""

    def __init__(self, rng: random.Random, now: datetime, people: People,
                 shops: list[Catalogue]):
        self.rng, self.clock, self.people, self.shops = rng, Clock(now), people, shops
        self.numbers: set[str] = set()
        self.ids = {model: count(next_id(model)) for model in ORDER_TABLES}
        self.rows: dict = {}

    def chunk(self, start: int, stop: int) -> dict:
        """The rows of orders number ``start`` to ``stop``: a list per table, parents first."""
        self.rows = rows = {model: [] for model in ORDER_TABLES}
        shops, pick = self.shops, self.rng.random
        for i in range(start, stop):
            # The demo seller's shop gets the demo buyers' first orders.
            shop = shops[0] if i < DEMO_FIRST else shops[int(pick() * len(shops))]
            self.order(i, self.buyer_for(i), shop)
        return rows

    def buyer_for(self, i: int) -> int:
        """The demo buyers get a good share (enough to page through); others the rest."""
        buyer_ids = self.people.buyer_ids
        if i < DEMO_FIRST:  # six each, one in every status (see order())
            return buyer_ids[0] if i < len(STATUSES) else buyer_ids[1]
        if len(buyer_ids) == 2 or i < 100:
            return buyer_ids[0] if i % 5 < 3 else buyer_ids[1]
        if i % DEMO_HISTORY_EVERY == 0:
            return buyer_ids[0]
        return buyer_ids[2 + (i * 7919) % (len(buyer_ids) - 2)]

    def order(self, i: int, buyer_id: int, shop: Catalogue) -> None:
        rng, rows, clock = self.rng, self.rows, self.clock
        if i < DEMO_FIRST:  # the demo buyers' first orders: one in every status
            status = STATUSES[i % len(STATUSES)]
            age = FIRST_AGE.get(status, 30) + rng.random()
        else:
            age = rng.random() ** 2 * 365
            status = _status_for(age, rng.random())
        hour, rest = clock.before(age)
        order_id = next(self.ids[Order])
        number = new_order_number(rng.getrandbits)
        while number in self.numbers:
            number = new_order_number(rng.getrandbits)
        self.numbers.add(number)

        basket = shop.baskets[rng.getrandbits(BASKET_BITS)]
        line_ids = self.ids[OrderLine]
        picked, shipped = FULFILLED[status]
        # The checklist ticks, then what went into the package (quantity is line[6]).
        lines = [(next(line_ids), order_id) + line + (picked, line[6] if shipped else 0)
                 for line in basket.lines]
        rows[OrderLine].extend(lines)
        status_value, method, fee, payment = ORDER_STATES[status, order_id % len(PAYMENTS)]
        placed = clock.hours[hour] + rest
        eta = clock.days[hour + (shop.handling_days + 4) * 24]
        rows[Order].append(
            (order_id, number, shop.shop_id, buyer_id, status_value, payment, method,
             basket.subtotal, basket.shipping, fee, basket.subtotal + basket.shipping + fee,
             basket.summary, basket.item_count, placed, eta, placed)
            + ORDER_CONSTANTS + self.people.addresses[buyer_id]
            + (picked, basket.item_count if shipped else 0))
        self._history(order_id, status, hour, rest, placed, buyer_id, shop.owner_id, eta, lines)
        # The money on the record: authorised through the method's plugin, then what
        # the order's status implies (references as the method's plugin makes them).
        total, constants = basket.subtotal + basket.shipping + fee, LEDGER_CONSTANTS[method]
        payment_ids, ledger = self.ids[PaymentTransaction], rows[PaymentTransaction]
        prefix = METHOD_PREFIX[method]
        ledger.append((next(payment_ids), order_id, "authorise", total, number + "-authorise",
                       prefix + "auth_" + number, placed, placed) + constants)
        for kind in LEDGER_KINDS[status, order_id % len(PAYMENTS)]:
            at = clock.text(hour + LEDGER_HOURS[kind], rest)
            ledger.append((next(payment_ids), order_id, kind, total, f"{number}-{kind}",
                           f"{prefix}{kind}_{number}", at, at) + constants)

    def _history(self, order_id, status, hour, rest, placed, buyer_id, seller_id, eta,
                 lines) -> None:
        """The timeline (and, once shipped, the parcel's tracking) that led to ``status``."""
        random, text = self.rng.random, self.clock.text
        events, event_ids = self.rows[OrderEvent], self.ids[OrderEvent]
        events.append((next(event_ids), order_id, placed, buyer_id) + PLACED)
        if status is Status.PENDING:
            return
        if status is Status.CANCELLED:
            events.append((next(event_ids), order_id, text(hour + 3, rest), buyer_id)
                          + CANCELLED[int(random() * len(CANCELLED))])
            return
        hour += 4 + int(random() * 27)
        events.append((next(event_ids), order_id, text(hour, rest), seller_id) + PROCESSED)
        if status is Status.PROCESSED:
            return
        shipped = hour + 2 + int(random() * 23)
        events.append((next(event_ids), order_id, text(shipped, rest), seller_id) + SHIPPED)
        delivered = status is Status.DELIVERED or status is Status.RETURNED
        shipment_id = next(self.ids[Shipment])
        hours = self.clock.hours
        self.rows[Shipment].append((
            shipment_id, order_id, f"DP{int(random() * 1e10):010d}",
            "delivered" if delivered else "in_transit", hours[shipped] + rest, eta,
            hours[shipped + 72] + rest if delivered else None) + SHIPMENT_CONSTANTS)
        contents_ids = self.ids[ShipmentLine]  # one package with every line in full
        self.rows[ShipmentLine].extend([(next(contents_ids), shipment_id, line[0], line[8])
                                        for line in lines])
        tracking, tracking_ids, passed = self.rows[TrackingEvent], self.ids[TrackingEvent], \
            self.clock.passed
        external = f"demo-{shipment_id}-"
        for after, k, step in TRACKING if delivered else TRACKING[:2 + int(random() * 3)]:
            if not passed(shipped + after, rest):
                break
            tracking.append((next(tracking_ids), shipment_id, hours[shipped + after] + rest,
                             external + k) + step)
        if not delivered:
            return
        events.append((next(event_ids), order_id, text(shipped + 72, rest), None) + DELIVERED)
        if status is Status.RETURNED:
            events.append((next(event_ids), order_id, text(shipped + 216, rest), seller_id)
                          + RETURNED)


BASKET_BITS = BASKETS_PER_SHOP.bit_length() - 1
