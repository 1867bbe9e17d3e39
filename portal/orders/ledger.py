"""The payment ledger, as the order domain keeps it: what was asked of the payment
plugin, what it answered, and the order's payment status that follows.

Every authorise, capture, refund and void is a :class:`~portal.models.PaymentTransaction`
row, written ``pending`` *before* the plugin is asked (:func:`request`, inside the
transaction of the change that moves the money: a shipment, a cancellation, a
return, an edit) and completed with the answer in a transaction of its own
(:func:`complete`). The plugin is called between the two, after the first commit,
by :mod:`portal.payments` (this module calls no plugin: the domain never imports the
plugin layer). A call whose outcome is unknown (the plugin overran its time budget
or crashed) stays pending and is asked again with the same idempotency key.

The rules, checked here with the order locked (:func:`portal.orders.lifecycle.lock`):
refunds never add up to more than was captured, a capture never more than was
authorised, a void only while nothing is captured. Money is integer minor units.

Orders made before the ledger have no rows: :func:`has_ledger` is false and the
order keeps its stored payment status.
"""

import contextvars
import uuid
from dataclasses import dataclass
from enum import StrEnum

from portal.db import database
from portal.models import Order, PaymentTransaction, utcnow
from portal.money import format_money
from portal.orders.errors import OrderRefused
from portal.orders.lifecycle import PaymentStatus, lock, record


class Kind(StrEnum):
    AUTHORISE = "authorise"
    CAPTURE = "capture"
    REFUND = "refund"
    VOID = "void"


