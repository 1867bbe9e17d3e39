"""Balance due: a seller's change that raises what the buyer pays waits for the buyer.

The issue's rule, and Shopify's order editing: a seller may lower a paid total (the
difference is refunded, :mod:`portal.orders.editing`), but money the buyer has not
agreed to is never taken. So an edit of the items whose new total is more than the
buyer's payment covers is not made: it is kept as a :class:`~portal.models.PendingChange`
and the order shows "Balance due" (``orders.balance_due``) with a Pay button to its
buyer. While it waits the order does not ship and its items are not edited again.

- The buyer pays the difference (:func:`start_payment`): a second authorisation on
  the order's ledger, keyed ``balance-<change id>-<form token>`` (a double submit is
  one payment). When its answer is known (at once, after a wallet's redirect, or by
  the reconciler) :func:`answered` makes the change in one transaction: stock, lines,
  totals, the timeline. If the change can no longer be made (stock ran out, the order
  moved on), the new authorisation is released and the buyer told: nothing taken.
- The seller cancels the change, or the buyer declines it (:func:`call_off`): the
  order stays as it was. Cancelling the order calls it off too.

An approved modification request follows the same rule (it goes through
:func:`portal.orders.editing.change_lines`).
"""

import json
import re

from portal.db import database
from portal.models import Order, PaymentTransaction, PendingChange, User, utcnow
from portal.money import format_money
from portal.orders import ledger
from portal.orders.errors import EditRefused, OrderRefused
from portal.orders.lifecycle import StaleOrder, Status, lock, record, update_order

WAITING, APPLIED, CANCELLED = "waiting", "applied", "cancelled"
_KEY = re.compile(r"^balance-(\d+)-")


class BalanceRefused(OrderRefused):
    """A balance payment that cannot be made (``balance.*``)."""


def amount_due(order: Order, new_total: int) -> int:
    """What the buyer must pay before the order may carry ``new_total``: the part of it
    their payment does not cover (0: the change can be made now). Call it with the
    order locked. Orders from before the ledger move no money (0)."""
    rows = ledger.rows_of(order.id)
    if not rows:
        return 0
    sums = ledger.totals(rows)
    if sums.captured or sums.capture_pending:  # paid: every bit more is new money
        return max(new_total - order.total, 0)
    if not sums.authorised:
        if new_total > order.total:
            raise EditRefused("edit.payment_unconfirmed", "The buyer's payment is not "
                              "confirmed yet: raise the total once it is. Nothing was changed.")
        return 0
    return max(new_total - sums.capturable, 0)


def waiting(order: Order) -> PendingChange | None:
    """The order's change that waits for the buyer's payment, if any."""
    if not order.balance_due:
        return None
    return (PendingChange.select().where((PendingChange.order == order.id)
                                         & (PendingChange.state == WAITING)).first())


def propose(order: Order, changes: dict, edit, due: int, *, version: int, actor: User,
            request_id: int | None = None) -> PendingChange:
    """Keep ``edit`` (worked out by ``editing.plan_lines``) waiting for the buyer to pay
    ``due``. Inside the edit's transaction, with the order locked and checked
    (``actions.edit``: no other change waits)."""
    from portal.orders.fulfilment import lines_of

    change = PendingChange.create(
        order=order.id, request=request_id, created_by=actor.id,
        changes=json.dumps({str(k): list(v) for k, v in changes.items()}),
        lines_before=json.dumps({str(line.id): [line.variant_id, line.quantity]
                                 for line in lines_of(order)}),
        description=edit.describe(order.currency, order.total)[:500],
        total_before=order.total, total_after=edit.total, amount_due=due)
    update_order(order, version=version, balance_due=due)
    record(order, "balance_due",
           f"Items to change: {change.description}. Balance due: "
           f"{format_money(due, order.currency)}: the change is made once the buyer pays it",
           actor=actor, actor_role="seller", amount=due, currency=order.currency)
    return change


# -- the buyer pays ------------------------------------------------------------------

def payment_key(change: PendingChange, form_token: str) -> str:
    return f"balance-{change.id}-{form_token}"


def change_of(row: PaymentTransaction) -> PendingChange | None:
    """The change a balance payment pays for (None: not a balance payment)."""
    found = _KEY.match(row.idempotency_key or "")
    return PendingChange.get_or_none(id=int(found.group(1))) if found else None


