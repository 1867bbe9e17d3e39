"""Tracking news into the database: scans stored once, parcel status and
delivery estimate kept current, and a fully delivered order moved to Delivered.

Scans come from three places, all through :func:`record`: carrier webhooks
(``portal.carrier_webhooks``), polling carriers (:func:`poll_shipments`, run
by the background worker) and the seller typing them (:func:`add_manual_event`).
"""

import hashlib
import logging
from dataclasses import replace
from datetime import datetime

from peewee import fn

from portal import outbox
from portal.hooks import pluginmanager, shop_plugins
from portal.db import database
from portal.hooks.hooktypes import TrackingQuery, TrackingReport, TrackingStatus, TrackingUpdate
from portal.models import Order, Shipment, TrackingEvent, User, utcnow
from portal.orders.lifecycle import StaleOrder, Status, TransitionRefused, transition

log = logging.getLogger("portal.shipping.tracking")

# Parcels that will not move any more: polling them is pointless.
FINAL = (TrackingStatus.DELIVERED.value, TrackingStatus.RETURNED_TO_SENDER.value)


def _text(value: str, limit: int) -> str:
    # Plugins relay what carriers send: no NUL (PostgreSQL refuses it), no overlong text.
    return (value or "").replace("\0", "")[:limit]


def _storable(report: TrackingReport) -> TrackingReport:
    """The report as the tables can hold it: an external id longer than its column is
    kept as its hash (two long ids that share a prefix stay two scans)."""
    def key(external_id):
        if external_id is None or (len(external_id) <= 120 and "\0" not in external_id):
            return external_id
        return "sha256:" + hashlib.sha256(external_id.encode()).hexdigest()
    return replace(report, updates=tuple(
        replace(u, description=_text(u.description, 300), location=_text(u.location, 120),
                external_id=key(u.external_id)) for u in report.updates))


def record(shipment: Shipment, report: TrackingReport) -> list[TrackingUpdate]:
    """Store the report's new scans on the shipment; return those that were new.

    A scan whose ``external_id`` is already stored is skipped (the unique
    index also holds if two pushes race). The parcel's status becomes that of
    its latest scan. Call inside a transaction; then :func:`settle_order`.
    """
    report = _storable(report)
    ids = [u.external_id for u in report.updates if u.external_id]
    known = set()
    if ids:
        known = set(TrackingEvent.select(TrackingEvent.external_id)
                    .where((TrackingEvent.shipment == shipment.id)
                           & TrackingEvent.external_id.in_(ids)).tuples())
        known = {row[0] for row in known}
    new = [u for u in report.updates if u.external_id is None or u.external_id not in known]
    for u in new:
        (TrackingEvent.insert(shipment=shipment.id, occurred_at=u.occurred_at,
                              status=TrackingStatus(u.status).value,
                              description=u.description, location=u.location,
                              external_id=u.external_id)
         .on_conflict_ignore().execute())
    if not new and report.estimated_delivery in (None, shipment.estimated_delivery):
        return []
    latest = (TrackingEvent.select(TrackingEvent.status, TrackingEvent.occurred_at)
              .where(TrackingEvent.shipment == shipment.id)
              .order_by(TrackingEvent.occurred_at.desc(), TrackingEvent.id.desc()).first())
    if latest is not None:
        shipment.status = latest.status
        if latest.status == TrackingStatus.DELIVERED and shipment.delivered_at is None:
            shipment.delivered_at = latest.occurred_at
    if report.estimated_delivery:
        shipment.estimated_delivery = report.estimated_delivery
        # The buyer's estimate follows the carrier's; the order's version is
        # not bumped, so a seller editing the order is not told it went stale.
        Order.update(estimated_delivery=report.estimated_delivery).where(
            Order.id == shipment.order_id).execute()
    shipment.updated_at = utcnow()
    shipment.save()
    if new:  # the shop's plugins hear of it from the outbox, after the commit
        number, shop_id = (Order.select(Order.number, Order.shop)
                           .where(Order.id == shipment.order_id).tuples().get())
        outbox.record("tracking_updated", order_id=shipment.order_id, shop_id=shop_id,
                      number=number, tracking_number=shipment.tracking_number,
                      direction=shipment.direction,
                      status=TrackingStatus(shipment.status).value,
                      updates=[{"occurred_at": u.occurred_at.isoformat(),
                                "status": TrackingStatus(u.status).value,
                                "description": u.description, "location": u.location,
                                "external_id": u.external_id} for u in new])
    return new