class State(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


CAPTURES = ("on_shipping", "on_delivery")  # when an authorisation's money is taken

NO_PAYMENT = "There is no payment on record for this order, so nothing can be refunded here."

# Set when this thread of work asked for a payment call, so the caller knows to run it.
_requested: contextvars.ContextVar[bool] = contextvars.ContextVar("ledger_requested",
                                                                  default=False)


class PaymentRefused(OrderRefused):
    """A money movement the ledger does not allow (``payment.*``, ``refund.*``)."""


@dataclass(frozen=True)
class Totals:
    """What the ledger adds up to, in minor units. ``*_pending`` are calls whose
    outcome is not known yet; they count against what may still be asked.
    ``released`` is what voids gave back (or are giving back) of the authorisations:
    an order may have several, and a void releases one of them whole."""

    authorised: int = 0
    captured: int = 0
    refunded: int = 0
    voided: bool = False  # every authorisation released
    capture_pending: int = 0
    refund_pending: int = 0
    void_pending: bool = False
    rows: int = 0
    released: int = 0

    @property
    def refundable(self) -> int:
        """What a new refund may still take: captured (or being captured) minus every
        refund done or under way; never negative."""
        return max(self.captured + self.capture_pending - self.refunded - self.refund_pending, 0)

    @property
    def capturable(self) -> int:
        """What is authorised and not captured (nor being captured, nor released) yet."""
        if self.voided:
            return 0
        return max(self.authorised - self.released - self.captured - self.capture_pending, 0)

    @property
    def status(self) -> PaymentStatus | None:
        """The order's payment status as the ledger says (None: nothing authorised)."""
        if self.captured > 0:
            if self.refunded >= self.captured:
                return PaymentStatus.REFUNDED
            if self.refunded > 0:
                return PaymentStatus.PARTIALLY_REFUNDED
            return PaymentStatus.PAID
        if self.voided:
            return PaymentStatus.VOIDED
        if self.authorised > 0:
            return PaymentStatus.AUTHORISED
        return None


def totals(rows) -> Totals:
    """Add up ledger rows (anything with kind, state and amount)."""
    authorised = captured = refunded = capture_pending = refund_pending = 0
    released = released_done = 0
    void_pending = False
    n = 0
    for row in rows:
        n += 1
        done, pending = row.state == State.SUCCEEDED, row.state == State.PENDING
        if row.kind == Kind.AUTHORISE and done:
            authorised += row.amount
        elif row.kind == Kind.CAPTURE:
            captured += row.amount if done else 0
            capture_pending += row.amount if pending else 0
        elif row.kind == Kind.REFUND:
            refunded += row.amount if done else 0
            refund_pending += row.amount if pending else 0
        elif row.kind == Kind.VOID and (done or pending):
            released += row.amount
            released_done += row.amount if done else 0
            void_pending = void_pending or pending
    voided = authorised > 0 and released_done >= authorised
    return Totals(authorised, captured, refunded, voided, capture_pending, refund_pending,
                  void_pending, n, released)


def rows_of(order_id: int) -> list[PaymentTransaction]:
    return list(PaymentTransaction.select().where(PaymentTransaction.order == order_id)
                .order_by(PaymentTransaction.id))


def totals_of(order_id: int) -> Totals:
    return totals(rows_of(order_id))


def authorisation(rows: list[PaymentTransaction]) -> PaymentTransaction | None:
    """The order's first authorisation that succeeded: the checkout's payment, whose
    method the order shows."""
    return next((r for r in rows if r.kind == Kind.AUTHORISE and r.state == State.SUCCEEDED),
                None)


def per_authorisation(rows: list[PaymentTransaction]) -> list[tuple[PaymentTransaction, Totals]]:
    """Each authorisation that succeeded (oldest first) with the totals of the money it
    moved. A row naming no authorisation (written before there could be several)
    belongs to the first."""
    auths = [r for r in rows if r.kind == Kind.AUTHORISE and r.state == State.SUCCEEDED]
    if not auths:
        return []
    own: dict[int, list] = {a.id: [a] for a in auths}
    for r in rows:
        if r.kind != Kind.AUTHORISE:
            own.setdefault(r.authorisation_id or auths[0].id, []).append(r)
    return [(a, totals(own[a.id])) for a in auths]


def has_ledger(order_id: int) -> bool:
    return PaymentTransaction.select().where(PaymentTransaction.order == order_id).exists()


def new_key(order: Order, kind: str) -> str:
    return f"{order.number}-{kind}-{uuid.uuid4().hex[:16]}"


def take_requested() -> bool:
    """Whether payment calls were asked for since the last call (and forget it)."""
    asked = _requested.get()
    _requested.set(False)
    return asked


# -- writing: the pending row first --------------------------------------------------

def request(order: Order, kind: Kind, amount: int, *, reason: str = "",
            key: str | None = None) -> list[PaymentTransaction]:
    """Write the pending calls that move ``amount`` of ``kind``, against the order's
    authorisations.

    Call it inside the transaction of the change that moves the money, with the
    order locked (the rules are checked against the ledger as it is now). An order
    may have several authorisations (its checkout's, and one per balance the buyer
    paid): a capture takes from the oldest first, a refund gives back from the
    newest capture first, a void releases each authorisation nothing was taken of;
    one pending row per authorisation touched. Returns no rows for an order
    without a ledger (made before it) or an amount of zero; raises
    :class:`PaymentRefused` when the rule says no. The plugin is called after the
    commit (:mod:`portal.payments`).
    """
    rows = rows_of(order.id)
    parts = per_authorisation(rows)
    if not parts:
        if kind == Kind.REFUND and rows:
            raise PaymentRefused("refund.no_payment", NO_PAYMENT)
        return []
    sums = totals(rows)
    if amount <= 0:
        if kind == Kind.VOID and sums.capturable:
            amount = sums.capturable
        else:
            return []
    money = format_money(amount, order.currency)
    if kind == Kind.REFUND and amount > sums.refundable:
        left = format_money(sums.refundable, order.currency)
        raise PaymentRefused("refund.too_much", f"A refund of {money} is more than was paid "
                             f"and not refunded yet ({left}).", reason="more than was paid")
    if kind == Kind.CAPTURE and amount > sums.capturable:
        raise PaymentRefused("payment.capture_too_much", f"{money} is more than the payment "
                             "authorised and not taken yet.")
    if kind == Kind.VOID and (sums.captured or sums.capture_pending):
        raise PaymentRefused("payment.already_captured", "The payment was taken already: "
                             "refund it instead of releasing it.")
    shares = _shares(kind, amount, parts)
    return [_write(order, auth, kind, share, reason=reason,
                   key=key if key and len(shares) == 1 else None)
            for auth, share in shares]


def _shares(kind: Kind, amount: int, parts) -> list[tuple[PaymentTransaction, int]]:
    """How ``amount`` of ``kind`` is taken from each authorisation."""
    if kind == Kind.VOID:
        return [(auth, t.capturable) for auth, t in parts
                if t.capturable and not (t.captured or t.capture_pending)]
    room = (lambda t: t.capturable) if kind == Kind.CAPTURE else (lambda t: t.refundable)
    order = parts if kind == Kind.CAPTURE else list(reversed(parts))
    shares, left = [], amount
    for auth, t in order:
        share = min(left, room(t))
        if share > 0:
            shares.append((auth, share))
            left -= share
    return shares


def _write(order: Order, auth: PaymentTransaction, kind: Kind, amount: int, *,
           reason: str = "", key: str | None = None) -> PaymentTransaction:
    row = PaymentTransaction.create(
        order=order.id, kind=kind.value, amount=amount, currency=auth.currency,
        method_code=auth.method_code, plugin=auth.plugin, reference="",
        idempotency_key=key or new_key(order, kind.value), state=State.PENDING.value,
        display=auth.display, reason=reason[:200], next_attempt_at=utcnow(),
        authorisation=auth.id)
    _requested.set(True)
    return row


def on_delivery(auth: PaymentTransaction) -> bool:
    """Whether the money of this authorisation is taken when the order is Delivered
    rather than when it ships: its plugin's ``PaymentOption.capture`` (cash on
    delivery says so), stored on the row at checkout."""
    return auth.capture == "on_delivery"


def _capture(order: Order, *, delivered: bool) -> list[PaymentTransaction]:
    """Take what the order's total still needs from the authorisations captured at this
    moment (shipping or delivery), oldest first; never more than the total."""
    rows = rows_of(order.id)
    sums = totals(rows)
    left = order.total - sums.captured - sums.capture_pending
    made = []
    for auth, t in per_authorisation(rows):
        if on_delivery(auth) != delivered or t.captured or t.capture_pending:
            continue
        share = min(left, t.capturable)
        if share > 0:
            made.append(_write(order, auth, Kind.CAPTURE, share))
            left -= share
    return made


def capture_on_shipping(order: Order) -> list[PaymentTransaction]:
    """The first package left: take the order's total from what is authorised
    (authorisations captured on delivery wait for it)."""
    return _capture(order, delivered=False)


def capture_on_delivery(order: Order) -> list[PaymentTransaction]:
    """Delivered: cash on delivery was collected (the others were taken when they shipped)."""
    return _capture(order, delivered=True)


def release(order: Order, reason: str) -> list[PaymentTransaction]:
    """The order is cancelled: refund what was taken, void what is only authorised."""
    rows = rows_of(order.id)
    parts = per_authorisation(rows)
    if not parts:
        return []
    sums = totals(rows)
    made = request(order, Kind.REFUND, sums.refundable, reason=reason) \
        if sums.refundable else []
    return made + [_write(order, auth, Kind.VOID, share, reason=reason)
                   for auth, share in _shares(Kind.VOID, 0, parts)]


def _own(rows, auth: PaymentTransaction) -> Totals:
    return next((t for a, t in per_authorisation(rows) if a.id == auth.id), Totals())


def capture_authorisation(order: Order, auth: PaymentTransaction) -> list[PaymentTransaction]:
    """Take all of one authorisation now (a balance paid on an order already paid for)."""
    share = _own(rows_of(order.id), auth).capturable
    return [_write(order, auth, Kind.CAPTURE, share)] if share else []


def release_authorisation(order: Order, auth: PaymentTransaction, *,
                          reason: str) -> list[PaymentTransaction]:
    """Give back all of one authorisation: void it, or refund what was taken of it."""
    own = _own(rows_of(order.id), auth)
    if own.captured or own.capture_pending:
        return [_write(order, auth, Kind.REFUND, own.refundable, reason=reason)] \
            if own.refundable else []
    return [_write(order, auth, Kind.VOID, own.capturable, reason=reason)] \
        if own.capturable else []


# -- the answer, in a transaction of its own ------------------------------------------

def complete(row_id: int, *, succeeded: bool, reference: str = "", message: str = "",
             display: str = "") -> PaymentTransaction | None:
    """Record the plugin's answer for a pending call; the order's payment status
    follows, and the timeline says it (the buyer sees what moved, the seller also
    what failed). Returns None when the row was no longer pending (someone else
    recorded the answer first)."""
    order_id = PaymentTransaction.select(PaymentTransaction.order).where(
        PaymentTransaction.id == row_id).scalar()
    with database.atomic():
        order = lock(order_id)  # the write lock first (SQLite: no read before it)
        row = PaymentTransaction.get_by_id(row_id)
        state = State.SUCCEEDED if succeeded else State.FAILED
        fields = dict(state=state.value, message=(message or "")[:2000],
                      completed_at=utcnow(), next_attempt_at=None)
        if reference:
            fields["reference"] = reference[:120]
        if display:
            fields["display"] = display[:80]
        won = (PaymentTransaction.update(**fields)
               .where((PaymentTransaction.id == row_id)
                      & (PaymentTransaction.state == State.PENDING.value)).execute())
        if not won:
            return None
        for name, value in fields.items():
            setattr(row, name, value)
        store_status(order)
        record(order, "payment", describe(row, order.currency), actor_role="system",
               internal=not succeeded, amount=row.amount, currency=row.currency,
               payment_kind=row.kind, payment_state=row.state)
    return row


def store_status(order: Order) -> None:
    """Write the ledger's payment status (and what the order shows) on the order,
    without bumping its version: a payment's answer changes no field a seller edits."""
    rows = rows_of(order.id)
    status = totals(rows).status
    auth = authorisation(rows)
    fields = {}
    if status is not None and status.value != order.payment_status:
        fields["payment_status"] = status.value
    if auth is not None and auth.display and auth.display != order.payment_method:
        fields["payment_method"] = auth.display
    if fields:
        Order.update(**fields).where(Order.id == order.id).execute()
        for name, value in fields.items():
            setattr(order, name, value)


WORDS = {Kind.AUTHORISE: ("Payment of {money} authorised", "Payment of {money} declined"),
         Kind.CAPTURE: ("Payment of {money} captured", "Capture of {money} failed"),
         Kind.REFUND: ("Refund of {money} issued", "Refund of {money} failed"),
         Kind.VOID: ("Payment of {money} released (voided)", "Release of {money} failed")}


def describe(row: PaymentTransaction, currency: str) -> str:
    """The timeline's words for a completed call: "Refund of $10.00 issued: damaged"."""
    done, failed = WORDS[Kind(row.kind)]
    text = (done if row.state == State.SUCCEEDED else failed).format(
        money=format_money(row.amount, currency))
    if row.display:
        text += f" ({row.display})"
    if row.state == State.FAILED and row.message:
        text += f": {row.message}"
    elif row.reason:
        text += f": {row.reason}"
    return text


def still_pending(order_id: int) -> list[PaymentTransaction]:
    return [r for r in rows_of(order_id) if r.state == State.PENDING]
