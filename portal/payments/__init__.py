"""Payments: the ledger's calls to the shop's payment plugins (this module: the one
boundary between the order domain's ledger, ``portal.orders.ledger``, and payment
plugins).

A money movement is always two transactions with the plugin call between them:
the pending row is written and committed (by the change that moves the money, or
here), then the plugin is asked with the row's idempotency key (:func:`run`), then
the answer is recorded with the order's payment status (``ledger.complete``). So a
change that rolls back never moved money, and money that moved is never lost by a
rollback. A call that overruns the plugin time budget, or crashes, leaves its row
pending: :func:`reconcile` (the ``reconcile_payments`` background task, every
minute) asks again with the same key until the plugin knows the outcome.

No Flask here: the seller's refund form and the checkout call these functions.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from portal import outbox
from portal.db import database
from portal.hooks import pluginmanager, shop_plugins
from portal.hooks.hooktypes import PaymentOption, PaymentResult
from portal.models import Order, PaymentTransaction, User, utcnow
from portal.orders import actions, balance, ledger, placing
from portal.orders.ledger import Kind, PaymentRefused, State
from portal.orders.lifecycle import lock
from portal.payments import redirects

__all__ = ["PaymentRefused", "Method", "methods", "authorise", "run", "settle", "refund",
           "reconcile"]

log = logging.getLogger("portal.payments")

HOOKS = {Kind.AUTHORISE: "payment_authorise", Kind.CAPTURE: "payment_capture",
         Kind.REFUND: "payment_refund", Kind.VOID: "payment_void"}
LEASE = timedelta(seconds=30)  # a call being made is left alone this long by other workers


def backoff(attempts: int) -> timedelta:
    """10 s, 20 s, 40 s, ... at most 15 minutes between asking again."""
    return timedelta(seconds=min(10 * 2 ** max(attempts - 1, 0), 900))


@dataclass(frozen=True)
class Method:
    """A way to pay a shop offers: the plugin that brings it and its option (with fee)."""

    plugin: str
    option: PaymentOption


def methods(shop, currency: str, amount: int) -> list[Method]:
    """The shop's enabled payment methods for an amount, each with its fee. An option
    that does not say when its money is captured in words the ledger knows is left
    out (taking money at the wrong moment is worse than one method fewer)."""
    setup = shop_plugins.for_shop(shop)
    found = []
    for name in setup.enabled():
        outcome = pluginmanager.call(name, "payment_methods", shop_id=getattr(shop, "id", shop),
                                     currency=currency, amount=amount,
                                     settings=setup.settings(name))
        if not (outcome.ok and isinstance(outcome.value, list)):
            continue
        for option in outcome.value:
            if not isinstance(option, PaymentOption):
                continue
            if option.capture not in ledger.CAPTURES:
                log.warning("plugin %s: payment option %s says capture=%r, not one of %s; "
                            "not offered", name, option.method_code, option.capture,
                            ", ".join(ledger.CAPTURES))
                continue
            found.append(Method(name, option))
    return found


# -- the calls -------------------------------------------------------------------

def _claim(row: PaymentTransaction, now: datetime) -> bool:
    """Take a pending row for this worker for :data:`LEASE`; False if another has it."""
    return (PaymentTransaction.update(next_attempt_at=now + LEASE,
                                      attempts=PaymentTransaction.attempts + 1)
            .where((PaymentTransaction.id == row.id)
                   & (PaymentTransaction.state == State.PENDING.value)
                   & (PaymentTransaction.next_attempt_at == row.next_attempt_at))
            .execute()) == 1


def _arguments(row: PaymentTransaction, token: str | None) -> dict:
    args = dict(method_code=row.method_code, amount=row.amount, currency=row.currency,
                idempotency_key=row.idempotency_key)
    if row.kind == Kind.AUTHORISE:
        args["token"] = token or ""
        args.update(redirects.urls(row))  # for a method that needs the buyer first
    else:  # the authorisation this call moves money of (the first, for old rows)
        auth = (PaymentTransaction.get_or_none(id=row.authorisation_id) if row.authorisation_id
                else ledger.authorisation(ledger.rows_of(row.order_id)))
        args["reference"] = auth.reference if auth else ""
    return args


def run(row: PaymentTransaction, *, token: str | None = None,
        now: datetime | None = None) -> PaymentTransaction:
    """Ask the plugin for a pending row's call and record the answer.

    An answer (approved or declined) completes the row; no answer (the plugin
    overran its budget, crashed, or is resting) leaves it pending, due again after
    a back-off, with why in ``message``. An authorisation the plugin answers with a
    ``redirect_url`` waits for its buyer, pending (``redirects.waiting_url`` says
    where they go), until it is answered or expires (:mod:`portal.payments.redirects`).
    Returns the row as it is now.
    """
    now = now or utcnow()
    if row.state != State.PENDING or not _claim(row, now):
        return PaymentTransaction.get_by_id(row.id)
    order = Order.get_by_id(row.order_id)
    setup = shop_plugins.for_shop(order.shop_id)
    hook = HOOKS[Kind(row.kind)]
    extra = {"secret": setup.secret(row.plugin)} if row.kind == Kind.AUTHORISE else {}
    outcome = pluginmanager.call(row.plugin, hook, settings=setup.settings(row.plugin),
                                 **_arguments(row, token), **extra)
    if outcome.refused:
        done = ledger.complete(row.id, succeeded=False, message=outcome.refused)
        return _authorised(done) or PaymentTransaction.get_by_id(row.id)
    result = outcome.value
    if outcome.ok and isinstance(result, PaymentResult) and row.kind == Kind.AUTHORISE \
            and not result.succeeded and result.redirect_url:
        return redirects.wait_for_buyer(row, result, now)
    if outcome.ok and isinstance(result, PaymentResult):
        done = ledger.complete(row.id, succeeded=result.succeeded, reference=result.reference,
                               message=result.message, display=result.display)
        return _authorised(done) or PaymentTransaction.get_by_id(row.id)
    why = outcome.error or (f"{row.plugin} does not answer {hook}" if outcome.ok else "")
    attempts = row.attempts + 1
    log.warning("payment %s (%s %s) outcome unknown after attempt %s: %s; asking again later",
                row.idempotency_key, row.kind, row.amount, attempts, why)
    (PaymentTransaction.update(next_attempt_at=now + backoff(attempts),
                               message=f"No answer yet ({why}); asking again."[:2000])
     .where((PaymentTransaction.id == row.id)
            & (PaymentTransaction.state == State.PENDING.value)).execute())
    return PaymentTransaction.get_by_id(row.id)


def _authorised(done: PaymentTransaction | None) -> PaymentTransaction | None:
    """Act on a known answer to an authorisation, whoever heard it (the buyer's own
    request, or the reconciler later): a balance paid makes the seller's waiting change
    (:mod:`portal.orders.balance`); a checkout's declined payment cancels its order and
    refills the cart (:func:`portal.orders.placing.payment_declined`)."""
    if done is None or done.kind != Kind.AUTHORISE:
        return done
    if balance.answered(done):
        if ledger.take_requested():  # a capture or release it asked for
            settle(done.order_id)
    elif done.state == State.FAILED:
        placing.payment_declined(done.order_id, done.message or "declined")
    return done


def settle(order_id: int, *, now: datetime | None = None) -> list[PaymentTransaction]:
    """Make the order's pending calls that are due, oldest first; stop at one whose
    outcome stays unknown (a refund is never asked before the capture it refunds)."""
    now = now or utcnow()
    done = []
    for row in ledger.still_pending(order_id):
        if row.next_attempt_at is None or row.next_attempt_at > now:
            if row.kind == Kind.AUTHORISE:  # e.g. one waiting for its buyer: no other
                continue  # call depends on it (captures name authorisations that succeeded)
            break
        row = run(row, now=now)
        done.append(row)
        if row.state == State.PENDING:
            break
    return done


def reconcile(now: datetime | None = None, limit: int = 200) -> int:
    """Ask again about every call whose outcome is unknown and is due (oldest first,
    each order's calls in order). Returns how many calls were made."""
    now = now or utcnow()
    due = (PaymentTransaction.select(PaymentTransaction.order)
           .where(PaymentTransaction.next_attempt_at.is_null(False)
                  & (PaymentTransaction.next_attempt_at <= now))
           .order_by(PaymentTransaction.next_attempt_at, PaymentTransaction.id).limit(limit))
    made = 0
    for order_id in dict.fromkeys(row.order_id for row in due):
        made += len(settle(order_id, now=now))
    return made


# -- cash on delivery: captured when the order is Delivered, whoever says so -----------

def _delivered(event) -> list[str]:
    return ["capture"] if outbox.payload(event).get("after") == "delivered" else []


def _capture_delivered(event, target: str) -> None:
    """An order became Delivered (the seller, or its carrier's tracking): the money of a
    method captured on delivery is taken now (once: a capture already asked is kept)."""
    with database.atomic():
        ledger.capture_on_delivery(lock(event.order_id))
    ledger.take_requested()
    settle(event.order_id)


# The outbox consumer that hears of deliveries (portal.background lists it).
ON_DELIVERY = outbox.Consumer("payments", frozenset({"status_changed"}), _delivered,
                              _capture_delivered)


def authorise(order: Order, *, plugin: str, method_code: str, token: str, amount: int,
              idempotency_key: str, capture: str = "on_shipping") -> PaymentTransaction:
    """Reserve ``amount`` for ``order`` (checkout): the pending row is committed, then the
    plugin is asked. The same key answers with the same row (a double submit).
    ``capture`` is when the money will be taken (the option's ``capture``)."""
    existing = PaymentTransaction.get_or_none(PaymentTransaction.idempotency_key
                                              == idempotency_key)
    if existing is None:
        with database.atomic():
            existing = PaymentTransaction.create(
                order=order.id, kind=Kind.AUTHORISE.value, amount=amount,
                currency=order.currency, method_code=method_code, plugin=plugin,
                idempotency_key=idempotency_key, state=State.PENDING.value,
                capture=capture if capture in ledger.CAPTURES else "on_shipping",
                next_attempt_at=utcnow())
    return run(existing, token=token) if existing.state == State.PENDING else existing


def refund(order: Order, amount: int, *, reason: str, actor: User) -> PaymentTransaction:
    """The seller gives ``amount`` back: checked (:func:`portal.orders.actions.refund`)
    with the order locked, so two refunds at once never pass together; the pending
    rows (one per authorisation it gives back from) are committed before the plugin
    is asked. Returns the row that tells the outcome (a failed one first, then one
    still pending). Raises ``OrderRefused``."""
    reason = (reason or "").strip()
    with database.atomic():
        locked = lock(order.id)
        sums = ledger.totals_of(order.id)
        actions.refund(locked, sums, has_ledger=bool(sums.rows)).check()
        if not reason:
            raise PaymentRefused("refund.no_reason", "Say why you refund; the buyer sees it.")
        if amount <= 0:
            raise PaymentRefused("refund.bad_amount", "Refund an amount above zero.")
        rows = ledger.request(locked, Kind.REFUND, amount,
                              reason=f"{reason} (by {actor.name})")
    ledger.take_requested()
    done = [run(row) for row in rows]
    return next((r for r in done if r.state == State.FAILED),
                next((r for r in done if r.state == State.PENDING), done[0]))
