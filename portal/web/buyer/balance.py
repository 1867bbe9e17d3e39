"""``/orders/<number>/balance``: the buyer pays the balance due for the shop's change of
their items, or declines the change (:mod:`portal.orders.balance`).

The page shows the change (before and after, the new total, what is due) and the
shop's ways to pay; paying posts back here and lands on the order with a 303. A
double click or a resent form is one payment (the form's token is the payment's
idempotency key).
"""

import secrets

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal import payments
from portal.payments import redirects
from portal.models import Order
from portal.money import format_money
from portal.orders import actions, balance, queries
from portal.orders.errors import OrderRefused
from portal.orders.ledger import State
from portal.web.buyer import bp
from portal.web.paying import choose
from portal.web.payments import to_buyer


def _order_or_404(number: str) -> Order:
    order = queries.order_for_buyer(current_user.id, number)
    if order is None:
        abort(404)
    return order


def _to_order(order: Order):
    return redirect(url_for("buyer.order_detail", number=order.number), code=303)


def _page(order: Order, *, errors=None, form=None, status: int = 200):
    change = balance.waiting(order)
    return render_template(
        "buyer/balance.html", order=order, change=change, errors=errors or {},
        form=form or {}, form_token=(form or {}).get("form_token") or secrets.token_urlsafe(18),
        methods=payments.methods(order.shop, order.currency, order.balance_due)), status


def _still_due(order: Order):
    """The order when a balance is due on it; otherwise the request ends on the order."""
    if not actions.balance(order, "pay_balance"):
        flash("There is no balance to pay on this order.", "info")
        abort(_to_order(order))
    return order


@bp.get("/orders/<number>/balance")
@login_required
def balance_page(number: str):
    return _page(_still_due(_order_or_404(number)))


@bp.post("/orders/<number>/balance")
@login_required
def pay_balance(number: str):
    order = _order_or_404(number)
    form_token = (request.form.get("form_token") or "")[:64]
    _still_due(order)  # a resent form once the change is made lands on the order
    chosen, errors = choose(payments.methods(order.shop, order.currency, order.balance_due),
                            request.form)
    form = {"method": request.form.get("method", "")[:120], "form_token": form_token}
    if chosen is None:
        return _page(order, errors=errors, form=form, status=422)
    try:
        row = balance.start_payment(order, current_user, plugin=chosen.method.plugin,
                                    method_code=chosen.method.option.method_code,
                                    display=chosen.method.option.name, form_token=form_token,
                                    capture=chosen.method.option.capture)
    except OrderRefused as refused:
        flash(refused.message, "error")
        return _to_order(order)
    if row.state == State.PENDING:
        row = payments.run(row, token=chosen.card_token)
    waiting = redirects.waiting_url(row)
    if waiting:  # the buyer answers on the plugin's page (a wallet), then comes back
        return to_buyer(waiting)
    money = format_money(row.amount, order.currency)
    if row.state == State.FAILED:
        errors = {"method": f"Your payment was declined: {row.message or 'no reason given'} "
                            "Nothing was taken: choose another way to pay."}
        return _page(Order.get_by_id(order.id), errors=errors,
                     form={"method": form["method"]}, status=422)
    if row.state == State.PENDING:
        flash(f"Your payment of {money} is on its way: the order changes as soon as it is "
              "confirmed.", "info")
        return _to_order(order)
    after = Order.get_by_id(order.id)
    if balance.change_of(row).state != balance.APPLIED:  # paid, but released again
        flash(f"The shop's change could no longer be made, so your payment of {money} was "
              "released: nothing was taken.", "error")
    else:
        flash(f"Paid {money}: the shop's change is made and your order's total is "
              f"{format_money(after.total, after.currency)}.", "success")
    return _to_order(order)


@bp.post("/orders/<number>/balance/decline")
@login_required
def decline_change(number: str):
    order = _still_due(_order_or_404(number))
    balance.call_off(order, actor=current_user, actor_role="buyer",
                     reason="the buyer keeps the order as it was")
    flash("You declined the shop's change: your order stays as it was.", "success")
    return _to_order(order)
