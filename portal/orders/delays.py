"""Late orders: how late (for the buyer's pages), telling both sides once, and the shop's
word about it with a remedy.

"Delayed" is the shop's own promise broken (:func:`portal.orders.management.is_delayed`):
not shipped within its handling days, or shipped and past the estimated delivery.

- :func:`lateness` says how an order is late, in words for its buyer: "the shop
  expected to ship by <placed + handling days, in the shop's time zone>" or, once
  shipped, "expected by <estimated delivery>", and the shop's latest words about it.
- :func:`notice_delays` (a periodic task) finds orders that turned late and were not
  told so, and records a ``delayed`` event for each, which the outbox turns into the
  buyer's "running late" and the seller's "delayed". Once per order and kind of
  lateness (``orders.delay_noticed``): late to ship, then late again in transit, is two.
- :func:`explain` is the seller's word to the buyer (into the order's conversation, and
  beside "Running late"), with a remedy: a coupon offered by the caller, or a free
  upgrade to a faster shipping service (the buyer's totals stay as they are).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Callable

from peewee import SQL

from portal.coupons.rules import to_local
from portal.db import database
from portal.models import Order, OrderEvent, Shop, User, utcnow
from portal.orders import actions, management, messages
from portal.orders.lifecycle import Status, record, update_order

HANDLING, TRANSIT = "handling", "transit"
WAITING = [Status.PENDING.value, Status.PROCESSED.value]
# The same list written out, as the partial index ``orders_late_to_ship`` has it: SQLite uses
# a partial index only when the query repeats its condition, and bound parameters in an IN
# list do not count (with them it scans the table).
_WAITING_LITERAL = SQL("('pending', 'processed')")
# Lateness that began longer ago than this is history, not news (a worker that was down,
# orders imported already late): the task never tells it, and its batches stay small.
LOOKBACK = timedelta(days=7)
BATCH = 100  # orders per transaction
MOST = 2000  # orders per run; the next run (a minute later) goes on


@dataclass(frozen=True)
class Lateness:
    """How an order is late: ``kind`` (``"handling"``: not shipped in time;
    ``"transit"``: shipped, past its estimated delivery), the date it was expected
    (to ship, or to arrive) and the shop's latest words about it ("" if none)."""

    kind: str
    expected: date
    note: str = ""

    @property
    def in_transit(self) -> bool:
        return self.kind == TRANSIT

    @property
    def words(self) -> str:
        """ "Running late: the shop expected to ship by Mar 3, 2026" (or "expected by")."""
        if self.kind == TRANSIT:
            return f"Running late: expected by {day_words(self.expected)}"
        return f"Running late: the shop expected to ship by {day_words(self.expected)}"


def day_words(day: date) -> str:
    """A date as the notices and the timeline say it: "Mar 3, 2026"."""
    return f"{day:%b} {day.day}, {day.year}"


def ship_by(order: Order, shop: Shop) -> date:
    """The day the shop promised to ship by: placed + its handling days, on its clock."""
    return (to_local(order.placed_at, shop.timezone) + timedelta(days=shop.handling_days)).date()


def lateness(order: Order, shop: Shop, now: datetime) -> Lateness | None:
    """How ``order`` is late now (None when it is not). No query: ``shop`` is the order's."""
    if not management.is_delayed(order, shop, now):
        return None
    if order.status == Status.SHIPPED:
        return Lateness(TRANSIT, order.estimated_delivery, order.delay_note)
    return Lateness(HANDLING, ship_by(order, shop), order.delay_note)


# -- noticing -----------------------------------------------------------------------

def _late_to_ship(now: datetime, limit: int) -> list[Order]:
    """Untold orders late to ship, oldest first. One range of the partial index
    ``orders_late_to_ship`` per distinct handling time (shops share a handful)."""
    found = []
    for (days,) in Shop.select(Shop.handling_days).distinct().tuples():
        cutoff = now - timedelta(days=days)
        found.extend(Order.select(Order, Shop).join(Shop)
                  .where(Order.status.in_(_WAITING_LITERAL) & (Order.delay_noticed == "")
                         & (Order.placed_at < cutoff) & (Order.placed_at >= cutoff - LOOKBACK)
                         & (Shop.handling_days == days))
                  .order_by(Order.placed_at).limit(limit - len(found)))
        if len(found) >= limit:
            break
    return found


