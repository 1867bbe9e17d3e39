"""After the purchase: the buyer cancels, changes the address, asks for a
modification or a return. Each form posts to its own URL under the order and
comes back to the order page with a 303, or re-renders it with the reason. The
forms shown are the actions :mod:`portal.orders.actions` says are open."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal import shipping
from portal.shipping import return_parcels as returning_parcels
from portal.coupons import records as coupon_records
from portal.models import utcnow
from portal.orders import (actions, balance, delays, editing, fulfilment, queries,
                           requests)
from portal.orders.errors import OrderRefused
from portal.orders.lifecycle import PaymentStatus, StaleOrder
from portal.payments import redirects
from portal.web import messaging, returning
from portal.web.buyer import bp
from portal.web.buyer.forms import CancelForm, ModificationForm, ReturnForm
from portal.web.forms import AddressForm, checked_address, line_changes
from portal.web.reviewing import buyer_review

REFUSED = OrderRefused  # StaleOrder among them


def _order_or_404(number: str):
    order = queries.order_for_buyer(current_user.id, number)
    if order is None:
        abort(404)
    return order


def render_order(order, *, status: int = 200, **forms):
    """The order page with the forms of the actions open to the buyer."""
    detail = queries.order_detail(order)
    coupons_used, coupons_offered = coupon_records.of_order(order)
    asked_for = requests.requests_of(order)
    open_now = actions.for_buyer(order, order.shop, utcnow(), asked_for, detail.shipments)
    version = {"version": order.version}
    context = {
        "cancel_form": CancelForm(formdata=None, **version) if open_now.can("cancel") else None,
        "address_form": AddressForm(formdata=None, **editing.address_of(order), **version)
        if open_now.can("change_address") else None,
        "modification_form": ModificationForm(formdata=None, **version)
        if open_now.can("ask_modification") else None,
        "return_form": ReturnForm(formdata=None, **version)
        if open_now.can("request_return") else None,
    }
    context.update(buyer_review(order))  # the review block (a delivered order's)
    context.update(returning.buyer_context(order, asked_for, open_now.can("request_return"),
                                           detail.lines))
    if not context["return_choices"]:  # everything the shop takes back is back or asked for
        context["return_form"] = None
    context.update(forms)
    context.update(messaging.thread_context(
        order, post_url=url_for("buyer.messages", number=order.number),
        form=context.pop("message_form", None)))
    return render_template(
        "buyer/order_detail.html", detail=detail, **context, actions=open_now,
        links=shipping.tracking_links(order.shop_id, detail.shipments),
        requests=asked_for, asked=requests.describe(asked_for, detail.lines),
        kinds=requests.KINDS, coupons_used=coupons_used, coupons_offered=coupons_offered,
        balance_change=balance.waiting(order),
        late=delays.lateness(order, order.shop, utcnow()),
        choices=editing.variant_choices(detail.lines) if context["modification_form"] else {},
        # A payment left waiting on the wallet's page: the way back to it.
        pay_url=redirects.waiting_of_order(order.id)
        if order.payment_status == PaymentStatus.AWAITING else ""
    ), status


def _refused(order, exc: Exception):
    flash(str(exc), "error")
    fresh = _order_or_404(order.number)
    return render_order(fresh, status=409 if isinstance(exc, StaleOrder) else 422)


def _done(order, message: str):
    flash(message, "success")
    return redirect(url_for("buyer.order_detail", number=order.number), code=303)


@bp.post("/orders/<number>/cancel")
@login_required
def cancel(number: str):
    order, form = _order_or_404(number), CancelForm()
    if not form.validate_on_submit():
        return render_order(order, status=422, cancel_form=form)
    try:
        outcome = requests.buyer_cancel(order, buyer=current_user, reason=form.reason.data,
                                        version=form.expected_version)
    except REFUSED as exc:
        return _refused(order, exc)
    return _done(order, "Your order is cancelled." if outcome == "cancelled" else
                 "The shop has already prepared your order; we asked them to cancel it.")


@bp.post("/orders/<number>/address")
@login_required
def address(number: str):
    order, form = _order_or_404(number), AddressForm()
    if not form.validate_on_submit():
        return render_order(order, status=422, address_form=form)
    check = checked_address(form)
    if check is None:
        return render_order(order, status=422, address_form=form)
    try:
        outcome = requests.buyer_change_address(order, check, buyer=current_user,
                                                version=form.expected_version)
    except REFUSED as exc:
        return _refused(order, exc)
    return _done(order, "The new address is on your order." if outcome == "changed" else
                 "We asked the shop to ship to the new address; you will see their answer here.")


@bp.post("/orders/<number>/modification")
@login_required
def modification(number: str):
    order, form = _order_or_404(number), ModificationForm()
    if not form.validate_on_submit():
        return render_order(order, status=422, modification_form=form)
    try:
        changes = line_changes(request.form, fulfilment.lines_of(order))
        requests.buyer_modify(order, order.shop, changes, buyer=current_user,
                              reason=form.reason.data, now=utcnow())
    except REFUSED as exc:
        return _refused(order, exc)
    return _done(order, "We sent your changes to the shop; you will see their answer here.")


@bp.post("/orders/<number>/return")
@login_required
def return_order(number: str):
    order, form = _order_or_404(number), ReturnForm()
    if not form.validate_on_submit():
        return render_order(order, status=422, return_form=form)
    try:
        items = returning.parse_items(request.form, requests.returnable_lines(order))
        requests.buyer_return(order, order.shop, buyer=current_user, items=items,
                              today=utcnow().date())
    except REFUSED as exc:
        flash(str(exc), "error")
        fresh = _order_or_404(order.number)
        return render_order(fresh, status=422, typed=request.form)
    return _done(order, "Return requested. The shop will tell you how to send it back.")


@bp.post("/orders/<number>/returns/<int:request_id>/tracking")
@login_required
def return_tracking(number: str, request_id: int):
    """The buyer sent the return with a carrier of their own: its tracking number."""
    order = _order_or_404(number)
    found = next((r for r in requests.requests_of(order)
                  if r.id == request_id and r.kind == "return"), None)
    if found is None:
        abort(404)
    form = returning.ReturnTrackingForm()
    if not form.validate_on_submit():
        return render_order(order, status=422, tracking_form=form)
    try:
        returning_parcels.enter_tracking(order.shop, order, found, form.tracking_number.data,
                                         buyer=current_user)
    except REFUSED as exc:
        form.tracking_number.errors = [str(exc)]
        return render_order(_order_or_404(number), status=422, tracking_form=form)
    return _done(order, "Thank you: the shop can follow your parcel now.")
