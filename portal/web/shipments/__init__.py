"""``/seller/shipments/<id>/...``: a shipment's printable label, voiding it, and
typing tracking events by hand. Another shop's shipment is a 404."""

import re

import barcode
from barcode.errors import IllegalCharacterError
from barcode.writer import SVGWriter
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from markupsafe import Markup

from portal import shipping
from portal.shipping import tracking
from portal.hooks.hooktypes import TrackingStatus
from portal.models import Order, Shipment, TrackingEvent
from portal.web.access import current_shop, seller_required
from portal.web.shipments.forms import TrackingEventForm

bp = Blueprint("shipments", __name__, url_prefix="/seller/shipments")


def _shipment(shipment_id: int) -> Shipment:
    """The shipment if it belongs to the signed-in seller's shop, else 404. A return
    parcel is none of these pages' (voiding it would unship the order's items)."""
    shipment = (Shipment.select(Shipment, Order).join(Order)
                .where((Shipment.id == shipment_id) & (Order.shop == current_shop().id)
                       & (Shipment.direction == "out"))
                .get_or_none())
    if shipment is None:
        abort(404)
    return shipment


def barcode_svg(text: str) -> Markup:
    """``text`` as a Code 128 barcode, an inline SVG that the strict CSP allows.

    python-barcode colours bars with ``style`` attributes, which the CSP
    (no inline styles) would drop; they become ``fill`` attributes.
    The tracking number comes from a carrier plugin, so it is escaped like any
    other outside text.
    """
    try:
        svg = barcode.get("code128", text, writer=SVGWriter()).render(
            writer_options={"module_height": 18, "write_text": False, "quiet_zone": 4}).decode()
    except (IllegalCharacterError, ValueError):
        return Markup('<p class="notice">No barcode: tracking number {} has characters a '
                      "Code 128 barcode cannot carry.</p>").format(text)
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r'style="fill:(\w+);?"', r'fill="\1"', svg)
    svg = re.sub(r"<!--.*?-->", "", svg)
    return Markup(svg.replace("<svg ", Markup('<svg role="img" aria-label="Barcode {}" ').format(text), 1))


@bp.get("/<int:shipment_id>/label")
@seller_required
def label(shipment_id: int):
    shipment = _shipment(shipment_id)
    if shipment.label_id is None:
        abort(404)
    return render_template("shipments/label.html", shipment=shipment, order=shipment.order,
                           shop=current_shop(), barcode=barcode_svg(shipment.tracking_number),
                           can_void=shipping.can_void(shipment))


@bp.post("/<int:shipment_id>/label/void")
@seller_required
def void(shipment_id: int):
    shipment = _shipment(shipment_id)
    try:
        shipping.void_label(current_shop(), shipment, actor=current_user)
        flash("The label is void and its price will be refunded by the carrier; "
              "the items are back on the order's ship list.", "success")
    except shipping.ShippingRefused as refused:
        flash(str(refused), "error")
    return redirect(url_for(".label", shipment_id=shipment.id), 303)


@bp.route("/<int:shipment_id>/events", methods=["GET", "POST"])
@seller_required
def events(shipment_id: int):
    shipment = _shipment(shipment_id)
    form = TrackingEventForm()
    if form.validate_on_submit():
        tracking.add_manual_event(shipment, status=TrackingStatus(form.status.data),
                                  description=form.description.data,
                                  location=form.location.data or "", actor=current_user)
        flash("Tracking event added; the buyer sees it now.", "success")
        return redirect(url_for(".events", shipment_id=shipment.id), 303)
    scans = (TrackingEvent.select().where(TrackingEvent.shipment == shipment.id)
             .order_by(TrackingEvent.occurred_at.desc(), TrackingEvent.id.desc()))
    status = 422 if form.errors else 200
    return render_template("shipments/events.html", shipment=shipment, order=shipment.order,
                           form=form, scans=list(scans)), status