def _late_in_transit(today: date, limit: int) -> list[Order]:
    """Shipped orders past their estimated delivery and not told so (``orders_late_in_transit``)."""
    return list(Order.select(Order, Shop).join(Shop)
                .where((Order.status == Status.SHIPPED.value) & (Order.delay_noticed != TRANSIT)
                       & (Order.estimated_delivery < today)
                       & (Order.estimated_delivery >= today - LOOKBACK))
                .order_by(Order.estimated_delivery).limit(limit))


def notice_delays(now: datetime | None = None, *, batch: int = BATCH, most: int = MOST) -> int:
    """Record a ``delayed`` event for each order that turned late (within :data:`LOOKBACK`)
    and was not told so; returns how many. Each order once per kind of lateness, even
    with two workers at it: the mark is set only where it is still what was read."""
    now = now or utcnow()
    told = 0
    for find in (lambda n: _late_to_ship(now, n), lambda n: _late_in_transit(now.date(), n)):
        while told < most:
            found = find(min(batch, most - told))
            with database.atomic():
                for order in found:
                    told += _notice(order, order.shop, now)
            if len(found) < batch:
                break
    return told


def mark_told(now: datetime) -> int:
    """Mark every order late now as told, telling no one (a demo's or an import's history:
    its lateness is old news). Returns how many."""
    marked = 0
    for (days,) in Shop.select(Shop.handling_days).distinct().tuples():
        marked += (Order.update(delay_noticed=HANDLING)
                   .where(Order.status.in_(WAITING) & (Order.delay_noticed == "")
                          & (Order.placed_at < now - timedelta(days=days))
                          & Order.shop.in_(Shop.select(Shop.id)
                                           .where(Shop.handling_days == days)))
                   .execute())
    return marked + (Order.update(delay_noticed=TRANSIT)
                     .where((Order.status == Status.SHIPPED.value)
                            & (Order.delay_noticed != TRANSIT)
                            & (Order.estimated_delivery < now.date()))
                     .execute())


def _notice(order: Order, shop: Shop, now: datetime) -> int:
    late = lateness(order, shop, now)
    if late is None:
        return 0
    # Not the order's version: a notice is no edit, so the seller's open forms stay valid.
    claimed = (Order.update(delay_noticed=late.kind)
               .where((Order.id == order.id) & (Order.delay_noticed == order.delay_noticed))
               .execute())
    if claimed:
        record(order, "delayed", late.words, at=now, lateness=late.kind,
               expected=late.expected.isoformat(), expected_words=day_words(late.expected))
    return claimed


# -- the seller's word and remedy ---------------------------------------------------

@dataclass(frozen=True)
class Upgrade:
    """A faster shipping service for a late order: its key ("ups:next_day", as checkout's
    options and the label rates name it), its name and its delivery days."""

    service: str
    name: str
    days: int


def explain(order: Order, shop: Shop, *, version: int, actor: User, words: str,
            upgrade: Upgrade | None = None, offer: Callable[[], str] | None = None,
            now: datetime | None = None) -> OrderEvent:
    """The seller tells the buyer of a Delayed order about the delay: ``words`` go into
    the order's conversation and beside "Running late"; the buyer is notified.

    The remedy, if any: ``upgrade``, a faster shipping service at no charge (the order's
    service and estimated delivery change; its totals and the ledger do not), or
    ``offer``, called inside the same transaction, which offers something (a coupon)
    and returns the words for it. Raises ``DelayRefused`` (not late; shipped, for an
    upgrade), ``MessageRefused`` (no words) or ``StaleOrder``; then nothing is written.
    """
    now = now or utcnow()
    (actions.expedite if upgrade else actions.explain_delay)(order, shop, now).check()
    text = messages.clean_body(words)
    fields, remedy = {"delay_note": text}, ""
    if upgrade is not None:
        eta = to_local(now, shop.timezone).date() + timedelta(days=upgrade.days)
        was = order.shipping_name or "the service chosen at checkout"
        fields.update(shipping_service=upgrade.service[:64], shipping_name=upgrade.name[:120],
                      estimated_delivery=eta)
        remedy = (f"Shipping upgraded free of charge to {upgrade.name} (was {was}): now "
                  f"expected by {day_words(eta)}. What you paid is unchanged.")
    with database.atomic():
        update_order(order, version=version, **fields)
        if offer is not None:
            remedy = offer()
        # In the conversation, not announced as a message: the event below tells the buyer.
        messages.from_request(order, actor, messages.SELLER, text)
        said = f"{shop.name} wrote to the buyer about the delay" + (f". {remedy}" if remedy
                                                                      else "")
        return record(order, "delay_explained", said, actor=actor, actor_role="seller", at=now,
                      words=text[:300], remedy=remedy, shop_name=shop.name)
