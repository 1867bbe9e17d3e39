"""What may happen to an order now, and why not: the one place that decides it.

For an order and a user (its buyer, or the shop's seller) :func:`for_user` (or
:func:`for_seller`, :func:`for_buyer`) answers with an :class:`Actions`: each
action open or refused, a refusal carrying a stable code and the sentence people
read. The order pages, the list's bulk actions and the templates ask it; the
functions that *do* an action (``fulfilment``, ``editing``, ``requests``) call the
same rule and raise its refusal, so a page never offers what the domain refuses.

Each rule below is a function of the order (and what it needs) that returns a
:class:`Verdict`; ``verdict.check()`` raises its refusal. The codes:

====================  ===================================================================
action                refused with
====================  ===================================================================
checklist             ``checklist.closed``
process               ``process.not_pending``
ship, buy_label       ``ship.not_processed``, ``ship.held_by_request``, ``ship.balance_due``
mark_delivered        ``deliver.not_shipped``
edit_address,         ``edit.shipping_started``, ``edit.closed``
edit_lines            (the lines: ``edit.change_waiting``)
cancel (seller)       ``cancel.shipped``, ``cancel.closed``
answer_request        ``request.none_waiting`` (one request: ``request.already_answered``)
receive_return        ``return.none_waiting``
cancel_change,        ``balance.none_due``
pay_balance (buyer)
refund                ``refund.no_payment``, ``refund.nothing_captured``,
                      ``refund.all_refunded`` (the amount: ``refund.too_much``, in the ledger)
cancel (buyer)        ``cancel.shipped``, ``cancel.closed``, ``request.already_asked``
change_address        ``address.shipped``, ``address.closed``, ``request.already_asked``
ask_modification      ``modify.window_closed``, ``request.already_asked``
request_return        ``return.not_delivered``, ``return.window_closed``,
                      ``request.already_asked``
explain_delay         ``delay.not_delayed`` (the seller's word to the buyer of a late order)
expedite              ``delay.not_delayed``, ``delay.shipped`` (a free upgrade of its shipping)
====================  ===================================================================

``add_note`` is always open to the seller.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from peewee import fn

from portal.models import Order, OrderRequest, Shipment, Shop, User
from portal.money import format_money
from portal.orders import holds, management
from portal.orders.errors import (DelayRefused, EditRefused, FulfilmentError, OrderRefused,
                                  RequestRefused)
from portal.orders.holds import KINDS, RequestKind, RequestStatus
from portal.orders.ledger import PaymentRefused
from portal.orders.lifecycle import TRANSITIONS, Status

SELLER, BUYER = "seller", "buyer"

SELLER_ACTIONS = ("checklist", "process", "ship", "buy_label", "mark_delivered", "edit_address",
                  "edit_lines", "cancel", "add_note", "answer_request", "receive_return",
                  "cancel_change")
BUYER_ACTIONS = ("cancel", "change_address", "ask_modification", "request_return",
                 "pay_balance")

# The requests that still need the seller: open ones to decide, approved returns to receive.
NEEDS_SELLER = (RequestStatus.OPEN.value, RequestStatus.APPROVED.value)


@dataclass(frozen=True)
class Verdict:
    """One action, open or refused. True when open.

    ``at_once`` says how a buyer's change happens: at once (a Pending order), or
    asked of the shop (False: a request the seller answers).
    """

    action: str
    allowed: bool
    code: str = ""
    message: str = ""
    at_once: bool = True
    reason: str = ""
    error: type[OrderRefused] = field(default=OrderRefused, repr=False, compare=False)

    def __bool__(self) -> bool:
        return self.allowed

    def check(self) -> "Verdict":
        """The verdict itself when open; its refusal raised when not."""
        if not self.allowed:
            raise self.error(self.code, self.message, reason=self.reason)
        return self


def _open(action: str, *, at_once: bool = True) -> Verdict:
    return Verdict(action, True, at_once=at_once)


def _refuse(action: str, error: type[OrderRefused], code: str, message: str,
            reason: str = "") -> Verdict:
    return Verdict(action, False, code, message, reason=reason, error=error)


def _label(order: Order) -> str:
    return "Partially shipped" if order.partially_shipped else Status(order.status).label


def _not_shipped(order: Order) -> bool:
    return order.status in (Status.PENDING, Status.PROCESSED) and not order.shipped_count


# -- the seller's rules -----------------------------------------------------------

def checklist(order: Order) -> Verdict:
    """Tick lines as picked and the address as verified: Pending orders only."""
    if order.status == Status.PENDING:
        return _open("checklist")
    return _refuse("checklist", FulfilmentError, "checklist.closed",
                   f"The checklist is closed: the order is {Status(order.status).label}.")


def process(order: Order) -> Verdict:
    """Mark as processed (the checklist, ticked with it, is checked when it is done)."""
    if order.status == Status.PENDING:
        return _open("process")
    label = Status(order.status).label
    return _refuse("process", FulfilmentError, "process.not_pending",
                   f"Order {order.number} is {label}: only Pending orders can be processed.",
                   reason=f"it is {label}")


def ship(order: Order, hold: str | None, action: str = "ship") -> Verdict:
    """Ship a package (or buy a label for what is left): Processed orders that no
    buyer's request holds (``hold``: :func:`portal.orders.holds.shipping_hold`)."""
    if order.status != Status.PROCESSED:
        return _refuse(action, FulfilmentError, "ship.not_processed",
                       f"Order {order.number} is {Status(order.status).label}: "
                       "only Processed orders can ship.")
    if hold:
        return _refuse(action, FulfilmentError, "ship.held_by_request", hold)
    if order.balance_due:
        return _refuse(action, FulfilmentError, "ship.balance_due",
                       f"Order {order.number} waits for the buyer to pay the balance of "
                       f"{format_money(order.balance_due, order.currency)} for your change of "
                       "its items: cancel the change to ship it as it was.")
    return _open(action)


