"""The redirect flow: an authorisation that waits for its buyer (a wallet).

A payment plugin whose method needs the buyer first answers ``payment_authorise``
with ``PaymentResult(succeeded=False, redirect_url=...)``. That is no decline:
:func:`wait_for_buyer` (``portal.payments.run`` calls it) keeps the row pending,
remembers where the buyer was sent, and puts the row out of the reconciler's way
until :data:`BUYER_WAIT` after it was written (the plugin is not asked every few
seconds about a buyer who is reading the wallet's page). Then the reconciler asks
once more (the buyer may have approved and closed the tab); if the plugin still
waits for the buyer, the authorisation is declined ("not completed in time") and,
as for any decline, the checkout's order is cancelled, its stock put back and the
cart refilled.

The buyer answers on the plugin's own page inside the portal (:data:`PAGE_PATH`,
drawn by the plugin's ``payment_page`` hook: :func:`page`) or on a gateway's site,
and comes back to :data:`RETURN_PATH` with the plugin's signed answer, which the
return view gives to ``payments.run`` as the token; the plugin verifies it.

No Flask here: the paths are the web layer's routes (``portal.web.payments``; a
test holds the two to each other).
"""

from datetime import datetime, timedelta

from portal.hooks import pluginmanager, shop_plugins
from portal.hooks.hooktypes import PaymentPage, PaymentPrompt, PaymentResult
from portal.models import Order, PaymentTransaction, Shop
from portal.orders import ledger, placing
from portal.orders.ledger import Kind, State

BUYER_WAIT = timedelta(hours=1)  # how long a payment may wait for its buyer
EXPIRED = "The wallet payment was not completed in time."
UNSAFE = "The payment plugin sent the buyer to an address the portal does not open."
PAGE_PATH = "/payments/{id}/pay"
RETURN_PATH = "/payments/{id}/return"
# A waiting row's message says where the buyer was sent (written and read here only).
_WAITING = "Waiting for the buyer at "


def urls(row: PaymentTransaction) -> dict:
    """The redirect flow's paths for an authorisation, as ``payment_authorise`` gets them."""
    return {"page_url": PAGE_PATH.format(id=row.id), "return_url": RETURN_PATH.format(id=row.id)}


def is_safe(url: str) -> bool:
    """A page of the portal itself (a path), or a gateway's page over https."""
    if any(c in url for c in "\r\n\x00\\") or len(url) > 1500:
        return False
    return (url.startswith("/") and not url.startswith("//")) or url.startswith("https://")


def wait_for_buyer(row: PaymentTransaction, result: PaymentResult,
                   now: datetime) -> PaymentTransaction:
    """The plugin needs the buyer first: keep the authorisation pending until
    :data:`BUYER_WAIT` after it was written, or decline it once that has passed (or
    when the plugin sends the buyer somewhere unsafe). Returns the row as it is now."""
    expired = now >= row.created_at + BUYER_WAIT
    if expired or not is_safe(result.redirect_url):
        why = EXPIRED if expired else UNSAFE
        done = ledger.complete(row.id, succeeded=False, message=why, display=result.display)
        if done is not None:
            placing.payment_declined(done.order_id, why)
        return done or PaymentTransaction.get_by_id(row.id)
    (PaymentTransaction.update(next_attempt_at=row.created_at + BUYER_WAIT,
                               message=_WAITING + result.redirect_url)
     .where((PaymentTransaction.id == row.id)
            & (PaymentTransaction.state == State.PENDING.value)).execute())
    return PaymentTransaction.get_by_id(row.id)


def waiting_url(row: PaymentTransaction | None) -> str:
    """Where the buyer answers a pending authorisation that waits for them ("" when it
    does not wait for the buyer)."""
    if row is None or row.state != State.PENDING or row.kind != Kind.AUTHORISE \
            or not (row.message or "").startswith(_WAITING):
        return ""
    return row.message[len(_WAITING):]


def waiting_of_order(order_id: int) -> str:
    """Where the order's buyer answers its payment that waits for them ("" if none does)."""
    row = (PaymentTransaction.select()
           .where((PaymentTransaction.order == order_id)
                  & (PaymentTransaction.kind == Kind.AUTHORISE.value)
                  & (PaymentTransaction.state == State.PENDING.value))
           .order_by(PaymentTransaction.id.desc()).first())
    return waiting_url(row)


def being_asked(row: PaymentTransaction, now: datetime, lease: timedelta) -> bool:
    """Whether someone is asking the plugin about this pending row right now (its lease
    is taken; a row that waits for its buyer is due much later)."""
    return (row.state == State.PENDING and row.next_attempt_at is not None
            and now < row.next_attempt_at <= now + lease)


def of_buyer(row_id: int, buyer_id: int) -> PaymentTransaction | None:
    """The authorisation ``row_id`` when it is of an order of ``buyer_id`` (None otherwise:
    another buyer's payment is not found, as their order is not)."""
    if not 0 < row_id < 2**63:  # beyond any id (and any database integer)
        return None
    return (PaymentTransaction.select().join(Order, on=(PaymentTransaction.order == Order.id))
            .where((PaymentTransaction.id == row_id) & (Order.buyer == buyer_id)
                   & (PaymentTransaction.kind == Kind.AUTHORISE.value))
            .first())


def page(row: PaymentTransaction, action: str = "") -> PaymentPage | None:
    """The plugin's page for a payment that waits for its buyer (``payment_page``), or
    None when the plugin draws none or is unavailable."""
    order = Order.get_by_id(row.order_id)
    setup = shop_plugins.for_shop(order.shop_id)
    prompt = PaymentPrompt(idempotency_key=row.idempotency_key, amount=row.amount,
                           currency=row.currency, order_number=order.number,
                           shop_name=Shop.select(Shop.name).where(Shop.id == order.shop_id)
                           .scalar() or "")
    outcome = pluginmanager.call(row.plugin, "payment_page", method_code=row.method_code,
                                 payment=prompt, action=action,
                                 secret=setup.secret(row.plugin),
                                 settings=setup.settings(row.plugin))
    return outcome.value if outcome.ok and isinstance(outcome.value, PaymentPage) else None
