from decimal import Decimal

import pytest

from portal.money import format_money, from_decimal, to_decimal


def test_minor_units_round_trip_without_floats():
    assert to_decimal(1999, "USD") == Decimal("19.99")
    assert from_decimal("19.99", "USD") == 1999
    assert from_decimal("500", "JPY") == 500
    with pytest.raises(ValueError):
        from_decimal("1.005", "USD")


def test_formatting_follows_currency_and_locale():
    assert format_money(123456, "USD") == "$1,234.56"
    assert format_money(123456, "EUR", "de_DE") == "1.234,56\xa0€"
    assert format_money(500, "JPY", "ja_JP") == "￥500"


def test_formatting_matches_babels_format_currency_in_every_locale_we_show():
    from babel.numbers import format_currency

    for minor, currency, locale in [(12345, "USD", "en_US"), (-500, "EUR", "de_DE"),
                                    (123456789, "JPY", "ja_JP"), (99, "CHF", "de_CH"),
                                    (1234567, "INR", "hi_IN"), (0, "GBP", "en_GB")]:
        assert format_money(minor, currency, locale) == \
            format_currency(to_decimal(minor, currency), currency, locale=locale)
