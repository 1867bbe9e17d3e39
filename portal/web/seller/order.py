"""One order in the Seller Center: checklist, processing, shipping, edits,
cancellation and notes. Each form posts to its own URL and comes back here
with a 303; a refused change re-renders the page with the reason. What the page
offers is what :mod:`portal.orders.actions` says is open."""

from decimal import Decimal, InvalidOperation

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from portal import payments

from portal.models import utcnow
from portal.orders import (actions, balance, editing, fulfilment, ledger, management, requests,
                           returns)
from portal.shipping import return_parcels
from portal.orders.errors import BadInput, OrderRefused
from portal.orders.lifecycle import StaleOrder, Status
from portal.orders.queries import order_detail
from portal.money import format_money, from_decimal, to_decimal
from portal.shipping import (ShippingRefused, carriers_for_shop, check_tracking_number,
                             quote_rates, ship_with_label)
from portal.web import messaging, returning
from portal.web.access import current_shop, seller_required
from portal.web.render import wants_fragment
from portal.web.reviewing import seller_review
from portal.web.seller import bp
from portal.web.forms import checked_address, line_changes, parse_int
from portal.web.seller.forms import (AddressForm, CancelForm, ChecklistForm, DecisionForm,
                                     LabelForm, NoteForm, ShipForm, VersionedForm, options)

REFUSED = OrderRefused  # StaleOrder and TransitionRefused among them


class RefundForm(FlaskForm):
    """Give money back: an amount (at most what was paid and not refunded) and why."""

    amount = StringField("Amount", validators=[DataRequired("Enter the amount to refund.")],
                         filters=[lambda v: v.strip() if isinstance(v, str) else v])
    reason = StringField("Reason (the buyer sees it)",
                         validators=[DataRequired("Say why you refund."), Length(max=150)],
                         filters=[lambda v: v.strip() if isinstance(v, str) else v])


def _order_or_404(number: str):
    order = management.order_for_seller(current_shop(), number)
    if order is None:
        abort(404)
    return order


def _ship_form(order, formdata=None) -> ShipForm:
    form = ShipForm(formdata=formdata, version=order.version)
    form.carrier.choices = options([("", "Detect from the tracking number")] + [
        (c.code, c.name) for c in carriers_for_shop(current_shop())])
    return form


def _label_form(order, quote, formdata=None) -> LabelForm:
    form = LabelForm(formdata=formdata, version=order.version)
    form.rate.choices = options(
        (f"{r.carrier_code}:{r.service_code}",
         f"{r.service_name} · {format_money(r.amount, r.currency)}"
         + (f" · {r.days} day{'s' if r.days != 1 else ''}" if r.days else ""))
        for r in quote.rates)
    if formdata is None and order.shipping_service in {c.value for c in form.rate.choices}:
        form.rate.data = order.shipping_service  # what the buyer chose (or a delay's upgrade)
    return form


def render_order(order, *, status: int = 200, unsaved: dict | None = None, quote=None,
                 **forms):
    """The order page with the forms of the open actions; ``forms`` replaces the blank
    ones (with errors). The label rates are a fragment of their own (:func:`label_rates`),
    asked of the carriers only when ``quote`` is not given here."""
    shop = current_shop()
    detail = order_detail(order, internal=True)
    version = {"version": order.version}
    address = editing.address_of(order)
    waiting = actions.waiting_requests(order)
    open_now = actions.for_seller(order, waiting)
    context = {
        "quote": quote,
        "label_form": _label_form(order, quote) if quote else None,
        "checklist_form": ChecklistForm(formdata=None, address_verified=order.address_verified,
                                        **version),
        "process_form": VersionedForm(formdata=None, **version),
        "ship_form": _ship_form(order),
        "address_form": AddressForm(formdata=None, **address, **version),
        "lines_form": VersionedForm(formdata=None, **version),
        "cancel_form": CancelForm(formdata=None, **version),
        "delivered_form": VersionedForm(formdata=None, **version),
        "note_form": NoteForm(formdata=None),
    }
    payment_rows = ledger.rows_of(order.id)
    payment_totals = ledger.totals(payment_rows)
    refund_verdict = actions.refund(order, payment_totals, has_ledger=bool(payment_rows))
    context["refund_form"] = RefundForm(formdata=None, amount=str(to_decimal(
        payment_totals.refundable, order.currency)) if refund_verdict else "")
    context.update(seller_review(order, shop.id))  # the buyer's review and the reply form
    context.update(returning.seller_context(order, waiting, detail.lines))
    context.update(forms)
    from portal.web.seller.delays import delay_context  # it builds on this module's views
    context.update(delay_context(order, shop, context.pop("delay_form", None)))
    context.update(messaging.thread_context(
        order, shop=shop, post_url=url_for("seller.messages", number=order.number),
        form=context.pop("message_form", None)))
    context.update(payment_rows=payment_rows, payment_totals=payment_totals,
                   refund_verdict=refund_verdict, PaymentState=ledger.State)
    asked = requests.describe(waiting, detail.lines)
    return render_template(
        "seller/order.html", detail=detail, shop=shop, **context, unsaved=unsaved,
        actions=open_now, pending_requests=[(r, asked[r.id]) for r in waiting],
        kinds=requests.KINDS, decision_form=DecisionForm(formdata=None),
        choices=editing.variant_choices(detail.lines) if open_now.can("edit_lines") else {},
        balance_change=balance.waiting(order),
        delayed=management.is_delayed(order, shop, utcnow())), status


