"""Card payments through a test gateway that behaves like a real one.

The buyer's browser would hand the card to the gateway's own script, which answers
a one-time token; the portal only ever sees that token, and keeps the brand and the
last four digits the gateway answers with. :func:`tokenize` plays the gateway's
script here (Luhn, expiry and CVC checks, as a gateway's form does before anything
is sent). The card number and the CVC are never stored, never logged, and never in
the token.

The gateway's test cards (as in Stripe's test mode):

======================  ==============================================================
4242 4242 4242 4242     approved (Visa); 5555 5555 5555 4444 (Mastercard) too
4000 0000 0000 0002     declined: "Your card was declined."
4000 0000 0000 9995     declined: "Your card has insufficient funds."
4000 0000 0000 0119     "processing error": the first call with an idempotency key gets
                        no answer (as if the network dropped it); asked again with the
                        same key, it is approved
======================  ==============================================================

Any other number that passes the Luhn check is approved. The gateway is idempotent:
the same idempotency key gets the same answer (the reference is derived from it).
"""

import hashlib
import re
import secrets
import threading
from datetime import date

from wtforms import Form, StringField
from wtforms.validators import Length, Optional

from portal.hooks.hookspecs import hookimpl
from portal.hooks.hooktypes import PaymentOption, PaymentResult, PluginInfo

NAME = "card"
CODE = "card"
INFO = PluginInfo("Card payments", "Visa, Mastercard and American Express through the test "
                  "gateway: authorised at checkout, captured when the order ships.")

DECLINED = "Your card was declined."
INSUFFICIENT = "Your card has insufficient funds."
PROCESSING = "A processing error occurred; the gateway did not answer. Try again."

# The test numbers' behaviour: approve, decline, insufficient funds, processing error.
BEHAVIOUR = {"4000000000000002": "d", "4000000000009995": "f", "4000000000000119": "p"}
BRANDS = (("Visa", re.compile(r"^4")), ("Mastercard", re.compile(r"^(5[1-5]|2[2-7])")),
          ("American Express", re.compile(r"^3[47]")), ("Discover", re.compile(r"^6(011|5)")))
_TOKEN = re.compile(r"^tok_([a-z]+)_(\d{4})_([adfp])_(\d{4})(\d{2})_[0-9a-f]{16}$")
SHORT_BRAND = {"Visa": "visa", "Mastercard": "mc", "American Express": "amex",
               "Discover": "disc"}
LONG_BRAND = {v: k for k, v in SHORT_BRAND.items()}


