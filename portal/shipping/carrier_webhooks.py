"""Carrier pushes: verified by the carrier's plugin, taken in once, stored as scans.

``receive`` is what ``POST /webhooks/carriers/<code>?shop=<slug>`` does. The
answer is data (status code and message) so the view stays thin. A refused
push stores nothing; a push whose event id was taken in before changes
nothing and is answered 200, so the carrier stops retrying.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from peewee import IntegrityError

from portal.hooks import pluginmanager, shop_plugins
from portal.shipping import tracking
from portal.db import database
from portal.hooks.hooktypes import TrackingReport, WebhookRequest, WebhookResult
from portal.models import Order, Shipment, Shop, WebhookReceipt, utcnow

MAX_BODY = 1024 * 1024


@dataclass(frozen=True)
class Answer:
    status: int
    message: str
    new_events: int = 0


def receive(carrier_code: str, shop_slug: str, headers: dict[str, str], body: bytes,
            now: datetime | None = None) -> Answer:
    shop = Shop.get_or_none(Shop.slug == shop_slug) if shop_slug else None
    if shop is None:
        return Answer(404, "Unknown shop: the webhook URL needs ?shop=<slug>, as shown on the shop's plugin page.")
    if len(body) > MAX_BODY:
        return Answer(413, "The body is too large.")
    setup = shop_plugins.for_shop(shop)
    receivers = [name for name in setup.enabled()
                 if pluginmanager.implements(name, "carrier_parse_webhook")]
    request = WebhookRequest({k.lower(): v for k, v in headers.items()}, body,
                             secret="", received_at=now or utcnow())
    outcome = None
    for name in receivers:
        request = WebhookRequest(request.headers, body, setup.secret(name), request.received_at)
        outcome = pluginmanager.call(name, "carrier_parse_webhook", carrier_code=carrier_code,
                                     request=request, settings=setup.settings(name))
        if not outcome.ok or outcome.value is not None:
            break
    if outcome is None or (outcome.ok and outcome.value is None):
        return Answer(404, f"This shop takes no {carrier_code!r} webhooks (is the plugin enabled?).")
    if outcome.refused:  # the plugin raised PluginRefusal: a 4xx, not "retry later"
        return Answer(400, outcome.refused)
    if not outcome.ok or not isinstance(outcome.value, WebhookResult):
        return Answer(503, "The carrier plugin is unavailable; please retry later.")
    result = outcome.value
    if not result.accepted:
        status = result.status if 400 <= result.status < 500 else 400
        return Answer(status, result.message or "Refused.")
    if not result.event_id:
        return Answer(400, "The push has no event id.")
    return _take_in(shop, carrier_code, result)


def event_key(event_id: str) -> str:
    """What is stored for a carrier's event id: its SHA-256, so ids of any length count
    whole (cutting them to the column once made two long ids that share a prefix one)."""
    return "sha256:" + hashlib.sha256(event_id.encode("utf-8", "surrogatepass")).hexdigest()


def _take_in(shop: Shop, carrier_code: str, result: WebhookResult) -> Answer:
    touched: list[tuple[Shipment, list]] = []
    with database.atomic():
        try:
            with database.atomic():  # a savepoint, so a replay leaves the transaction usable
                WebhookReceipt.create(shop=shop, carrier_code=carrier_code,
                                      event_id=event_key(result.event_id))
        except IntegrityError:
            return Answer(200, f"Event {result.event_id} was taken in before; nothing changed.")
        for report in result.reports:
            shipment = _shipment(shop, report)
            if shipment is not None:
                touched.append((shipment, tracking.record(shipment, report)))
    new = 0
    for shipment, updates in touched:
        if updates:
            new += len(updates)
            tracking.settle_order(shipment.order_id)
    return Answer(200, f"{new} new tracking events.", new)


def _shipment(shop: Shop, report: TrackingReport) -> Shipment | None:
    return (Shipment.select().join(Order)
            .where((Order.shop == shop.id) & (Shipment.tracking_number == report.tracking_number)
                   & Shipment.label_voided_at.is_null())
            .order_by(Shipment.id.desc()).first())