def _refused(order, exc: Exception, **context):
    """Say why a change was refused, on a fresh copy of the order; keep what was typed."""
    fresh = _order_or_404(order.number)
    flash(str(exc), "error")
    return render_order(fresh, status=409 if isinstance(exc, StaleOrder) else 422, **context)


def _done(order, message: str):
    flash(message, "success")
    _settle(order)
    return redirect(url_for("seller.order", number=order.number), code=303)


def _settle(order) -> None:
    """Make the payment calls the change asked for (its ledger rows are committed), and
    say what failed or is still unknown; the background task asks again for those."""
    if not ledger.take_requested():
        return
    for row in payments.settle(order.id):
        if row.state == ledger.State.FAILED:
            flash(ledger.describe(row, order.currency) + ". The order's change stands; "
                  "the payment needs you (see Payment).", "error")
        elif row.state == ledger.State.PENDING:
            flash(f"The payment plugin has not answered yet ({row.kind} of "
                  f"{format_money(row.amount, order.currency)}); the portal asks again "
                  "every minute.", "error")


def _typed(form) -> dict:
    """What the seller typed into a refused form, to show it back beside the fresh one."""
    return {f.label.text: f.data for f in form if f.name not in ("csrf_token", "version")
            and f.data not in (None, "", False)}


@bp.get("/orders/<number>")
@seller_required
def order(number: str):
    return render_order(_order_or_404(number))


@bp.post("/orders/<number>/checklist")
@seller_required
def checklist(number: str):
    order, form = _order_or_404(number), ChecklistForm()
    if not form.validate_on_submit():
        abort(400, description="The checklist form was incomplete; reload the page.")
    picked = {parse_int(v) for v in request.form.getlist("picked")}
    if None in picked:
        return _refused(order, BadInput(
            "form.unknown_line",
            "The checklist came back with a line that is not on this order; nothing was saved."))
    try:
        if request.form.get("then") != "process":
            fulfilment.save_checklist(order, picked=picked,
                                      address_verified=form.address_verified.data,
                                      version=form.expected_version, actor=current_user)
            return _done(order, "Checklist saved.")
        processed = fulfilment.check_and_process(
            order, picked=picked, address_verified=form.address_verified.data,
            version=form.expected_version, actor=current_user)
    except REFUSED as exc:
        return _refused(order, exc)
    if not processed:  # what was ticked is saved; the rest is still to tick
        flash("Checklist saved, but the order is still Pending: tick every line and the "
              "address, then press Mark as processed again.", "error")
        return redirect(url_for("seller.order", number=order.number), code=303)
    return _done(order, f"Order {order.number} is Processed and ready to ship.")


def _one_step(number: str, step, message: str):
    """A button that moves the order one step (its form carries only the version)."""
    order, form = _order_or_404(number), VersionedForm()
    form.validate_on_submit()
    try:
        step(order, version=form.expected_version, actor=current_user)
    except REFUSED as exc:
        return _refused(order, exc)
    return _done(order, message.format(number=order.number))


@bp.post("/orders/<number>/process")
@seller_required
def process(number: str):
    return _one_step(number, fulfilment.process, "Order {number} is Processed and ready to ship.")


@bp.post("/orders/<number>/ship")
@seller_required
def ship(number: str):
    order = _order_or_404(number)
    form = _ship_form(order, request.form)
    if not form.validate_on_submit():
        return render_order(order, status=422, ship_form=form)
    check = check_tracking_number(current_shop(), form.carrier.data or None,
                                  form.tracking_number.data)
    if not check.valid:
        form.tracking_number.errors.append(check.message)
        return render_order(order, status=422, ship_form=form)
    quantities = {}
    for key, value in request.form.items():
        if key.startswith("ship-") and parse_int(key[5:]) is not None:
            quantity = parse_int(value or "0")
            if quantity is None:
                return _refused(order, BadInput(
                    "form.bad_quantity", f"“{value[:20]}” is not a quantity: type a whole "
                    "number (0 leaves the item out of this package)."), unsaved=_typed(form))
            quantities[parse_int(key[5:])] = quantity
    if not quantities:  # no package contents given: everything that is left
        quantities = fulfilment.remaining(order)
    package = fulfilment.Package(quantities, check.carrier_code, check.carrier_name,
                                 check.tracking_number, check.tracking_url)
    try:
        fulfilment.ship(order, package, version=form.expected_version, actor=current_user)
    except REFUSED as exc:
        return _refused(order, exc, unsaved=_typed(form))
    if order.status == Status.SHIPPED:
        return _done(order, f"Order {order.number} is Shipped.")
    return _done(order, "Package shipped. The rest of the order is still to ship.")


