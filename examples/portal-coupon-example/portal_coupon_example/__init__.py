"""Spend more, save more: a percentage off that grows with the order's subtotal.

A coupon plugin implements two hooks: ``coupon_kinds`` (the kinds it brings, each with
the settings form the seller fills in) and ``coupon_discounts`` (how much a coupon of
its kind takes off a cart). It never sees the database: the cart and the coupon come as
``portal.hooktypes`` values, and the answer is a ``Discount``.
"""

from decimal import Decimal, InvalidOperation

from wtforms import Form, IntegerField, StringField
from wtforms.validators import NumberRange, Regexp, ValidationError

from portal import hookimpl
from portal.hooktypes import CouponKind, Discount, PluginInfo, PluginRefusal
from portal.money import format_money, from_decimal

NAME = "tiered"
KIND = "tiered"
AMOUNT = Regexp(r"^\d{1,6}(\.\d{1,2})?$", message="An amount such as 50.00.")


class TieredSettings(Form):
    first_from = StringField("First tier from (subtotal)", default="50.00", validators=[AMOUNT])
    first_percent = IntegerField("First tier: percent off", default=5,
                                 validators=[NumberRange(1, 90)])
    second_from = StringField("Second tier from (subtotal)", default="100.00",
                              validators=[AMOUNT])
    second_percent = IntegerField("Second tier: percent off", default=10,
                                  validators=[NumberRange(1, 90)])

    def validate_second_from(self, field):
        if Decimal(field.data or "0") <= Decimal(self.first_from.data or "0"):
            raise ValidationError("The second tier starts above the first.")


def _minor(text, currency: str) -> int:
    try:
        return from_decimal(Decimal(str(text)), currency)
    except (InvalidOperation, ValueError):
        return 0


def tier(subtotal: int, settings: dict, currency: str) -> int:
    """The percent off for this subtotal (0 below the first tier)."""
    if subtotal >= _minor(settings.get("second_from", "100"), currency):
        return int(settings.get("second_percent") or 0)
    if subtotal >= _minor(settings.get("first_from", "50"), currency):
        return int(settings.get("first_percent") or 0)
    return 0


@hookimpl
def plugin_info(plugin_name):
    if plugin_name == NAME:
        return PluginInfo("Spend more, save more", "A percentage off that grows with the "
                          "order's subtotal.")
    return None


@hookimpl
def coupon_kinds():
    return [CouponKind(KIND, "Spend more, save more", "A larger percentage off the more "
                       "the buyer spends (two tiers).", TieredSettings)]


@hookimpl
def coupon_discounts(cart, coupons):
    found = []
    subtotal = sum(line.unit_price * line.quantity for line in cart.lines)
    for coupon in coupons:
        if coupon.kind != KIND:
            continue
        percent = tier(subtotal, coupon.settings, cart.currency)
        if not percent:
            first = _minor(coupon.settings.get("first_from", "50"), cart.currency)
            # A reason the buyer reads, instead of a silent nothing.
            raise PluginRefusal(f"Spend {format_money(first, cart.currency)} or more to "
                                "get it")
        found.append(Discount(coupon.code, subtotal * percent // 100, cart.currency,
                              f"{percent}% off for spending more"))
    return found