def mark_delivered(order: Order) -> Verdict:
    if order.status == Status.SHIPPED:
        return _open("mark_delivered")
    return _refuse("mark_delivered", FulfilmentError, "deliver.not_shipped",
                   f"Order {order.number} is {_label(order)}: only a Shipped order can be "
                   "marked delivered.")


def edit(order: Order, action: str = "edit_lines") -> Verdict:
    """Change the address or the items: before anything has shipped; the items not
    while a change of them waits for the buyer's payment."""
    if _not_shipped(order):
        if action == "edit_lines" and order.balance_due:
            return _refuse(action, EditRefused, "edit.change_waiting",
                           f"Order {order.number} has a change of its items waiting for the "
                           "buyer to pay the balance of "
                           f"{format_money(order.balance_due, order.currency)}: cancel that "
                           "change first.")
        return _open(action)
    if order.shipped_count:
        return _refuse(action, EditRefused, "edit.shipping_started",
                       f"Order {order.number} can no longer be changed: it has started shipping.")
    return _refuse(action, EditRefused, "edit.closed",
                   f"Order {order.number} can no longer be changed: "
                   f"it is {Status(order.status).label}.")


def cancel(order: Order) -> Verdict:
    """Cancel the order now (the seller, or the buyer of a Pending order)."""
    if order.shipped_count:
        return _refuse("cancel", FulfilmentError, "cancel.shipped",
                       f"Order {order.number} has packages on their way; "
                       "it can no longer be cancelled.")
    if Status.CANCELLED not in TRANSITIONS[Status(order.status)]:
        return _refuse("cancel", FulfilmentError, "cancel.closed",
                       f"Order {order.number} is {Status(order.status).label}: "
                       "it can no longer be cancelled.")
    return _open("cancel")


