"""Demo Parcel: a pretend carrier that moves parcels along by itself.

The portal polls it (every minute, in the background worker); each parcel
takes one step every few minutes: label created, picked up, in transit, out
for delivery, delivered, with now and then a delay or a failed attempt, so
that ``make run`` shows live tracking. It also quotes rates and sells labels
(nothing is charged), which is how "buy a label" is tried out.
"""

import hashlib
import re
import secrets
from datetime import timedelta

from wtforms import Form, IntegerField
from wtforms.validators import InputRequired, NumberRange

from portal.hookspecs import hookimpl
from portal.hooktypes import CarrierInfo, Label, Rate, TrackingNumberCheck, TrackingReport
from portal.hooktypes import TrackingStatus as S
from portal.hooktypes import TrackingUpdate

INFO = CarrierInfo(code="demo", name="Demo Parcel", tracking="polling", labels=True)
_NUMBER = re.compile(r"^DP\d{10}$")
SERVICES = [("ground", "Demo Ground", 599, 4), ("express", "Demo Express", 1299, 2)]

_START = [(S.PRE_TRANSIT, "Label created", "Portland, OR"),
          (S.IN_TRANSIT, "Picked up by carrier", "Portland, OR"),
          (S.IN_TRANSIT, "Arrived at sorting centre", "Sacramento, CA")]
_DELAY = [(S.EXCEPTION, "Delayed: weather on the route", "Sacramento, CA"),
          (S.IN_TRANSIT, "Back on its way", "Sacramento, CA")]
_ATTEMPT = [(S.OUT_FOR_DELIVERY, "Out for delivery", ""),
            (S.FAILED_ATTEMPT, "Delivery attempted: nobody home", "")]
_END = [(S.OUT_FOR_DELIVERY, "Out for delivery", ""),
        (S.DELIVERED, "Delivered, left at front door", "")]


class DemoSettings(Form):
    minutes_per_step = IntegerField(
        "Minutes between two steps of a parcel", default=2,
        validators=[InputRequired(), NumberRange(1, 1440)])


def route(tracking_number: str) -> list[tuple[S, str, str]]:
    """The steps this parcel will take: the same every time for the same number."""
    roll = hashlib.sha256(tracking_number.encode()).digest()[0]
    return _START + (_DELAY if roll % 5 == 0 else []) + (_ATTEMPT if roll % 7 == 0 else []) + _END


@hookimpl
def carrier_info():
    return INFO


@hookimpl
def plugin_settings_form(plugin_name):
    return DemoSettings if plugin_name == INFO.code else None


@hookimpl
def carrier_validate_tracking_number(carrier_code, tracking_number):
    if carrier_code != INFO.code:
        return None
    if not _NUMBER.match(tracking_number):
        return TrackingNumberCheck(False, tracking_number, INFO.code, INFO.name,
                                   message="A Demo Parcel number is DP and 10 digits.")
    return TrackingNumberCheck(True, tracking_number, INFO.code, INFO.name)


@hookimpl
def carrier_tracking_url(carrier_code):
    return "" if carrier_code == INFO.code else None  # a pretend carrier has no website


@hookimpl
def carrier_rates(carrier_code, parcel):
    if carrier_code != INFO.code:
        return None
    abroad = 1000 if parcel.from_country != parcel.to_country else 0
    heavy = 100 * max(0, parcel.weight_grams - 1000) // 500
    return [Rate(INFO.code, code, name, price + abroad + heavy, parcel.currency, days)
            for code, name, price, days in SERVICES]


@hookimpl
def carrier_buy_label(carrier_code, rate):
    if carrier_code != INFO.code:
        return None
    number = f"DP{secrets.randbelow(10**10):010d}"
    return Label(INFO.code, rate.service_code, rate.service_name, number,
                 label_id=f"demo_label_{secrets.token_hex(8)}", amount=rate.amount,
                 currency=rate.currency)


@hookimpl
def carrier_void_label(carrier_code):
    return True if carrier_code == INFO.code else None


@hookimpl
def carrier_track(carrier_code, query, settings, now):
    if carrier_code != INFO.code:
        return None
    step = timedelta(minutes=int(settings.get("minutes_per_step") or 2))
    steps = route(query.tracking_number)
    # A parcel the demo has not moved for a long time (seeded in the past, or
    # the worker was stopped) takes its next step now rather than all at once.
    since = max(query.last_event_at or query.shipped_at, now - step)
    updates = []
    for k, i in enumerate(range(query.known_events, len(steps)), start=1):
        at = since + k * step
        if at > now:
            break
        status, text, place = steps[i]
        updates.append(TrackingUpdate(at, status, text, place, f"{query.tracking_number}-{i}"))
    left = len(steps) - query.known_events
    eta = (since + max(left, 0) * step).date()
    return TrackingReport(query.tracking_number, tuple(updates), eta)
