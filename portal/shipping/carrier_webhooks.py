"""Carrier pushes: verified by the carrier's plugin, taken in once, applied just after.

``receive`` is what ``POST /webhooks/carriers/<code>?shop=<slug>`` does. The
answer is data (status code and message) so the view stays thin. A refused
push stores nothing; an accepted one is stored, with its parsed reports, in one
short statement (the receipt, unique on shop, carrier and event id) and answered
200; a push whose event id was taken in before changes nothing and is answered 200
too, so the carrier stops retrying. Its scans are applied right after the answer
(``portal.shipping.webhook_apply``), in order, by the background worker.
"""

import contextvars
import hashlib
from dataclasses import dataclass
from datetime import datetime

from peewee import IntegrityError

from portal.hooks import pluginmanager, shop_plugins
from portal.hooks.hooktypes import WebhookRequest, WebhookResult
from portal.db import database
from portal.models import WebhookReceipt, utcnow
from portal.shipping.webhook_apply import dump_reports

# Set when this thread of work took a push in, so the web app knows to start the apply.
_taken_in: contextvars.ContextVar[bool] = contextvars.ContextVar("webhook_taken_in",
                                                                 default=False)

MAX_BODY = 1024 * 1024


@dataclass(frozen=True)
class Answer:
    status: int
    message: str
    new_events: int = 0


# The shop's id and a stamp of its plugin set-up in one statement: the newest change
# and the number of its plugin rows (every write of a row sets its updated_at).
_SETUP_STAMP = ('SELECT s.id, (SELECT MAX(p.updated_at) FROM plugin_config p WHERE p.shop_id = s.id),'
                ' (SELECT COUNT(*) FROM plugin_config p WHERE p.shop_id = s.id)'
                ' FROM shop s WHERE s.slug = {param}')
_INSERT = ('INSERT INTO webhook_receipt (shop_id, carrier_code, event_id, received_at, reports,'
           " error) VALUES ({param}, {param}, {param}, {param}, {param}, '')")


def receive(carrier_code: str, shop_slug: str, headers: dict[str, str], body: bytes,
            now: datetime | None = None, setups: dict | None = None) -> Answer:
    """Take a push in. ``setups`` (optional, kept by the caller per process) caches each
    shop's plugin set-up; an entry serves only while the shop's stamp is unchanged, so a
    plugin the seller turned off refuses the very next push."""
    if len(body) > MAX_BODY:
        return Answer(413, "The body is too large.")
    shop_id, setup = _setup(shop_slug, setups) if shop_slug else (None, None)
    if shop_id is None:
        return Answer(404, "Unknown shop: the webhook URL needs ?shop=<slug>, as shown on the shop's plugin page.")
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
    return _take_in(shop_id, carrier_code, result, request.received_at)


def event_key(event_id: str) -> str:
    """What is stored for a carrier's event id: its SHA-256, so ids of any length count
    whole (cutting them to the column once made two long ids that share a prefix one)."""
    return "sha256:" + hashlib.sha256(event_id.encode("utf-8", "surrogatepass")).hexdigest()


def _setup(shop_slug: str, setups: dict | None) -> tuple[int | None, "shop_plugins.ShopPlugins | None"]:
    row = database.execute_sql(_SETUP_STAMP.format(param=database.obj.param),
                               (shop_slug[:80],)).fetchone()
    if row is None:
        return None, None
    stamp = tuple(row)
    cached = setups.get(shop_slug) if setups is not None else None
    if cached is not None and cached[0] == stamp:
        return row[0], cached[1]
    setup = shop_plugins.for_shop(row[0])
    if setups is not None:
        setups[shop_slug] = (stamp, setup)
    return row[0], setup


def take_taken_in() -> bool:
    """Whether pushes were taken in since the last call (and forget it)."""
    taken = _taken_in.get()
    _taken_in.set(False)
    return taken


def _take_in(shop_id: int, carrier_code: str, result: WebhookResult,
             received_at: datetime) -> Answer:
    # One INSERT, committed on its own: the unique index decides "once", also when the
    # carrier's retry races the first send on another thread or machine.
    try:
        reports = dump_reports(result.reports)
    except (AttributeError, TypeError, ValueError):  # not TrackingReports: the plugin's fault
        return Answer(503, "The carrier plugin answered with reports the portal cannot read.")
    # Plain SQL: peewee building the INSERT cost as much as running it.
    try:
        database.execute_sql(_INSERT.format(param=database.obj.param), (
            shop_id, carrier_code, event_key(result.event_id),
            WebhookReceipt.received_at.db_value(received_at), reports))
    except IntegrityError:
        return Answer(200, f"Event {result.event_id} was taken in before; nothing changed.")
    _taken_in.set(True)
    scans = sum(len(report.updates) for report in result.reports)
    return Answer(200, f"Taken in: {scans} tracking event(s), applied in a moment.", scans)