@bp.get("/orders/<number>/label")
@seller_required
def label_rates(number: str):
    """What a label costs with each carrier: asked of the carriers only here. The order
    page loads it as a fragment (htmx); without JavaScript its link shows the whole
    page with the rates in it."""
    order = _order_or_404(number)
    verdict = actions.for_seller(order)["buy_label"]
    quote = quote_rates(current_shop(), order) if verdict else None
    if not wants_fragment():
        return render_order(order, quote=quote)
    response = make_response(render_template(
        "seller/_label.html", order=order, quote=quote, verdict=verdict,
        label_form=_label_form(order, quote) if quote else None))
    response.vary.add("HX-Request")
    return response


def _label_again(order, error: str = ""):
    """The page again, with the rates as quoted now and the seller's choice (and why not)."""
    quote = quote_rates(current_shop(), order)
    form = _label_form(order, quote, request.form)
    form.validate()
    if error:
        form.rate.errors.append(error)
    return render_order(order, status=422, quote=quote, label_form=form)


@bp.post("/orders/<number>/label")
@seller_required
def label(number: str):
    """Buy a label for everything left to ship, at the rate quoted now; then print it."""
    order, shop = _order_or_404(number), current_shop()
    form = LabelForm()  # any rate: the carrier quotes it again before selling the label
    if not form.validate_on_submit():
        return _label_again(order)
    carrier_code, _, service_code = form.rate.data.partition(":")
    try:
        shipment = ship_with_label(shop, order, carrier_code, service_code,
                                   version=form.expected_version, actor=current_user)
    except ShippingRefused as exc:
        return _label_again(order, str(exc))
    except REFUSED as exc:
        return _refused(order, exc)
    flash(f"Label bought: {shipment.carrier_name}, tracking {shipment.tracking_number}. "
          "Print it and stick it on.", "success")
    return redirect(url_for("shipments.label", shipment_id=shipment.id), code=303)


@bp.post("/orders/<number>/address")
@seller_required
def address(number: str):
    order = _order_or_404(number)
    form = AddressForm()
    if not form.validate_on_submit():
        return render_order(order, status=422, address_form=form)
    check = checked_address(form)
    if check is None:
        return render_order(order, status=422, address_form=form)
    try:
        changed = editing.change_address(order, check, version=form.expected_version,
                                         actor=current_user)
    except REFUSED as exc:
        return _refused(order, exc, unsaved=_typed(form))
    return _done(order, "Shipping address updated." if changed else "The address was unchanged.")


@bp.post("/orders/<number>/lines")
@seller_required
def lines(number: str):
    order, form = _order_or_404(number), VersionedForm()
    form.validate_on_submit()
    changes = {}
    try:
        changes = line_changes(request.form, fulfilment.lines_of(order))
        changed = editing.change_lines(order, changes, version=form.expected_version,
                                       actor=current_user)
    except REFUSED as exc:
        typed = {f"Line {k}": f"variant {v}, quantity {q}" for k, (v, q) in changes.items()}
        return _refused(order, exc, unsaved=typed)
    if changed == editing.Edited.WAITING:
        return _done(order, f"The new total is more than the buyer paid: the change waits for "
                     f"them to pay the balance of {format_money(order.balance_due, order.currency)}"
                     ". They see it on their order with a Pay button; it is made when they pay.")
    return _done(order, "Items updated, re-priced and re-stocked." if changed
                 else "The items were unchanged.")


@bp.post("/orders/<number>/change/cancel")
@seller_required
def cancel_change(number: str):
    """Call off the change that waits for the buyer's payment: the order stays as it was."""
    order, form = _order_or_404(number), VersionedForm()
    form.validate_on_submit()
    try:
        actions.balance(order, "cancel_change").check()
        balance.call_off(order, actor=current_user, actor_role="seller",
                         reason="cancelled by the shop", version=form.expected_version)
    except REFUSED as exc:
        return _refused(order, exc)
    return _done(order, "The change is cancelled; the order stays as it was and nothing is due.")


