"""Template filters that format through precomputed parts give what babel gives."""

import random
from datetime import datetime, timedelta

import pytest
from babel.dates import format_datetime

from portal import create_app
from portal.web import filters


@pytest.mark.parametrize("locale,zone", [("en_US", "America/New_York"), ("de_DE", "UTC"),
                                         ("ja_JP", "Asia/Tokyo"), ("ar_EG", "Asia/Kolkata")])
def test_when_is_babels_format_datetime(locale, zone):
    app = create_app({"SECRET_KEY": "test", "TESTING": True, "DATABASE_URL": "sqlite://",
                      "LOCALE": locale, "TIMEZONE": zone})
    rng = random.Random(12)
    with app.app_context():
        for _ in range(400):
            value = datetime(2020, 1, 1) + timedelta(seconds=rng.randrange(10**9))
            for style in ("with_year", "short", "long"):
                parsed, pattern = filters._date_time_pattern(locale, style)
                expected = format_datetime(filters._local(value), pattern, locale=parsed)
                assert filters.when(value, style) == expected


def test_a_pattern_with_a_time_zone_is_left_to_babel(monkeypatch):
    monkeypatch.setattr(filters, "_date_time_pattern",
                        lambda locale, style: (filters.Locale.parse(locale), "MMM d, h:mm a z"))
    filters._when_parts.cache_clear()
    try:
        app = create_app({"SECRET_KEY": "test", "TESTING": True, "DATABASE_URL": "sqlite://"})
        with app.app_context():
            assert filters._when_parts("en_US", "with_year") is None
            assert filters.when(datetime(2026, 3, 1, 12, 5)).startswith("Mar 1, ")
            assert filters.when(datetime(2026, 3, 1, 12, 5)).endswith(("UTC", "EST", "GMT"))
    finally:
        filters._when_parts.cache_clear()


def test_link_prefix_plus_a_number_is_url_for(app):
    from flask import url_for

    with app.test_request_context("/", base_url="http://shop.example/portal"):
        for endpoint in ("seller.order", "buyer.order_detail"):
            prefix = filters.link_prefix(endpoint, "number")
            assert prefix + "SO-2026-000123" == url_for(endpoint, number="SO-2026-000123")
            assert prefix.startswith("/portal/")
