"""Carrier pushes applied after their answer: the receipts that
``portal.shipping.carrier_webhooks`` took in are applied in order (receipt id), in
batches, through the same code as polled and typed scans (``tracking.record``, then
``tracking.settle_order`` when a scan says delivered).

Who applies: the ``apply_webhooks`` task, enqueued after a push's commit (coalesced, see
``portal.background``), and the worker's sweep once a minute, which applies whatever a
crash or a lost enqueue left. A report that fails is kept as the receipt's ``error`` and
does not hold up the others (``flask --app portal outbox`` lists them).
"""

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime

from portal.db import database, is_postgres, is_sqlite
from portal.hooks.hooktypes import TrackingReport, TrackingStatus, TrackingUpdate
from portal.models import Order, Shipment, WebhookReceipt, utcnow
from portal.shipping import tracking

log = logging.getLogger("portal.shipping.webhook_apply")

# Receipts per transaction. On SQLite the batch holds the write lock that pushes being
# taken in wait for; 100 receipts are about 0.1-0.3 s of it.
BATCH = 100
# One applier at a time on PostgreSQL (an advisory lock, released at commit), so that
# receipts are applied in their order even with several workers.
_LOCK_KEY = 0x706F7274616C3132  # "portal12"


@dataclass(frozen=True)
class Applied:
    """What a run applied: receipts, new scans, and receipts with a report that failed."""

    receipts: int = 0
    scans: int = 0
    failed: int = 0


def dump_reports(reports) -> str:
    """The parsed reports as stored on the receipt (JSON)."""
    return json.dumps([{
        "tracking_number": r.tracking_number,
        "estimated_delivery": r.estimated_delivery.isoformat() if r.estimated_delivery else None,
        "updates": [[u.occurred_at.isoformat(), TrackingStatus(u.status).value, u.description,
                     u.location, u.external_id] for u in r.updates],
    } for r in reports])


def load_reports(text: str) -> list[TrackingReport]:
    """The reports :func:`dump_reports` stored."""
    return [TrackingReport(
        r["tracking_number"],
        tuple(TrackingUpdate(datetime.fromisoformat(at), TrackingStatus(status), description,
                             location, external_id)
              for at, status, description, location, external_id in r["updates"]),
        date.fromisoformat(r["estimated_delivery"]) if r["estimated_delivery"] else None,
    ) for r in json.loads(text or "[]")]


def apply_pending(batch: int = BATCH, now: datetime | None = None) -> Applied:
    """Apply every receipt not applied yet, oldest first, a batch per transaction."""
    total = Applied()
    while True:
        done = _apply_batch(batch, now or utcnow())
        total = Applied(total.receipts + done.receipts, total.scans + done.scans,
                        total.failed + done.failed)
        if done.receipts < batch:
            return total


def pending() -> int:
    """How many receipts wait to be applied."""
    return WebhookReceipt.select().where(WebhookReceipt.applied_at.is_null()).count()


def failed(limit: int = 50) -> list[WebhookReceipt]:
    """Receipts with a report that could not be applied, newest first."""
    return list(WebhookReceipt.select(WebhookReceipt.id, WebhookReceipt.carrier_code,
                                      WebhookReceipt.received_at, WebhookReceipt.error)
                .where(WebhookReceipt.error != "")
                .order_by(WebhookReceipt.id.desc()).limit(limit))


def _writing():
    # SQLite: take the write lock first (a read that later writes can fail at once when
    # another writer committed in between). PostgreSQL: one applier at a time.
    if is_sqlite():
        return database.obj.atomic("IMMEDIATE")
    return database.atomic()


def _apply_batch(limit: int, now: datetime) -> Applied:
    with _writing():
        if is_postgres():
            database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        rows = list(WebhookReceipt.select(WebhookReceipt.id, WebhookReceipt.shop,
                                          WebhookReceipt.reports)
                    .where(WebhookReceipt.applied_at.is_null())
                    .order_by(WebhookReceipt.id).limit(limit).tuples())
        scans = failed = 0
        for receipt_id, shop_id, reports in rows:
            errors = []
            try:
                parsed = load_reports(reports)
            except (ValueError, KeyError, TypeError) as exc:
                parsed, errors = [], [f"unreadable reports: {exc!r}"]
            for report in parsed:
                try:
                    with database.atomic():  # a savepoint: a failed report leaves no trace
                        scans += _apply(shop_id, report)
                except Exception as exc:  # one bad report must not hold up the others
                    log.exception("webhook receipt %s: report for %s not applied",
                                  receipt_id, report.tracking_number)
                    errors.append(f"{report.tracking_number}: {exc!r}"[:500])
            if errors:
                failed += 1
                (WebhookReceipt.update(error="; ".join(errors)[:2000])
                 .where(WebhookReceipt.id == receipt_id).execute())
        if rows:
            (WebhookReceipt.update(applied_at=now)
             .where(WebhookReceipt.id.in_([row[0] for row in rows])).execute())
    return Applied(len(rows), scans, failed)


def _apply(shop_id: int, report: TrackingReport) -> int:
    """One report on the shop's parcel with that number (none: nothing to do)."""
    shipment = (Shipment.select().join(Order)
                .where((Order.shop == shop_id)
                       & (Shipment.tracking_number == report.tracking_number)
                       & Shipment.label_voided_at.is_null())
                .order_by(Shipment.id.desc()).first())
    if shipment is None:
        return 0
    new = tracking.record(shipment, report)
    if any(u.status == TrackingStatus.DELIVERED for u in new):
        tracking.settle_order(shipment.order_id)
    return len(new)