def answer(request: OrderRequest) -> Verdict:
    """Approve or refuse one request: while it is open."""
    if request.status == RequestStatus.OPEN:
        return _open("answer_request")
    state = {RequestStatus.APPROVED: "approved", RequestStatus.REFUSED: "refused",
             RequestStatus.COMPLETED: "approved", RequestStatus.CLOSED: "closed"}.get(
        request.status, "answered")
    return _refuse("answer_request", RequestRefused, "request.already_answered",
                   f"This request was already {state}; nothing was changed.")


def receive(request: OrderRequest) -> Verdict:
    """The parcel of an approved return came back."""
    if request.kind == RequestKind.RETURN and request.status == RequestStatus.APPROVED:
        return _open("receive_return")
    return _NO_RETURN


_NO_RETURN = _refuse("receive_return", RequestRefused, "return.none_waiting",
                     "There is no approved return waiting for this order.")


def refund(order: Order, totals, *, has_ledger: bool = True) -> Verdict:
    """Give money back (in full or in part): when the ledger holds a payment that was
    taken and not refunded in full. ``totals``: the order's
    :class:`portal.orders.ledger.Totals` (the order page has them; a list does not ask)."""
    if not has_ledger or not totals.authorised:
        return _refuse("refund", PaymentRefused, "refund.no_payment",
                       "There is no payment on record for this order, so nothing can be "
                       "refunded here.")
    if not totals.captured and not totals.capture_pending:
        return _refuse("refund", PaymentRefused, "refund.nothing_captured",
                       "Nothing was taken from the buyer yet (the payment is only "
                       "authorised): cancel the order to release it.")
    if not totals.refundable:
        return _refuse("refund", PaymentRefused, "refund.all_refunded",
                       "Everything that was paid has been refunded already.")
    return _open("refund")


# -- the buyer's rules ------------------------------------------------------------

def balance(order: Order, action: str) -> Verdict:
    """The seller's change that waits for the buyer's payment: the buyer pays it (or
    declines it, the same verdict), the seller cancels it."""
    if order.balance_due and order.status in (Status.PENDING, Status.PROCESSED):
        return _open(action)
    return _refuse(action, EditRefused if action == "cancel_change" else RequestRefused,
                   "balance.none_due", f"Order {order.number} has no balance to pay.")


def already_asked(kind: str, action: str = "") -> Verdict:
    """A request of ``kind`` already waits for the seller: one of each kind at a time."""
    return _refuse(action or kind, RequestRefused, "request.already_asked",
                   f"You already asked for this ({KINDS[kind].lower()}); "
                   "the shop will answer soon.")


def _waiting_kinds(waiting) -> set[str]:
    return {r.kind for r in waiting or () if r.status in NEEDS_SELLER}


def buyer_cancel(order: Order, waiting=None) -> Verdict:
    """Cancel at once while Pending; ask the shop once Processed; never once shipped.

    ``waiting``: the order's requests, if the caller has them (else the request
    itself finds out that one waits)."""
    if order.status == Status.PENDING:
        return _open("cancel")
    if _not_shipped(order):
        if RequestKind.CANCELLATION in _waiting_kinds(waiting):
            return already_asked(RequestKind.CANCELLATION, "cancel")
        return _open("cancel", at_once=False)
    if order.status in (Status.CANCELLED, Status.RETURNED):
        return _refuse("cancel", RequestRefused, "cancel.closed",
                       f"Order {order.number} is {_label(order)}: there is nothing to cancel.")
    return _refuse("cancel", RequestRefused, "cancel.shipped",
                   f"Order {order.number} is {_label(order)}: it can no longer be "
                   "cancelled. Once it arrives you can return it.")


