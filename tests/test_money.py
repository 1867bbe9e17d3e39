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
