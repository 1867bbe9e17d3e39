"""Money: integer minor units plus an ISO 4217 code; formatting with babel.

Arithmetic stays in integers everywhere; only :func:`format_money` (used by
templates) turns an amount into text for a locale.
"""

from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import NumberPattern, get_currency_precision


def to_decimal(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-get_currency_precision(currency))


def from_decimal(amount: Decimal | str, currency: str) -> int:
    """Major units as text or Decimal (``"12.50"``) to minor units (``1250``)."""
    scaled = Decimal(amount).scaleb(get_currency_precision(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more decimals than {currency} allows")
    return int(scaled)


@lru_cache(maxsize=8192)
def format_money(minor: int, currency: str, locale: str = "en_US") -> str:
    """What babel's ``format_currency`` gives. A list page shows dozens of amounts and
    a shop's prices repeat, so the text is kept per (amount, currency, locale): a
    repeated amount costs a dictionary lookup instead of babel's 0.1 ms."""
    parsed, pattern = _currency_pattern(locale)
    return pattern.apply(to_decimal(minor, currency), parsed, currency=currency)


@lru_cache(maxsize=32)
def _currency_pattern(locale: str) -> tuple[Locale, NumberPattern]:
    parsed = Locale.parse(locale)
    return parsed, parsed.currency_formats["standard"]