def change_address(order: Order, waiting=None) -> Verdict:
    """A new address: at once while Pending, asked of the shop once Processed."""
    if order.status == Status.PENDING:
        return _open("change_address")
    if _not_shipped(order):
        if RequestKind.ADDRESS_CHANGE in _waiting_kinds(waiting):
            return already_asked(RequestKind.ADDRESS_CHANGE, "change_address")
        return _open("change_address", at_once=False)
    if order.status in (Status.CANCELLED, Status.RETURNED):
        return _refuse("change_address", RequestRefused, "address.closed",
                       f"Order {order.number} is {_label(order)}: its address can no "
                       "longer change.")
    return _refuse("change_address", RequestRefused, "address.shipped",
                   f"Order {order.number} has shipped: its address can no longer change.")


def modification_deadline(order: Order, shop: Shop) -> datetime:
    return order.placed_at + timedelta(hours=shop.modification_window_hours)


def ask_modification(order: Order, shop: Shop, now: datetime, waiting=None) -> Verdict:
    """Other sizes, colours or quantities: inside the shop's window, before shipping."""
    if not (_not_shipped(order) and now <= modification_deadline(order, shop)):
        return _refuse("ask_modification", RequestRefused, "modify.window_closed",
                       "Changes could be asked for until "
                       f"{modification_deadline(order, shop):%b %d, %H:%M} UTC, before "
                       "the order ships; message the shop instead.")
    if RequestKind.MODIFICATION in _waiting_kinds(waiting):
        return already_asked(RequestKind.MODIFICATION, "ask_modification")
    return _open("ask_modification", at_once=False)


def delivered_on(order: Order, shipments: list[Shipment] | None = None) -> date:
    """The day the last parcel reached the buyer (the order's last change without one).
    ``shipments``: the order's parcels to the buyer, if the caller has them (else a query)."""
    if shipments is not None:
        last = max((s.delivered_at for s in shipments
                    if s.direction == "out" and s.delivered_at is not None), default=None)
    else:
        last = (Shipment.select(fn.MAX(Shipment.delivered_at))  # parcels to the buyer, not back
                .where((Shipment.order == order.id) & (Shipment.direction == "out")).scalar())
    if isinstance(last, str):
        last = datetime.fromisoformat(last)
    return (last or order.updated_at).date()


def return_deadline(order: Order, shop: Shop, shipments: list[Shipment] | None = None) -> date:
    return delivered_on(order, shipments) + timedelta(days=shop.return_window_days)


def request_return(order: Order, shop: Shop, today: date, waiting=None, *,
                   deadline: date | None = None) -> Verdict:
    """Send a Delivered order back, inside the shop's return window (``deadline``,
    if the caller has it: finding it costs a query)."""
    if order.status != Status.DELIVERED:
        return _refuse("request_return", RequestRefused, "return.not_delivered",
                       "Only a delivered order can be returned.")
    deadline = deadline or return_deadline(order, shop)
    if today > deadline:
        return _refuse("request_return", RequestRefused, "return.window_closed",
                       f"The return window closed on {deadline:%b %d}.")
    if RequestKind.RETURN in _waiting_kinds(waiting):
        return already_asked(RequestKind.RETURN, "request_return")
    return _open("request_return", at_once=False)


# -- delays (portal.orders.delays): asked with the shop and the time, as lateness is --------

def explain_delay(order: Order, shop: Shop, now: datetime) -> Verdict:
    """Tell the buyer about the delay, with a remedy if the seller wants: Delayed orders."""
    if management.is_delayed(order, shop, now):
        return _open("explain_delay")
    return _refuse("explain_delay", DelayRefused, "delay.not_delayed",
                   f"Order {order.number} is not late, so there is no delay to explain.",
                   reason="it is not late")


def expedite(order: Order, shop: Shop, now: datetime) -> Verdict:
    """Upgrade the shipping to a faster service for free: a Delayed order not shipped yet."""
    late = explain_delay(order, shop, now)
    if not late:
        return Verdict("expedite", False, late.code, late.message, reason=late.reason,
                       error=DelayRefused)
    if _not_shipped(order):
        return _open("expedite")
    return _refuse("expedite", DelayRefused, "delay.shipped",
                   "Its shipping can no longer be upgraded: items of it have shipped.",
                   reason="it has shipped")


