"""A digital wallet: the buyer approves the payment on the wallet's page (a redirect flow).

At checkout the wallet cannot authorise alone: ``payment_authorise`` answers "send
the buyer to my page" (``redirect_url``), and the portal does, to the wallet's page
served inside the portal (``payment_page``): the shop, the amount, Approve or Cancel.
The buyer's choice goes back to the portal as the wallet's *answer*, an HMAC of the
choice, the payment's idempotency key and amount under the shop's secret for the
wallet; the portal hands it to ``payment_authorise`` as the token, and only an
answer made here for this very payment is taken (a forged one, or one made for
another order, leaves the payment waiting for the buyer). Like a real wallet it is
idempotent: the same key gets the same reference.

The money then moves as a card's does: captured when the order ships, voided on a
cancel before that, refunded after; the wallet answers for its own references only.
"""

import hashlib
import hmac

from wtforms import Form, StringField
from wtforms.validators import InputRequired, Length

from portal.hooks.hookspecs import hookimpl
from portal.hooks.hooktypes import (PageButton, PaymentOption, PaymentPage, PaymentResult,
                                    PluginInfo)

NAME = "wallet"
CODE = "wallet"
DEFAULT_NAME = "Demo Wallet"
INFO = PluginInfo("Digital wallet", "Buyers pay with their wallet: they approve the payment "
                  "on the wallet's page and come back to their order; captured when it ships.")

APPROVE, CANCEL = "approve", "cancel"
CANCELLED = "You cancelled the payment at {name}."
NOT_SET_UP = "This shop's wallet is not set up yet: choose another way to pay."
PREFIX = "wal_"  # the wallet's references: wal_auth_..., wal_capture_..., ...


class WalletSettings(Form):
    display_name = StringField(
        "Name shown to buyers", default=DEFAULT_NAME,
        validators=[InputRequired(), Length(max=40)],
        description="What buyers see at checkout, on the wallet's page and on their order.")


def name_of(settings: dict | None) -> str:
    return ((settings or {}).get("display_name") or DEFAULT_NAME)[:40]


def sign(secret: str, choice: str, key: str, amount: int, currency: str) -> str:
    """The wallet's answer for a payment: ``choice.signature``, bound to the payment."""
    message = f"{choice}|{key}|{amount}|{currency}".encode()
    return f"{choice}.{hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()}"


def verify(secret: str, token: str, key: str, amount: int, currency: str) -> str:
    """The buyer's choice an answer carries, when the wallet made it for this payment
    (compared in constant time); "" for anything else."""
    choice = (token or "").partition(".")[0]
    if not secret or choice not in (APPROVE, CANCEL):
        return ""
    return choice if hmac.compare_digest(token, sign(secret, choice, key, amount,
                                                     currency)) else ""


def make_reference(kind: str, key: str) -> str:
    return f"{PREFIX}{kind}_" + hashlib.sha256(key.encode()).hexdigest()[:20]


@hookimpl
def plugin_info(plugin_name):
    return INFO if plugin_name == NAME else None


@hookimpl
def plugin_settings_form(plugin_name):
    return WalletSettings if plugin_name == NAME else None


@hookimpl
def payment_methods(currency, settings):
    return [PaymentOption(CODE, name_of(settings), 0, currency)]


@hookimpl
def payment_authorise(method_code, amount, currency, token, idempotency_key, settings,
                      page_url, secret):
    if method_code != CODE:
        return None
    name = name_of(settings)
    if not secret:  # nothing could be signed: a buyer could never approve
        return PaymentResult(False, amount=amount, currency=currency, display=name,
                             message=NOT_SET_UP)
    choice = verify(secret, token, idempotency_key, amount, currency)
    if choice == APPROVE:
        return PaymentResult(True, make_reference("auth", idempotency_key), amount, currency, name)
    if choice == CANCEL:
        return PaymentResult(False, amount=amount, currency=currency, display=name,
                             message=CANCELLED.format(name=name))
    # No answer yet (or one that is not ours): the buyer answers on the wallet's page.
    return PaymentResult(False, amount=amount, currency=currency, display=name,
                         message=f"Waiting for the buyer to approve at {name}.",
                         redirect_url=page_url)


@hookimpl
def payment_page(method_code, payment, action, secret, settings):
    if method_code != CODE:
        return None
    name = name_of(settings)
    if not secret:
        return PaymentPage(name, message=NOT_SET_UP)
    if action in (APPROVE, CANCEL):
        return PaymentPage(name, answer=sign(secret, action, payment.idempotency_key,
                                             payment.amount, payment.currency))
    return PaymentPage(
        name, text=f"Approve to pay {payment.shop_name} from your {name} balance. Nothing "
                   "is taken until the order ships.",
        buttons=(PageButton(APPROVE, "Approve", primary=True), PageButton(CANCEL, "Cancel")))


def _follow_up(kind: str, authorised: str, amount: int, currency: str,
               key: str) -> PaymentResult:
    if not authorised.startswith(PREFIX + "auth_"):
        return PaymentResult(False, amount=amount, currency=currency,
                             message="No such payment at the wallet.")
    if amount <= 0:
        return PaymentResult(False, amount=amount, currency=currency,
                             message="The amount must be above zero.")
    return PaymentResult(True, make_reference(kind, key), amount, currency)


@hookimpl
def payment_capture(method_code, reference, amount, currency, idempotency_key):
    if method_code != CODE:
        return None
    return _follow_up("capture", reference, amount, currency, idempotency_key)


@hookimpl
def payment_refund(method_code, reference, amount, currency, idempotency_key):
    if method_code != CODE:
        return None
    return _follow_up("refund", reference, amount, currency, idempotency_key)


@hookimpl
def payment_void(method_code, reference, amount, currency, idempotency_key):
    if method_code != CODE:
        return None
    return _follow_up("void", reference, amount, currency, idempotency_key)
