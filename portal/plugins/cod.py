"""Cash on delivery: the buyer pays the courier; the shop sets the fee it charges.

The authorisation is the shop's promise to hand the parcel over against cash: it
always succeeds. The money is captured when the order is Delivered (the courier
collected it), not when it ships; a refund is paid back by the shop by hand and
recorded here; cancelling before delivery releases nothing but the promise.
"""

import hashlib
from decimal import Decimal, InvalidOperation

from wtforms import Form, StringField
from wtforms.validators import InputRequired, Regexp

from portal.hooks.hookspecs import hookimpl
from portal.hooks.hooktypes import PaymentOption, PaymentResult, PluginInfo
from portal.money import from_decimal

NAME = "cod"
CODE = "cod"
DISPLAY = "Cash on delivery"
INFO = PluginInfo("Cash on delivery", "The buyer pays the courier on delivery; your fee is "
                  "added at checkout and the money is recorded when the order is delivered.")
DEFAULT_FEE = "1.50"


class CodSettings(Form):
    fee = StringField(
        "Fee", default=DEFAULT_FEE,
        validators=[InputRequired(), Regexp(r"^\d{1,4}(\.\d{1,2})?$",
                                            message="An amount such as 1.50.")],
        description="Added to the order's total when the buyer chooses cash on delivery, "
                    "in the shop's currency.")


def fee_of(settings: dict | None, currency: str) -> int:
    """The shop's fee in minor units (the default when it never saved the form)."""
    text = (settings or {}).get("fee") or DEFAULT_FEE
    try:
        return max(from_decimal(Decimal(str(text)), currency), 0)
    except (InvalidOperation, ValueError):
        return from_decimal(Decimal(DEFAULT_FEE), currency)


def _reference(kind: str, key: str) -> str:
    return f"cod_{kind}_" + hashlib.sha256(key.encode()).hexdigest()[:20]


@hookimpl
def plugin_info(plugin_name):
    return INFO if plugin_name == NAME else None


@hookimpl
def plugin_settings_form(plugin_name):
    return CodSettings if plugin_name == NAME else None


@hookimpl
def payment_methods(currency, amount, settings):
    # The courier collects the money: it is captured when the order is Delivered.
    return [PaymentOption(CODE, DISPLAY, fee_of(settings, currency), currency,
                          capture="on_delivery")]


@hookimpl
def payment_authorise(method_code, amount, currency, idempotency_key):
    if method_code != CODE:
        return None
    return PaymentResult(True, _reference("auth", idempotency_key), amount, currency, DISPLAY)


@hookimpl
def payment_capture(method_code, amount, currency, idempotency_key):
    if method_code != CODE:
        return None
    return PaymentResult(True, _reference("capture", idempotency_key), amount, currency,
                         message="Collected by the courier on delivery.")


@hookimpl
def payment_refund(method_code, amount, currency, idempotency_key):
    if method_code != CODE:
        return None
    return PaymentResult(True, _reference("refund", idempotency_key), amount, currency,
                         message="To be paid back by the shop in person or by transfer.")


@hookimpl
def payment_void(method_code, amount, currency, idempotency_key):
    if method_code != CODE:
        return None
    return PaymentResult(True, _reference("void", idempotency_key), amount, currency)
