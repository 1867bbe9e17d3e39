"""Payments that wait for their buyer (a redirect flow, ``portal.payments.redirects``).

``/payments/<id>/pay``: the plugin's page for the payment (``payment_page``), drawn in
the portal's layout: the shop, the amount and the plugin's buttons (POST forms with
CSRF; no JavaScript). A button's answer sends the buyer to

``/payments/<id>/return?token=<answer>``: one return for every redirect flow (the
checkout's authorisation, or any later one of the buyer's order). It hands the
answer to ``payments.run``, where the plugin verifies it, then sends the buyer on:
approved, to the order; declined or cancelled at checkout, back to the checkout with
the reason and the cart as it was. It is idempotent (a reload, the back button: the
payment is answered once, and the same page follows); an answer the plugin does not
take (forged, or made for another payment) changes nothing and says so.

Only the buyer of the order sees either page; anyone else gets a 404.
"""

import time

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal import payments
from portal.models import Order, PaymentTransaction, Shop, utcnow
from portal.orders import balance
from portal.orders.ledger import State
from portal.orders.lifecycle import Status
from portal.payments import redirects
from portal.web.shop import recount_cart

bp = Blueprint("payments", __name__, url_prefix="/payments")

REFUSED = ("This answer is not one the payment accepts (it was made for another payment, "
           "or not by {name}): nothing was paid. Answer on the payment's page again.")
CONFIRMING = "Your payment is being confirmed: reload this page in a moment."
ANSWER_WAIT = 2.0  # seconds the return waits for an answer another request is getting


def _own(row_id: int) -> PaymentTransaction:
    row = redirects.of_buyer(row_id, current_user.id)
    if row is None:
        abort(404)
    return row


def _to_order(row: PaymentTransaction):
    number = Order.select(Order.number).where(Order.id == row.order_id).scalar()
    return redirect(url_for("buyer.order_detail", number=number), code=303)


def to_buyer(url: str):
    """A 303 to where a plugin sends the buyer (checked: our own pages, or https)."""
    if not redirects.is_safe(url):
        abort(400, description=redirects.UNSAFE)
    return redirect(url, code=303)


@bp.route("/<int:row_id>/pay", methods=["GET", "POST"])
@login_required
def page(row_id: int):
    row = _own(row_id)
    if not redirects.waiting_url(row):  # answered already (or never waited): where it led
        return redirect(url_for(".returned", row_id=row.id), code=303)
    action = (request.form.get("action") or "")[:40] if request.method == "POST" else ""
    shown = redirects.page(row, action)
    order = Order.get_by_id(row.order_id)
    if shown is not None and action and shown.answer:
        return redirect(url_for(".returned", row_id=row.id, token=shown.answer[:500]), code=303)
    # shown is None: the plugin is unavailable; the page says so and offers to try again.
    return render_template("payments/page.html", row=row, order=order, shown=shown,
                           shop=Shop.get_by_id(order.shop_id))


@bp.get("/<int:row_id>/return")
@login_required
def returned(row_id: int):
    row = _own(row_id)
    token = (request.args.get("token") or "")[:500]
    if redirects.waiting_url(row):
        row = payments.run(row, token=token)
        deadline = time.monotonic() + ANSWER_WAIT
        while redirects.being_asked(row, utcnow(), payments.LEASE) \
                and time.monotonic() < deadline:  # a second click: the first one's answer
            time.sleep(0.05)
            row = PaymentTransaction.get_by_id(row.id)
    change = balance.change_of(row)
    if row.state == State.SUCCEEDED and change is not None:  # a balance due, paid
        if change.state == balance.APPLIED:
            flash("Your payment is authorised: thank you. The shop's change of your items "
                  "is made.", "success")
        else:
            flash("The shop's change could no longer be made, so your payment was released: "
                  "nothing was taken.", "error")
        return _to_order(row)
    if row.state == State.SUCCEEDED:
        flash("Your payment is authorised: thank you. The shop takes it when your order "
              "ships.", "success")
        return _to_order(row)
    order = Order.get_by_id(row.order_id)
    if row.state == State.FAILED:
        if order.status == Status.CANCELLED:  # the checkout's order: its cart is back
            recount_cart(current_user.id)
            shop = Shop.get_by_id(order.shop_id)
            flash(f"Your payment was not completed: {row.message or 'declined.'} Your cart "
                  "is as it was: choose another way to pay.", "error")
            return redirect(url_for("checkout.page", slug=shop.slug, step="payment"), code=303)
        flash(f"Your payment was not completed: {row.message or 'declined.'}", "error")
        return _to_order(row)
    waiting = redirects.waiting_url(row)
    if waiting and not token:  # came back without an answer: answer it first
        return to_buyer(waiting)
    if waiting:
        name = row.display or "the payment's plugin"
        return render_template("payments/refused.html", row=row, order=order, waiting=waiting,
                               message=REFUSED.format(name=name)), 400
    flash(CONFIRMING, "info")
    return _to_order(row)