def start_payment(order: Order, buyer: User, *, plugin: str, method_code: str,
                  display: str, form_token: str,
                  capture: str = "on_shipping") -> PaymentTransaction:
    """The pending authorisation of the balance, written before the plugin is asked
    (``portal.payments.run`` asks it, then :func:`answered` acts on its answer). The
    same ``form_token`` answers with the same row. ``capture`` is when the method
    takes its money (its option's ``capture``)."""
    if order.buyer_id != buyer.id:
        raise BalanceRefused("balance.not_yours", "This is not your order.")
    if not form_token or len(form_token) > 64:
        raise BalanceRefused("balance.expired", "This form has expired: open the order again.")
    with database.atomic():
        order = lock(order.id)
        sent = (PaymentTransaction.select().where(
            (PaymentTransaction.order == order.id)
            & PaymentTransaction.idempotency_key.startswith("balance-")
            & PaymentTransaction.idempotency_key.endswith(f"-{form_token}")).first())
        if sent is not None:  # this form was sent before: its payment, whatever became of it
            return sent
        change = waiting(order)
        if change is None:
            raise BalanceRefused("balance.none_due", f"Order {order.number} has no balance "
                                 "to pay: the shop's change was made or called off.")
        return PaymentTransaction.create(
            order=order.id, kind=ledger.Kind.AUTHORISE.value, amount=change.amount_due,
            currency=order.currency, method_code=method_code, plugin=plugin,
            idempotency_key=payment_key(change, form_token), state=ledger.State.PENDING.value,
            display=display[:80], reason=f"balance for the change of items #{change.id}",
            capture=capture if capture in ledger.CAPTURES else "on_shipping",
            next_attempt_at=utcnow())


def answered(row: PaymentTransaction) -> bool:
    """Act on the answer to a balance payment (False: ``row`` is not one). Approved:
    the change is made, or, when it can no longer be, the authorisation is released
    and the change called off. Declined: the change keeps waiting (the buyer may try
    another way to pay; the ledger's timeline entry says why)."""
    change = change_of(row)
    if change is None or row.kind != ledger.Kind.AUTHORISE:
        return False
    if row.state != ledger.State.SUCCEEDED:
        return True
    try:
        with database.atomic():
            _apply(change.id, row)
    except OrderRefused as why:
        with database.atomic():
            order = lock(change.order_id)
            ledger.release_authorisation(order, row, reason="the change could not be made")
            _close(order, change.id, f"it could not be made: {why.message}", actor=None,
                   actor_role="system")
    return True


def _apply(change_id: int, row: PaymentTransaction) -> None:
    from portal.orders.editing import plan_lines, write_lines
    from portal.orders.fulfilment import lines_of

    order = lock(row.order_id)  # the change's order: the payment is on it
    change = PendingChange.get_by_id(change_id)
    if change.order_id != order.id or change.state != WAITING:
        raise BalanceRefused("balance.none_due", "The change was called off before the "
                             "payment arrived.")
    if order.status not in (Status.PENDING, Status.PROCESSED) or order.shipped_count:
        raise BalanceRefused("balance.order_moved", f"the order is {Status(order.status).label}")
    lines = lines_of(order)
    now = {str(line.id): [line.variant_id, line.quantity] for line in lines}
    if now != json.loads(change.lines_before):
        raise BalanceRefused("balance.order_moved", "the order's items changed since")
    edit = plan_lines(order, {int(k): tuple(v) for k, v in json.loads(change.changes).items()},
                      lines)
    if edit is None:
        raise BalanceRefused("balance.order_moved", "nothing is left to change")
    paid = ledger.totals(ledger.rows_of(order.id))
    write_lines(order, edit, version=order.version, actor=change.created_by,
                balance_due=0)
    PendingChange.update(state=APPLIED, decided_at=utcnow()).where(
        PendingChange.id == change.id).execute()
    if paid.captured or paid.capture_pending:  # the rest was taken already: this too
        ledger.capture_authorisation(order, row)
    record(order, "balance_paid", f"Balance of {format_money(row.amount, order.currency)} "
           "paid: the shop's change of the items is made", actor_role="buyer")


def call_off(order: Order, *, actor: User | None, actor_role: str, reason: str,
             version: int | None = None) -> bool:
    """The seller cancels the waiting change, or the buyer declines it: the order stays
    as it was. False when nothing waited. (A balance payment answered later is released,
    see :func:`answered`.)"""
    reason = (reason or "").strip()
    with database.atomic():
        locked = lock(order.id)
        change = waiting(locked)
        if change is None:
            return False
        if version is not None and version != locked.version:
            raise StaleOrder(order.number)
        _close(locked, change.id, reason or "called off", actor=actor, actor_role=actor_role)
    order.balance_due, order.version = 0, locked.version
    return True


def _close(order: Order, change_id: int, reason: str, *, actor, actor_role: str) -> None:
    """Call the change off (when it still waits), inside a transaction, order locked."""
    closed = (PendingChange.update(state=CANCELLED, decided_at=utcnow(), reason=reason[:300])
              .where((PendingChange.id == change_id) & (PendingChange.state == WAITING))
              .execute())
    if closed:
        update_order(order, balance_due=0)
        who = {"buyer": "The buyer declined", "seller": "The shop cancelled"}.get(
            actor_role, "Called off")
        record(order, "balance_cancelled",
               f"{who} the change of items; no balance is due: {reason}"[:500],
               actor=actor, actor_role=actor_role)