@bp.post("/orders/<number>/cancel")
@seller_required
def cancel(number: str):
    order, form = _order_or_404(number), CancelForm()
    if not form.validate_on_submit():
        return render_order(order, status=422, cancel_form=form)
    try:
        fulfilment.cancel(order, reason=form.reason.data, version=form.expected_version,
                          actor=current_user, actor_role="seller")
    except REFUSED as exc:
        return _refused(order, exc, unsaved=_typed(form))
    return _done(order, f"Order {order.number} is Cancelled; the stock is back on the shelf.")


@bp.post("/orders/<number>/delivered")
@seller_required
def delivered(number: str):
    return _one_step(number, fulfilment.mark_delivered, "Order {number} is Delivered.")


@bp.post("/orders/<number>/notes")
@seller_required
def note(number: str):
    order, form = _order_or_404(number), NoteForm()
    if not form.validate_on_submit():
        return render_order(order, status=422, note_form=form)
    editing.add_note(order, form.text.data, actor=current_user)
    return _done(order, "Note added.")


def _request_or_404(order, request_id: int):
    found = next((r for r in requests.requests_of(order) if r.id == request_id), None)
    if found is None:
        abort(404)
    return found


@bp.post("/orders/<number>/requests/<int:request_id>")
@seller_required
def decide(number: str, request_id: int):
    order = _order_or_404(number)
    found, form = _request_or_404(order, request_id), DecisionForm()
    if not form.validate_on_submit() or form.decision.data not in ("approve", "refuse"):
        abort(400, description="Choose to approve or refuse the request.")
    approve = form.decision.data == "approve"
    try:
        requests.decide(found, order, approve=approve, seller=current_user,
                        response=form.response.data or "")
    except REFUSED as exc:
        return _refused(order, exc)
    return _done(order, f"{requests.KINDS[found.kind]}: {'approved' if approve else 'refused'}.")


@bp.post("/orders/<number>/requests/<int:request_id>/received")
@seller_required
def return_received(number: str, request_id: int):
    order = _order_or_404(number)
    found, form = _request_or_404(order, request_id), VersionedForm()
    if not form.validate_on_submit():
        abort(400, description="The form was incomplete; reload the page.")
    try:
        items = returns.items_of([found.id])[found.id]
        refunded = requests.receive_return(
            found, order, seller=current_user, version=form.expected_version,
            received=returning.parse_received(request.form, items) if items else None,
            refund_shipping=request.form.get("refund_shipping") == "1")
    except REFUSED as exc:
        return _refused(order, exc)
    now = management.order_for_seller(current_shop(), number)
    return _done(order, f"Return received: {format_money(refunded, order.currency)} refunded; "
                 "the items are back in stock. " + (
                     f"Order {order.number} is Returned." if now.status == Status.RETURNED
                     else f"Order {order.number} is partly returned."))


@bp.post("/orders/<number>/requests/<int:request_id>/label")
@seller_required
def return_label(number: str, request_id: int):
    """Buy the return's label through the shop's carrier (the cheapest service)."""
    order = _order_or_404(number)
    found, form = _request_or_404(order, request_id), VersionedForm()
    if not form.validate_on_submit():
        abort(400, description="The form was incomplete; reload the page.")
    try:
        parcel = return_parcels.buy_return_label(current_shop(), order, found,
                                                 actor=current_user)
    except (ShippingRefused, OrderRefused) as exc:
        return _refused(order, exc)
    return _done(order, f"Return label bought: {parcel.carrier_name} {parcel.tracking_number}. "
                 "The buyer sees it on their order.")


@bp.post("/orders/<number>/refund")
@seller_required
def refund(number: str):
    """A full or partial refund, through the ledger: at most what was paid and not
    refunded yet (checked with the order locked)."""
    order, form = _order_or_404(number), RefundForm()
    if not form.validate_on_submit():
        return render_order(order, status=422, refund_form=form)
    try:
        amount = from_decimal(Decimal(form.amount.data.replace(",", "")), order.currency)
    except (InvalidOperation, ValueError):
        form.amount.errors.append("Type an amount such as 12.50.")
        return render_order(order, status=422, refund_form=form)
    try:
        row = payments.refund(order, amount, reason=form.reason.data, actor=current_user)
    except REFUSED as exc:
        return _refused(order, exc, unsaved=_typed(form))
    if row.state == ledger.State.FAILED:
        flash(ledger.describe(row, order.currency), "error")
    elif row.state == ledger.State.PENDING:
        flash(f"Refund of {format_money(amount, order.currency)} asked; the payment plugin "
              "has not answered yet and is asked again every minute.", "error")
    else:
        flash(f"Refunded {format_money(amount, order.currency)}.", "success")
    return redirect(url_for("seller.order", number=order.number), code=303)
