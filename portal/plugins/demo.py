"""Demo Parcel: a pretend carrier that moves parcels along by itself.

The portal polls it (every minute, in the background worker); each parcel
takes its steps by itself: label created, picked up, in transit, out for
delivery, delivered, with now and then a delay or a failed attempt. It also
quotes rates and sells labels (nothing is charged), which is how "buy a label"
is tried out.

How fast is a setting. "Minutes": every parcel takes a step every few minutes.
"Mixed" (what ``seed-demo`` turns on): most parcels take days, as real ones do,
so that a demo left running keeps orders Shipped; one in :data:`FAST_ONE_IN`
(chosen by its number) moves every few minutes, to watch a parcel arrive.
"""

import hashlib
import re
import secrets
from datetime import timedelta

from wtforms import Form, IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange

from portal.hooks.hookspecs import hookimpl
from portal.hooks.hooktypes import CarrierInfo, Label, Rate, TrackingNumberCheck, TrackingReport
from portal.hooks.hooktypes import TrackingStatus as S
from portal.hooks.hooktypes import TrackingUpdate

INFO = CarrierInfo(code="demo", name="Demo Parcel", tracking="polling", labels=True)
_NUMBER = re.compile(r"^DP\d{10}$")
SERVICES = [("ground", "Demo Ground", 599, 4), ("express", "Demo Express", 1299, 2)]
FAST_ONE_IN = 8  # with "mixed" journeys, one parcel in 8 moves every few minutes
# With "mixed" journeys, the hours a slow parcel waits before a step of this kind
# (the least and the most; its number picks where in between): about 2-4 days in all.
HOURS_BEFORE = {S.PRE_TRANSIT: (1, 6), S.IN_TRANSIT: (4, 20), S.EXCEPTION: (8, 24),
                S.OUT_FOR_DELIVERY: (12, 30), S.FAILED_ATTEMPT: (2, 6), S.DELIVERED: (2, 8)}

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
    journeys = SelectField("How parcels travel", default="minutes", choices=[
        SelectChoice("minutes", "Every parcel takes a step every few minutes"),
        SelectChoice("mixed", "Most parcels take days, as real ones do; "
                              "one in 8 takes a step every few minutes")])
    minutes_per_step = IntegerField(
        "Minutes between two steps of a fast parcel", default=2,
        validators=[InputRequired(), NumberRange(1, 1440)])


def route(tracking_number: str) -> list[tuple[S, str, str]]:
    """The steps this parcel will take: the same every time for the same number."""
    roll = hashlib.sha256(tracking_number.encode()).digest()[0]
    return _START + (_DELAY if roll % 5 == 0 else []) + (_ATTEMPT if roll % 7 == 0 else []) + _END


def is_fast(tracking_number: str) -> bool:
    """With "mixed" journeys, whether this parcel is one of the few that move in minutes."""
    return hashlib.sha256(tracking_number.encode()).digest()[1] % FAST_ONE_IN == 0


def waits(tracking_number: str, settings: dict) -> list[timedelta]:
    """How long the parcel waits before each step of its :func:`route`."""
    steps = route(tracking_number)
    minutes = timedelta(minutes=int(settings.get("minutes_per_step") or 2))
    if settings.get("journeys") != "mixed" or is_fast(tracking_number):
        return [minutes] * len(steps)
    digest = hashlib.sha256(b"waits:" + tracking_number.encode()).digest()
    result = []
    for k, (status, _, _) in enumerate(steps):
        least, most = HOURS_BEFORE[status]
        result.append(timedelta(hours=least + (most - least) * digest[k] / 255))
    return result


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
    steps, wait = route(query.tracking_number), waits(query.tracking_number, settings)
    if query.known_events >= len(steps):
        return TrackingReport(query.tracking_number, (), None)
    # A parcel the demo has not moved for a long time (seeded in the past, or
    # the worker was stopped) takes its next step now rather than all at once.
    at = max(query.last_event_at or query.shipped_at, now - wait[query.known_events])
    updates = []
    for i in range(query.known_events, len(steps)):
        at += wait[i]
        if at > now:
            break
        status, text, place = steps[i]
        updates.append(TrackingUpdate(at, status, text, place, f"{query.tracking_number}-{i}"))
    eta = (at + sum(wait[i + 1:], timedelta()) if at > now else at).date()
    return TrackingReport(query.tracking_number, tuple(updates), eta)
