"""The outbox: what happened to an order, told to others only after it is committed.

A change writes its event with :func:`record` inside its own transaction, so an
event exists exactly when the change does: a rolled-back change is never
announced. :func:`deliver_due` hands committed events to the consumers (the
shop's plugins today; e-mail, notifications and webhooks later), each target
once: a target that fails is tried again with back-off, the others are not told
twice. Delivery is at least once, so a consumer is idempotent by event id.

Who runs :func:`deliver_due`: the web app enqueues a background task after a
request that wrote events (``portal.background``), the worker retries every
minute, and tests run it at once, still after the commit.
"""

import contextvars
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from peewee import IntegrityError

from portal.db import database
from portal.models import OutboxDelivery, OutboxEvent, utcnow

log = logging.getLogger("portal.outbox")

MAX_ATTEMPTS = 10  # about nine hours of back-off, then an operator looks (flask outbox)
LEASE = timedelta(minutes=2)  # a claimed event is left alone this long by other workers

# Set when this thread of work wrote an event, so the web app knows to start a delivery.
_written: contextvars.ContextVar[bool] = contextvars.ContextVar("outbox_written", default=False)


def record(kind: str, *, order_id: int | None, shop_id: int | None, **payload) -> OutboxEvent:
    """Write an event; call it inside the transaction of the change it announces."""
    _written.set(True)
    return OutboxEvent.create(kind=kind, order=order_id, shop_id=shop_id,
                              payload=json.dumps(payload, default=str))


def take_written() -> bool:
    """Whether events were written since the last call (and forget it)."""
    written = _written.get()
    _written.set(False)
    return written


def payload(event: OutboxEvent) -> dict:
    return json.loads(event.payload or "{}")


@dataclass(frozen=True)
class Consumer:
    """Who hears of events: ``targets`` names who should get one (e.g. each plugin
    the shop enabled), ``deliver`` gives it to one of them and raises if it failed."""

    name: str
    kinds: frozenset[str]
    targets: Callable[[OutboxEvent], Iterable[str]]
    deliver: Callable[[OutboxEvent, str], None]


@dataclass
class Report:
    delivered: int = 0  # events every target took
    retrying: int = 0  # events with a target that failed, due again later
    given_up: list[int] = field(default_factory=list)


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... at most an hour between tries."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def _claim(event: OutboxEvent, now: datetime) -> bool:
    """Take the event for this worker for :data:`LEASE` (another worker skips it)."""
    return (OutboxEvent.update(next_attempt_at=now + LEASE)
            .where((OutboxEvent.id == event.id)
                   & (OutboxEvent.next_attempt_at == event.next_attempt_at))
            .execute()) == 1


def deliver_due(consumers: Iterable[Consumer], *, now: datetime | None = None,
                limit: int = 200) -> Report:
    """Deliver the committed events that are due; return what happened."""
    now = now or utcnow()
    consumers = list(consumers)
    report = Report()
    due = list(OutboxEvent.select()
               .where(OutboxEvent.next_attempt_at.is_null(False)
                      & (OutboxEvent.next_attempt_at <= now))
               .order_by(OutboxEvent.next_attempt_at, OutboxEvent.id).limit(limit))
    for event in due:
        if not _claim(event, now):
            continue
        errors = _deliver(event, consumers)
        if not errors:
            OutboxEvent.update(next_attempt_at=None, delivered_at=utcnow(),
                               attempts=OutboxEvent.attempts + 1, last_error="") \
                .where(OutboxEvent.id == event.id).execute()
            report.delivered += 1
            continue
        attempts = event.attempts + 1
        again = None if attempts >= MAX_ATTEMPTS else now + backoff(attempts)
        OutboxEvent.update(next_attempt_at=again, attempts=attempts,
                           last_error="; ".join(errors)[:2000]) \
            .where(OutboxEvent.id == event.id).execute()
        if again is None:
            log.error("outbox: gave up on event %s (%s) after %s attempts: %s",
                      event.id, event.kind, attempts, "; ".join(errors))
            report.given_up.append(event.id)
        else:
            report.retrying += 1
    return report


def _deliver(event: OutboxEvent, consumers: list[Consumer]) -> list[str]:
    done = {row.target for row in OutboxDelivery.select(OutboxDelivery.target)
            .where(OutboxDelivery.event == event.id)}
    errors = []
    for consumer in consumers:
        if event.kind not in consumer.kinds:
            continue
        for target in consumer.targets(event):
            key = f"{consumer.name}:{target}"
            if key in done:
                continue
            try:
                consumer.deliver(event, target)
            except Exception as exc:  # a consumer's failure is data: retried later
                log.warning("outbox: %s failed for event %s: %s", key, event.id, exc)
                errors.append(f"{key}: {exc}")
                continue
            try:
                with database.atomic():
                    OutboxDelivery.create(event=event.id, target=key)
            except IntegrityError:
                pass  # another worker recorded it first
    return errors


def retry_given_up(now: datetime | None = None) -> int:
    """Make the events that were given up due again (after the operator fixed the cause)."""
    return (OutboxEvent.update(next_attempt_at=now or utcnow(), attempts=0)
            .where(OutboxEvent.next_attempt_at.is_null() & OutboxEvent.delivered_at.is_null())
            .execute())


def undelivered(limit: int = 100) -> list[OutboxEvent]:
    """Events not delivered yet (waiting, failing or given up), oldest first."""
    return list(OutboxEvent.select().where(OutboxEvent.delivered_at.is_null())
                .order_by(OutboxEvent.id).limit(limit))