class CardError(ValueError):
    """The card data the buyer typed is not usable; ``field`` says which box."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def luhn_ok(digits: str) -> bool:
    total = 0
    for k, ch in enumerate(reversed(digits)):
        d = int(ch)
        if k % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def brand_of(digits: str) -> str:
    return next((name for name, pattern in BRANDS if pattern.match(digits)), "")


def tokenize(number: str, exp: str, cvc: str, *, today: date | None = None) -> str:
    """Turn card data into the gateway's one-time token, as its script in the buyer's
    browser would: raises :class:`CardError` for a mistyped number, a past expiry
    (``MM/YY``) or a CVC of the wrong length. The token carries no card number."""
    digits = re.sub(r"[\s-]", "", number or "")
    # ASCII digits only: "²" passes str.isdigit() and would crash the Luhn check.
    if not (digits.isascii() and digits.isdigit()) or not 12 <= len(digits) <= 19 \
            or not luhn_ok(digits):
        raise CardError("number", "Your card number is incorrect.")
    brand = brand_of(digits)
    if not brand:
        raise CardError("number", "This card's brand is not accepted.")
    match = re.fullmatch(r"\s*(\d{1,2})\s*/\s*(\d{2}|\d{4})\s*", exp or "", re.ASCII)
    if not match or not 1 <= int(match.group(1)) <= 12:
        raise CardError("exp", "Your card's expiry date is incomplete (MM/YY).")
    month, year = int(match.group(1)), int(match.group(2))
    year += 2000 if year < 100 else 0
    today = today or date.today()
    if (year, month) < (today.year, today.month):
        raise CardError("exp", "Your card has expired.")
    if not re.fullmatch(r"\d{4}" if brand == "American Express" else r"\d{3}", cvc or "",
                        re.ASCII):
        raise CardError("cvc", "Your card's security code is incorrect.")
    behaviour = BEHAVIOUR.get(digits, "a")
    return (f"tok_{SHORT_BRAND[brand]}_{digits[-4:]}_{behaviour}_{year:04d}{month:02d}_"
            f"{secrets.token_hex(8)}")


class TestGateway:
    """The gateway's side: answers by token and idempotency key, the same answer for the
    same key. Keeps (in memory) the tokens it received by key and which
    processing-error keys it has seen."""

    def __init__(self):
        self._lock = threading.Lock()
        self._dropped: set[str] = set()  # keys whose first call got no answer
        self._received: dict[str, str] = {}  # key -> the token its first call sent

    @staticmethod
    def reference(kind: str, key: str) -> str:
        return f"tg_{kind}_" + hashlib.sha256(key.encode()).hexdigest()[:20]

    def authorise(self, token: str, amount: int, currency: str, key: str) -> PaymentResult:
        with self._lock:  # a retry with the same key is the same request (the token was sent)
            token = self._received.setdefault(key, token) if token else \
                self._received.get(key, "")
        match = _TOKEN.match(token or "")
        if not match:
            return PaymentResult(False, message="The card token is not valid; enter the card "
                                 "again.", amount=amount, currency=currency)
        brand, last4, behaviour = LONG_BRAND.get(match.group(1), "Card"), match.group(2), \
            match.group(3)
        display = f"{brand} •••• {last4}"
        if behaviour == "p":
            with self._lock:
                first = key not in self._dropped
                self._dropped.add(key)
            if first:
                raise ConnectionError(PROCESSING)
        if behaviour == "d":
            return PaymentResult(False, amount=amount, currency=currency, display=display,
                                 message=DECLINED)
        if behaviour == "f":
            return PaymentResult(False, amount=amount, currency=currency, display=display,
                                 message=INSUFFICIENT)
        return PaymentResult(True, self.reference("auth", key), amount, currency, display)

    def follow_up(self, kind: str, reference: str, amount: int, currency: str,
                  key: str) -> PaymentResult:
        if not reference.startswith("tg_auth_"):
            return PaymentResult(False, amount=amount, currency=currency,
                                 message="No such payment at the gateway.")
        if amount <= 0:
            return PaymentResult(False, amount=amount, currency=currency,
                                 message="The amount must be above zero.")
        return PaymentResult(True, self.reference(kind, key), amount, currency)


GATEWAY = TestGateway()


class CardSettings(Form):
    statement_descriptor = StringField(
        "Statement descriptor", validators=[Optional(), Length(max=22)],
        description="What the buyer's bank statement shows (22 characters at most).")


@hookimpl
def plugin_info(plugin_name):
    return INFO if plugin_name == NAME else None


@hookimpl
def plugin_settings_form(plugin_name):
    return CardSettings if plugin_name == NAME else None


@hookimpl
def payment_methods(currency, amount, settings):
    return [PaymentOption(CODE, "Card", 0, currency)]


@hookimpl
def payment_authorise(method_code, amount, currency, token, idempotency_key):
    if method_code != CODE:
        return None
    return GATEWAY.authorise(token, amount, currency, idempotency_key)


@hookimpl
def payment_capture(method_code, reference, amount, currency, idempotency_key):
    if method_code != CODE:
        return None
    return GATEWAY.follow_up("capture", reference, amount, currency, idempotency_key)


@hookimpl
def payment_refund(method_code, reference, amount, currency, idempotency_key):
    if method_code != CODE:
        return None
    return GATEWAY.follow_up("refund", reference, amount, currency, idempotency_key)


@hookimpl
def payment_void(method_code, reference, amount, currency, idempotency_key):
    if method_code != CODE:
        return None
    return GATEWAY.follow_up("void", reference, amount, currency, idempotency_key)