# -- everything at once, for a page -------------------------------------------------

@dataclass(frozen=True)
class Actions:
    """Every action of one role on one order: ``actions["ship"]`` is its
    :class:`Verdict`, ``actions.can("ship")`` whether it is open."""

    order: Order
    role: str
    verdicts: dict[str, Verdict]
    modification_deadline: datetime | None = None  # the buyer's windows
    return_deadline: date | None = None

    def __getitem__(self, name: str) -> Verdict:
        return self.verdicts[name]

    def can(self, name: str) -> bool:
        return self.verdicts[name].allowed

    @property
    def open(self) -> list[str]:
        return [name for name, verdict in self.verdicts.items() if verdict]

    @property
    def refused(self) -> dict[str, Verdict]:
        return {name: verdict for name, verdict in self.verdicts.items() if not verdict}

    # One request's own actions, for the list of requests on the seller's page.
    answer = staticmethod(answer)
    receive = staticmethod(receive)


def waiting_requests(order: Order) -> list[OrderRequest]:
    """The order's requests that need the seller (to answer, or to receive)."""
    return list(OrderRequest.select().where((OrderRequest.order == order.id)
                                            & OrderRequest.status.in_(NEEDS_SELLER))
                .order_by(OrderRequest.created_at.desc(), OrderRequest.id.desc()))


def for_seller(order: Order, waiting: list[OrderRequest] | None = None) -> Actions:
    """The seller's actions on ``order``; ``waiting``: its requests, if the caller has them."""
    waiting = waiting_requests(order) if waiting is None else waiting
    asked = [r for r in waiting if r.status == RequestStatus.OPEN]
    hold = holds.hold_message(order, [r.kind for r in sorted(asked, key=lambda r: r.id)]) \
        if order.status == Status.PROCESSED else None
    verdicts = [checklist(order), process(order), ship(order, hold),
                ship(order, hold, "buy_label"), mark_delivered(order),
                edit(order, "edit_address"), edit(order, "edit_lines"), cancel(order),
                _open("add_note"),
                _open("answer_request") if asked else _refuse(
                    "answer_request", RequestRefused, "request.none_waiting",
                    "No request from the buyer waits for an answer."),
                next((receive(r) for r in waiting if receive(r)), _NO_RETURN),
                balance(order, "cancel_change")]
    return Actions(order, SELLER, {v.action: v for v in verdicts})



def for_buyer(order: Order, shop: Shop, now: datetime,
              requests: list[OrderRequest] | None = None,
              shipments: list[Shipment] | None = None) -> Actions:
    """The buyer's actions on ``order``; ``requests``: its requests, ``shipments``: its
    parcels to the buyer, if the caller has them (each saves a query)."""
    waiting = (waiting_requests(order) if requests is None
               else [r for r in requests if r.status in NEEDS_SELLER])
    deadline = (return_deadline(order, shop, shipments) if order.status == Status.DELIVERED
                else None)
    verdicts = [buyer_cancel(order, waiting), change_address(order, waiting),
                ask_modification(order, shop, now, waiting),
                request_return(order, shop, now.date(), waiting, deadline=deadline),
                balance(order, "pay_balance")]
    return Actions(order, BUYER, {v.action: v for v in verdicts},
                   modification_deadline=modification_deadline(order, shop),
                   return_deadline=deadline)


def for_user(order: Order, user: User, now: datetime) -> Actions:
    """The actions open to ``user`` on ``order``: its buyer's, or its shop's seller's.

    Raises LookupError for anyone else (the order is none of theirs)."""
    if user.id == order.buyer_id:
        return for_buyer(order, order.shop, now)
    if user.id == order.shop.owner_id:
        return for_seller(order)
    raise LookupError(f"Order {order.number} is not one of {user.email}'s orders.")
