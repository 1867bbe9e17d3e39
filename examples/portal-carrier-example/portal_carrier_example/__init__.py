"""Swift Post: an example carrier plugin for the order portal.

Swift Post numbers are ``SP`` + 9 digits + a check digit (the sum of the
digits, mod 10). Swift Post pushes tracking news as JSON signed with
HMAC-SHA256 in ``X-Swift-Signature`` (hex of ``timestamp + "." + body``),
with the UNIX time in ``X-Swift-Timestamp``. It quotes rates and sells labels
inside the United States (with the shop's API key), and refuses, with a reason
the seller reads, parcels going elsewhere.
"""

import hashlib
import hmac
import json
import re
import secrets
from datetime import datetime, timedelta, timezone

from wtforms import Form, PasswordField, StringField
from wtforms.validators import InputRequired, Length, Optional

from portal import hookimpl
from portal.hooktypes import (CarrierInfo, Label, PluginRefusal, Rate, TrackingNumberCheck,
                              TrackingReport, TrackingStatus, TrackingUpdate, WebhookResult)

CODE = "swiftpost"
INFO = CarrierInfo(code=CODE, name="Swift Post", tracking="webhook", labels=True)
NUMBER = re.compile(r"^SP(\d{9})(\d)$")
MAX_AGE = timedelta(minutes=5)

# Swift Post's own status words, mapped onto the portal's normalised ones.
STATUSES = {
    "ACCEPTED": TrackingStatus.PRE_TRANSIT,
    "MOVING": TrackingStatus.IN_TRANSIT,
    "WITH_COURIER": TrackingStatus.OUT_FOR_DELIVERY,
    "DELIVERED": TrackingStatus.DELIVERED,
    "MISSED": TrackingStatus.FAILED_ATTEMPT,
    "PROBLEM": TrackingStatus.EXCEPTION,
    "RETURNED": TrackingStatus.RETURNED_TO_SENDER,
}


class SwiftPostSettings(Form):
    api_key = PasswordField("Swift Post API key", validators=[InputRequired(), Length(max=80)],
                            description="On your Swift Post dashboard, under Developers.")
    account = StringField("Swift Post account number", validators=[Optional(), Length(max=20)],
                          description="Printed on your labels; optional.")


def check_digit(digits: str) -> int:
    return sum(int(d) for d in digits) % 10


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


@hookimpl
def carrier_info():
    return INFO


@hookimpl
def plugin_settings_form(plugin_name):
    return SwiftPostSettings if plugin_name == CODE else None


@hookimpl
def carrier_validate_tracking_number(carrier_code, tracking_number):
    if carrier_code != CODE:
        return None
    match = NUMBER.match(tracking_number)
    if not match:
        return TrackingNumberCheck(False, tracking_number, CODE, INFO.name,
                                   message="A Swift Post number is SP and 10 digits.")
    if check_digit(match[1]) != int(match[2]):
        return TrackingNumberCheck(False, tracking_number, CODE, INFO.name,
                                   message="The check digit is wrong: look for a mistyped digit.")
    return TrackingNumberCheck(True, tracking_number, CODE, INFO.name,
                               tracking_url=f"https://swiftpost.example/track/{tracking_number}")


@hookimpl
def carrier_tracking_url(carrier_code, tracking_number):
    if carrier_code != CODE:
        return None
    return f"https://swiftpost.example/track/{tracking_number}"


SERVICES = [("standard", "Swift Standard", 650, 3), ("next_day", "Swift Next Day", 1450, 1)]


@hookimpl
def carrier_rates(carrier_code, parcel):
    if carrier_code != CODE:
        return None
    if parcel.to_country != "US":
        raise PluginRefusal("Swift Post delivers inside the United States only.")
    extra = 150 * max(0, parcel.weight_grams - 1000) // 1000
    return [Rate(CODE, code, name, price + extra, parcel.currency, days)
            for code, name, price, days in SERVICES]


@hookimpl
def carrier_buy_label(carrier_code, rate):
    if carrier_code != CODE:
        return None
    digits = f"{secrets.randbelow(10**9):09d}"
    number = f"SP{digits}{check_digit(digits)}"
    return Label(CODE, rate.service_code, rate.service_name, number, f"lbl_{number}",
                 rate.amount, rate.currency, f"https://swiftpost.example/track/{number}")


@hookimpl
def carrier_parse_webhook(carrier_code, request):
    if carrier_code != CODE:
        return None
    timestamp = request.headers.get("x-swift-timestamp", "")
    given = request.headers.get("x-swift-signature", "")
    expected = sign(request.secret, timestamp, request.body)
    if not request.secret or not hmac.compare_digest(given, expected):
        return WebhookResult(False, 401, "Bad signature.")
    try:
        sent = datetime.fromtimestamp(int(timestamp), timezone.utc).replace(tzinfo=None)
        push = json.loads(request.body)
        report = TrackingReport(
            tracking_number=push["parcel"],
            updates=tuple(TrackingUpdate(datetime.fromisoformat(scan["at"]), STATUSES[scan["status"]],
                                         scan["text"], scan.get("place", ""), scan["id"])
                          for scan in push["scans"]))
    except (ValueError, KeyError, TypeError):
        return WebhookResult(False, 400, "Not a Swift Post push.")
    if abs(request.received_at - sent) > MAX_AGE:
        return WebhookResult(False, 400, "Stale push refused.")
    return WebhookResult(True, 200, "ok", event_id=push["push_id"], reports=(report,))
