"""The demo's orders: every status, with lines, timeline, shipment and tracking.

The demo picks (shop, buyer, age, status, basket, payment, the days each step took,
tracking numbers) from one random stream; the rows themselves are made by the bulk
order path (:class:`portal.orders.bulk.Batch`), by place_order's rules. Times are
written as the text SQLite stores them (:class:`Clock`) and baskets are built once
per shop. bench/seed.py measures the result.
"""

import random
from datetime import datetime, timedelta

from portal.demo.people import People
from portal.demo.shops import BASKETS_PER_SHOP, Catalogue
from portal.orders.bulk import Batch, Parcel, Times
from portal.orders.lifecycle import Status
from portal.orders.numbers import new_order_number
from portal.orders.placing import PaymentChoice

STATUSES = list(Status)
DEMO_FIRST = 2 * len(STATUSES)  # the demo buyers' first orders: one in every status each
DEMO_HISTORY_EVERY = 1000  # then every 1000th order is buyer@example.com's: pages to page
# else 30 days; the Processed ones are past the demo seller's handling time (2 days): Delayed
FIRST_AGE = {Status.PENDING: .3, Status.PROCESSED: 2.2, Status.SHIPPED: 4}
# Every method names a plugin that exists (an order naming a missing plugin could never
# be captured or refunded); the demo shops turn each of them on (portal.demo.shops).
# Each takes its money when its plugin's PaymentOption.capture says (cash on delivery:
# on delivery); the bulk path writes each plugin's own references.
PAYMENTS = [PaymentChoice("card", "card", 0, "Visa •••• 4242"),
            PaymentChoice("card", "card", 0, "Mastercard •••• 4444"),
            PaymentChoice("cod", "cod", 150, "Cash on delivery", capture="on_delivery"),
            PaymentChoice("wallet", "wallet", 0, "Demo Wallet")]
CANCEL_REASONS = ["Ordered by mistake", "Found a better price", "Out of stock",
                  "Delivery too slow"]
TRACKING_STEPS = [("pre_transit", "Label created", "Portland, OR"),
                  ("in_transit", "Picked up by carrier", "Portland, OR"),
                  ("in_transit", "Arrived at sorting centre", "Sacramento, CA"),
                  ("out_for_delivery", "Out for delivery", ""),
                  ("delivered", "Delivered, left at front door", "")]
# Step k happens k * 15 + 1 hours after shipping; its external id ends in k.
TRACKING = [(k * 15 + 1, str(k), step) for k, step in enumerate(TRACKING_STEPS)]
DEMO_CARRIER = ("demo", "Demo Parcel")
DEMO_GROUND = ("demo:ground", "Demo Ground")  # what the demo's buyers chose at checkout
# The statuses as plain names: a million orders would look each up on the enum ten times.
PENDING, PROCESSED, SHIPPED, DELIVERED, CANCELLED, RETURNED = STATUSES


def _status_for(age_days: float, roll: float) -> Status:
    """Older orders have moved further along, as in a real shop."""
    if age_days < 2:
        return PENDING if roll < .7 else PROCESSED if roll < .9 else CANCELLED
    if age_days < 5:
        return PROCESSED if roll < .3 else SHIPPED if roll < .9 else CANCELLED
    if age_days < 10:
        return SHIPPED if roll < .4 else DELIVERED if roll < .95 else CANCELLED
    return DELIVERED if roll < .85 else RETURNED if roll < .93 else CANCELLED


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
        self.batch = Batch()

    def chunk(self, start: int, stop: int) -> dict:
        """The rows of orders number ``start`` to ``stop``: a list per table, parents first."""
        shops, pick = self.shops, self.rng.random
        for i in range(start, stop):
            # The demo seller's shop gets the demo buyers' first orders.
            shop = shops[0] if i < DEMO_FIRST else shops[int(pick() * len(shops))]
            self.order(i, self.buyer_for(i), shop)
        return self.batch.take()

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
        rng, clock = self.rng, self.clock
        if i < DEMO_FIRST:  # the demo buyers' first orders: one in every status
            status = STATUSES[i % len(STATUSES)]
            age = FIRST_AGE.get(status, 30) + rng.random()
        else:
            age = rng.random() ** 2 * 365
            status = _status_for(age, rng.random())
        hour, rest = clock.before(age)
        number = new_order_number(rng.getrandbits)
        while number in self.numbers:
            number = new_order_number(rng.getrandbits)
        self.numbers.add(number)
        basket = shop.baskets[rng.getrandbits(BASKET_BITS)]
        eta = clock.days[hour + (shop.handling_days + 4) * 24]
        times, parcel, reason = self._history(status, hour, rest, eta)
        self.batch.add(number, shop.shop_id, buyer_id, shop.owner_id, basket,
                       PAYMENTS[i % len(PAYMENTS)],
                       self.people.addresses[buyer_id], status, times,
                       estimated_delivery=eta, cancel_reason=reason, parcel=parcel,
                       shipping_service=DEMO_GROUND)

    def _history(self, status, hour, rest, eta) -> tuple[Times, Parcel | None, str]:
        """When each step that led to ``status`` happened, and, once shipped, the parcel
        and its tracking so far."""
        random, text = self.rng.random, self.clock.text
        placed = self.clock.hours[hour] + rest
        if status is PENDING:
            return Times(placed), None, ""
        if status is CANCELLED:
            reason = CANCEL_REASONS[int(random() * len(CANCEL_REASONS))]
            return Times(placed, None, None, None, text(hour + 3, rest)), None, reason
        hour += 4 + int(random() * 27)
        processed = text(hour, rest)
        if status is PROCESSED:
            return Times(placed, processed), None, ""
        shipped = hour + 2 + int(random() * 23)
        delivered = status is DELIVERED or status is RETURNED
        hours, passed = self.clock.hours, self.clock.passed
        number = f"DP{int(random() * 1e10):010d}"
        external = number + "-"  # scan ids as the demo carrier makes them
        scans = []
        for after, k, step in TRACKING if delivered else TRACKING[:2 + int(random() * 3)]:
            if not passed(shipped + after, rest):
                break
            scans.append((hours[shipped + after] + rest, external + k) + step)
        parcel = Parcel(*DEMO_CARRIER, number, "delivered" if delivered else "in_transit", eta,
                        tuple(scans))
        times = Times(placed, processed, text(shipped, rest),
                      text(shipped + 72, rest) if delivered else None, None,
                      text(shipped + 216, rest) if status is RETURNED else None)
        return times, parcel, ""


BASKET_BITS = BASKETS_PER_SHOP.bit_length() - 1