def settle_order(order_id: int) -> bool:
    """Move a Shipped order to Delivered once every parcel of it is delivered."""
    order = Order.get_or_none(Order.id == order_id)
    if order is None or order.status != Status.SHIPPED:
        return False
    parcels = (Shipment.select(Shipment.status)
               .where((Shipment.order == order.id) & Shipment.label_voided_at.is_null()
                      & (Shipment.direction == "out")))  # a return parcel delivers nothing
    statuses = [s.status for s in parcels]
    if not statuses or any(s != TrackingStatus.DELIVERED for s in statuses):
        return False
    try:
        transition(order, Status.DELIVERED, actor_role="system", reason="the carrier delivered it")
    except (StaleOrder, TransitionRefused):
        return False  # someone else moved it in the meantime: their change stands
    return True


def apply(shipment: Shipment, report: TrackingReport) -> list[TrackingUpdate]:
    """:func:`record` in a transaction, then settle the order."""
    with database.atomic():
        new = record(shipment, report)
    if new:
        settle_order(shipment.order_id)
    return new


def add_manual_event(shipment: Shipment, *, status: TrackingStatus, description: str,
                     location: str = "", occurred_at: datetime | None = None,
                     actor: User | None = None) -> TrackingUpdate:
    """A scan the seller typed (manual carrier, or a correction for any carrier)."""
    update = TrackingUpdate(occurred_at or utcnow(), TrackingStatus(status),
                            description.strip(), location.strip())
    apply(shipment, TrackingReport(shipment.tracking_number, (update,)))
    return update


def poll_shipments(now: datetime | None = None, limit: int = 500) -> int:
    """Ask polling carriers for news about undelivered parcels; return how many scans were new."""
    now = now or utcnow()
    polling = {}  # carrier code -> plugin name, for plugins whose carrier is polled
    for name in pluginmanager.plugin_names():
        info = shop_plugins.carrier_info(name)
        if info and info.tracking == "polling":
            polling[info.code] = name
    if not polling:
        return 0
    shipments = list(Shipment.select(Shipment, Order.shop.alias("shop_ref"))
                     .join(Order)
                     .where(Shipment.carrier_code.in_(list(polling))
                            & Shipment.status.not_in(FINAL)
                            & Shipment.label_voided_at.is_null()
                            # Shipped, or Processed with packages on their way (split),
                            # or a return on its way back to the shop
                            & (Order.status.in_([Status.SHIPPED.value, Status.PROCESSED.value])
                               | (Shipment.direction == "return")))
                     .order_by(Shipment.id).limit(limit).objects())
    known = {}  # shipment id -> (number of events, latest time)
    if shipments:
        known = {sid: (n, last) for sid, n, last in (
            TrackingEvent.select(TrackingEvent.shipment, fn.COUNT(TrackingEvent.id),
                                 fn.MAX(TrackingEvent.occurred_at))
            .where(TrackingEvent.shipment.in_([s.id for s in shipments]))
            .group_by(TrackingEvent.shipment).tuples())}
    setups: dict[int, shop_plugins.ShopPlugins] = {}
    new_total = 0
    for shipment in shipments:
        shop_id = shipment.shop_ref
        setup = setups.setdefault(shop_id, shop_plugins.for_shop(shop_id))
        name = polling[shipment.carrier_code]
        if not setup.is_enabled(name):
            continue
        count, last = known.get(shipment.id, (0, None))
        if isinstance(last, str):  # SQLite hands aggregates back as text
            last = datetime.fromisoformat(last)
        query = TrackingQuery(shipment.tracking_number, shipment.shipped_at,
                              known_events=count, last_event_at=last)
        outcome = pluginmanager.call(name, "carrier_track", carrier_code=shipment.carrier_code,
                                     query=query, settings=setup.settings(name), now=now)
        if outcome.ok and isinstance(outcome.value, TrackingReport):
            new_total += len(apply(shipment, outcome.value))
    return new_total
