"""Returns on both sides' order pages: the buyer's per-line return form and what an
approved return shows (the shop's address, the label or the tracking form, the parcel),
the seller's items, parcel, label button and receipt form."""

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from portal import shipping
from portal.models import Order, OrderRequest, Shipment
from portal.orders import requests, returns
from portal.orders.errors import BadInput
from portal.orders.holds import APPROVED
from portal.web.forms import parse_int, strip


class ReturnTrackingForm(FlaskForm):
    """The buyer's return parcel: its tracking number (the carrier is recognised)."""

    tracking_number = StringField("Tracking number of your parcel", filters=[strip],
                                  validators=[DataRequired("Enter the tracking number."),
                                              Length(max=64)])


def parse_items(form, lines) -> list[returns.Wanted]:
    """The return form's rows (``rqty-<line>``, ``reason-<line>``, ``note-<line>``) as
    items; a quantity that is not a whole number is refused with the line's name."""
    wanted = []
    for line in lines:
        raw = (form.get(f"rqty-{line.id}") or "0").strip() or "0"
        quantity = parse_int(raw, maximum=999)
        if quantity is None:
            raise BadInput("return.bad_quantity", f"{line.product_name}: the quantity must be "
                           "a whole number.")
        wanted.append(returns.Wanted(line.id, quantity, form.get(f"reason-{line.id}") or "",
                                     (form.get(f"note-{line.id}") or "")[:300]))
    return wanted


def parse_received(form, items) -> dict[int, int]:
    """The receipt form's ``received-<line>`` quantities (missing: what was asked)."""
    found = {}
    for item in items:
        raw = form.get(f"received-{item.order_line_id}")
        value = item.quantity if raw is None else parse_int(raw, maximum=999)
        if value is None:
            raise BadInput("return.bad_received", f"{item.order_line.product_name}: type how "
                           "many came back, as a whole number.")
        found[item.order_line_id] = value
    return found


def _parcels(order: Order, asked: list[OrderRequest]) -> dict[int, Shipment]:
    ids = {r.return_shipment_id: r.id for r in asked
           if r.kind == "return" and r.return_shipment_id}
    if not ids:
        return {}
    return {ids[s.id]: s for s in Shipment.select().where(
        (Shipment.id.in_(list(ids))) & (Shipment.order == order.id))}


def buyer_context(order: Order, asked: list[OrderRequest], can_return: bool,
                  lines=None) -> dict:
    """What the buyer's order page shows of returns (``asked``: all the order's requests;
    ``lines``: its lines from ``queries.order_detail``, if the caller has them)."""
    parcels = _parcels(order, asked)
    context = {"return_parcels": parcels, "reasons": returns.REASONS,
               "return_links": shipping.tracking_links(order.shop_id, list(parcels.values())),
               "return_refunded": returns.refunded_by_returns(asked),
               "return_choices": [], "return_address": None,
               "tracking_form": ReturnTrackingForm(formdata=None)}
    if any(r.kind == "return" and r.status == APPROVED for r in asked):
        context["return_address"] = returns.return_address(order.shop)
    if can_return:
        lines = [line for line in requests.returnable_lines(order, lines) if line.quantity > 0]
        left = returns.available(lines, order, asked)
        context["return_choices"] = [(line, left[line.id]) for line in lines if left[line.id]]
    return context


def seller_context(order: Order, waiting: list[OrderRequest], lines) -> dict:
    """What the seller's order page shows of the returns that wait for the shop."""
    approved = [r for r in waiting if r.kind == "return" and r.status == APPROVED]
    parcels = _parcels(order, approved)
    return {"return_items": returns.items_of([r.id for r in approved]),
            "return_parcels": parcels,
            "return_links": shipping.tracking_links(order.shop_id, list(parcels.values())),
            "shipping_refunded": returns.shipping_refunded(order) if approved else False,
            "shipping_paid": returns.shipping_paid(order, lines) if approved else 0}
