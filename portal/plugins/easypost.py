"""Tracking by webhook, in EasyPost's format (their ``tracker.updated`` Event).

Point an EasyPost webhook at ``/webhooks/carriers/easypost?shop=<your shop>``
with the secret shown on ``/seller/plugins``: EasyPost signs each body with
HMAC-SHA256 (``X-Hmac-Signature: hmac-sha256-hex=<hex>``, the secret NFKD
normalised). A push is checked in this order, and refused as data with a 4xx:
signature (constant-time), JSON shape, age (``created_at`` older than the
shop's tolerance is refused as a possible replay). EasyPost's tracker statuses
are mapped onto the portal's normalised ones.
"""

import hashlib
import hmac
import json
import unicodedata
from datetime import datetime, timedelta, timezone

from wtforms import Form, IntegerField
from wtforms.validators import InputRequired, NumberRange

from portal.hooks.hookspecs import hookimpl
from portal.hooks.hooktypes import PluginInfo, TrackingReport
from portal.hooks.hooktypes import TrackingStatus as S
from portal.hooks.hooktypes import TrackingUpdate, WebhookResult

CODE = "easypost"
INFO = PluginInfo("EasyPost tracking", "Scans of UPS, USPS, FedEx and DHL parcels, pushed by "
                  "EasyPost's tracker webhooks.")
SIGNATURE_HEADER = "x-hmac-signature"
STATUSES = {
    "unknown": S.PRE_TRANSIT, "pre_transit": S.PRE_TRANSIT, "in_transit": S.IN_TRANSIT,
    "out_for_delivery": S.OUT_FOR_DELIVERY, "available_for_pickup": S.OUT_FOR_DELIVERY,
    "delivered": S.DELIVERED, "return_to_sender": S.RETURNED_TO_SENDER,
    "failure": S.EXCEPTION, "error": S.EXCEPTION, "cancelled": S.EXCEPTION,
}


class EasyPostSettings(Form):
    tolerance_minutes = IntegerField(
        "Refuse pushes older than (minutes)", default=10,
        validators=[InputRequired(), NumberRange(1, 72 * 60)],
        description="A push created longer ago than this is refused as a possible replay.")


# What a signed but malformed body raises while it is read: JSON nested too deep
# (RecursionError), a date out of range (OverflowError), a missing or mistyped
# field. The carrier must hear 400, not "retry later": the same body never improves.
MALFORMED = (ValueError, KeyError, TypeError, AttributeError, RecursionError, OverflowError)


def sign(secret: str, body: bytes) -> str:
    """The ``X-Hmac-Signature`` value EasyPost sends for ``body``."""
    key = unicodedata.normalize("NFKD", secret).encode()
    return "hmac-sha256-hex=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def parse_time(text: str) -> datetime:
    """An EasyPost ISO 8601 time as naive UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def _refuse(status: int, message: str) -> WebhookResult:
    return WebhookResult(accepted=False, status=status, message=message)


@hookimpl
def plugin_info(plugin_name):
    return INFO if plugin_name == CODE else None


@hookimpl
def plugin_settings_form(plugin_name):
    return EasyPostSettings if plugin_name == CODE else None


@hookimpl
def carrier_parse_webhook(carrier_code, request, settings):
    if carrier_code != CODE:
        return None
    if not request.secret:
        return _refuse(403, "This shop has no webhook secret yet: enable the plugin first.")
    given = request.headers.get(SIGNATURE_HEADER, "")
    if not hmac.compare_digest(given.encode(), sign(request.secret, request.body).encode()):
        return _refuse(401, "The X-Hmac-Signature header does not match the body.")
    try:
        event = json.loads(request.body)
        event_id, kind = str(event["id"]), str(event["description"])
        created = parse_time(event["created_at"])
    except MALFORMED:
        return _refuse(400, "The body is not an EasyPost Event (id, description, created_at).")
    tolerance = timedelta(minutes=int(settings.get("tolerance_minutes") or 10))
    if abs(request.received_at - created) > tolerance:
        return _refuse(400, f"The event was created at {created:%Y-%m-%d %H:%M} UTC, outside "
                            "the accepted window: refused as a possible replay.")
    if kind != "tracker.updated":
        return WebhookResult(True, 200, f"{kind} events are not used.", event_id=event_id)
    try:
        report = _report(event["result"])
    except MALFORMED:
        return _refuse(400, "The tracker in the event is malformed.")
    return WebhookResult(True, 200, "ok", event_id=event_id, reports=(report,))


def _report(tracker: dict) -> TrackingReport:
    updates = []
    for detail in tracker.get("tracking_details") or []:
        at = parse_time(detail["datetime"])
        status = _status(detail.get("status", ""), detail.get("status_detail") or "")
        text = (detail.get("message") or detail.get("description") or status.label)[:300]
        place = _place(detail.get("tracking_location") or {})
        digest = hashlib.sha256(f"{detail['datetime']}|{status}|{text}".encode()).hexdigest()
        updates.append(TrackingUpdate(at, status, text, place, f"ep-{digest[:32]}"))
    eta = tracker.get("est_delivery_date")
    return TrackingReport(str(tracker["tracking_code"]).upper(), tuple(updates),
                          parse_time(eta).date() if eta else None)


def _status(status: str, detail: str) -> S:
    if "attempt" in detail:
        return S.FAILED_ATTEMPT
    return STATUSES.get(status, S.IN_TRANSIT)


def _place(location: dict) -> str:
    parts = [location.get("city"), location.get("state"), location.get("country")]
    return ", ".join(p for p in parts if p)[:120]
