"""The built-in coupon kinds: percentage, fixed amount, free shipping, bundle, loyalty.

Written as any coupon plugin is (``coupon_kinds`` and ``coupon_discounts``). The
portal keeps the rules every coupon shares (dates, minimum spend, limits, who may
use it, combining); a kind only says how much comes off which lines. Amounts are
rounded down (a discount never exceeds what the seller promised), and a kind never
takes more than the lines it applies to (the portal caps it again anyway).

A one-off coupon for one buyer (the remedy for a delayed order) is any of these
kinds with the portal's "only for this buyer" rule.
"""

from decimal import Decimal, InvalidOperation

from wtforms import Form, IntegerField, SelectMultipleField, StringField
from wtforms.validators import NumberRange, Optional, Regexp, ValidationError

from portal.hooks.hookspecs import hookimpl
from portal.hooks.hooktypes import CouponKind, Discount, PluginInfo, PluginRefusal
from portal.money import from_decimal

NAME = "coupons"
INFO = PluginInfo("Coupons", "Percentage and fixed-amount coupons, free shipping, bundle "
                  "offers and loyalty rewards.")
AMOUNT = Regexp(r"^\d{1,6}(\.\d{1,2})?$", message="An amount such as 5.00.")


def _products(label="Only these products (none: the whole order)"):
    # The seller's page fills a field named "products" with the shop's products.
    return SelectMultipleField(label, coerce=int, validate_choice=False)


class PercentageSettings(Form):
    percent = IntegerField("Percent off", validators=[NumberRange(1, 100)])
    products = _products()


class FixedSettings(Form):
    amount = StringField("Amount off", validators=[AMOUNT])
    products = _products()


class _OneOfPercentOrAmount(Form):
    percent = IntegerField("Percent off", validators=[Optional(), NumberRange(1, 100)])
    amount = StringField("or amount off", validators=[Optional(), AMOUNT])

    def validate_amount(self, field):
        if bool(self.percent.data) == bool(field.data):
            raise ValidationError("Give a percent or an amount (one of the two).")


class BundleSettings(_OneOfPercentOrAmount):
    products = _products("Products of the bundle")
    quantity = IntegerField("Items to buy from them", validators=[NumberRange(2, 99)])

    def validate_products(self, field):
        if not field.data:
            raise ValidationError("Choose the products of the bundle.")


class LoyaltySettings(_OneOfPercentOrAmount):
    orders = IntegerField("Delivered orders at the shop", validators=[NumberRange(1, 1000)])


KINDS = [
    CouponKind("percentage", "Percentage off", "A percentage off the order, or off some "
               "products.", PercentageSettings),
    CouponKind("fixed", "Fixed amount off", "An amount off the order, or off some products.",
               FixedSettings),
    CouponKind("free_shipping", "Free shipping", "The order ships for free."),
    CouponKind("bundle", "Bundle offer", "Buy N items from a set of products, get a "
               "percentage or an amount off them (an amount for every N).", BundleSettings),
    CouponKind("loyalty", "Loyalty reward", "For buyers with at least N delivered orders "
               "at your shop.", LoyaltySettings),
]
CODES = {kind.code for kind in KINDS}


def money(text, currency: str) -> int:
    try:
        return max(from_decimal(Decimal(str(text or "0")), currency), 0)
    except (InvalidOperation, ValueError):
        return 0


def percent_of(total: int, percent) -> int:
    """``percent`` % of ``total``, rounded down to the minor unit."""
    return total * max(0, min(int(percent or 0), 100)) // 100


def _eligible(cart, products) -> list:
    wanted = {int(p) for p in products or ()}
    return [line for line in cart.lines if not wanted or line.product_id in wanted]


def _off(lines, settings, currency: str, times: int = 1) -> int:
    total = sum(line.unit_price * line.quantity for line in lines)
    if settings.get("percent"):
        return percent_of(total, settings["percent"])
    return min(money(settings.get("amount"), currency) * times, total)


def discount_for(cart, coupon) -> Discount | None:
    """The discount one coupon of a built-in kind gives on ``cart``; None when nothing."""
    s, currency = coupon.settings or {}, cart.currency
    lines = _eligible(cart, s.get("products"))
    if coupon.kind == "free_shipping":
        return Discount(coupon.code, cart.shipping, currency, "Free shipping",
                        free_shipping=True)
    if coupon.kind == "percentage":
        amount, text = _off(lines, s, currency), f"{int(s.get('percent') or 0)}% off"
    elif coupon.kind == "fixed":
        amount, text = _off(lines, s, currency), "Money off"
    elif coupon.kind == "bundle":
        count, needed = sum(line.quantity for line in lines), int(s.get("quantity") or 2)
        if count < needed:
            raise PluginRefusal(f"Buy {needed} items of the offer to get it "
                                f"(your cart has {count})")
        amount, text = _off(lines, s, currency, count // needed), "Bundle offer"
    elif coupon.kind == "loyalty":
        needed = int(s.get("orders") or 1)
        if cart.delivered_orders < needed:
            raise PluginRefusal(f"It rewards buyers with {needed} delivered orders at this "
                                f"shop; you have {cart.delivered_orders} so far")
        lines = list(cart.lines)
        amount, text = _off(lines, s, currency), "Loyalty reward"
    else:
        return None
    return Discount(coupon.code, amount, currency, text,
                    variant_ids=tuple(line.variant_id for line in lines))


@hookimpl
def plugin_info(plugin_name):
    return INFO if plugin_name == NAME else None


@hookimpl
def coupon_kinds():
    return KINDS


@hookimpl
def coupon_discounts(cart, coupons):
    found = [discount_for(cart, c) for c in coupons if c.kind in CODES]
    return [d for d in found if d is not None]
