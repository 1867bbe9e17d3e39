"""Money: integer minor units plus an ISO 4217 code; formatting with babel.

Arithmetic stays in integers everywhere; only :func:`format_money` (used by
templates) turns an amount into text for a locale.
"""

from decimal import Decimal

from babel.numbers import format_currency, get_currency_precision


def to_decimal(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-get_currency_precision(currency))


def from_decimal(amount: Decimal | str, currency: str) -> int:
    """Major units as text or Decimal (``"12.50"``) to minor units (``1250``)."""
    scaled = Decimal(amount).scaleb(get_currency_precision(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more decimals than {currency} allows")
    return int(scaled)


def format_money(minor: int, currency: str, locale: str = "en_US") -> str:
    return format_currency(to_decimal(minor, currency), currency, locale=locale)
