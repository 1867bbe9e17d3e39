"""The buyer's Orders section: the order history and one order."""

from flask import (Blueprint, abort, current_app, make_response, redirect, render_template,
                   request, url_for)
from flask_login import current_user, login_required
from werkzeug.http import is_resource_modified

from portal import shipping

from portal.demo.people import demo_history_login
from portal.models import utcnow
from portal.orders import delays, queries
from portal.orders.lifecycle import Status
from portal.web.render import page_or_fragment, wants_fragment

bp = Blueprint("buyer", __name__)

TABS = [("", "All")] + [(s.value, s.label) for s in Status]


def _filters() -> dict:
    """The list's filters from the query string, checked: they are also its URL."""
    status = request.args.get("status", "")
    if status not in {value for value, _ in TABS}:
        abort(400, description=f"There is no status called {status!r}.")
    return {
        "status": status,
        "q": request.args.get("q", "").strip()[:100],
        "before": request.args.get("before") or None,
        "after": request.args.get("after") or None,
    }


@bp.get("/orders")
@login_required
def orders():
    filters = _filters()
    try:
        page = queries.buyer_orders(
            current_user.id, status=Status(filters["status"]) if filters["status"] else None,
            q=filters["q"], before=filters["before"], after=filters["after"],
            limit=current_app.config["PAGE_SIZE"])
    except queries.BadCursor:
        abort(400, description="That page link is not valid. Start again from the first page.")
    now = utcnow()
    late = {o.id: lateness for o in page.rows
            if (lateness := delays.lateness(o, o.shop, now)) is not None}
    context = dict(page=page, filters=filters, tabs=TABS, late=late,
                   counts=queries.buyer_status_counts(current_user.id))
    if not page.rows and not filters["q"] and not filters["status"] and not filters["before"]:
        context["demo_login"] = demo_history_login(current_user.id)  # what a newcomer can do
    if not wants_fragment():  # the summary sits outside the swapped list
        context["spending"] = queries.spending_summary(current_user.id, utcnow().date())
    return page_or_fragment("buyer/orders.html", "buyer/_orders.html", **context)


@bp.get("/orders/<number>")
@login_required
def order_detail(number: str):
    order = queries.order_for_buyer(current_user.id, number)
    if order is None:
        abort(404)
    return after_purchase.render_order(order)


@bp.get("/orders/<number>/tracking")
@login_required
def order_tracking(number: str):
    """The tracking block alone, for the open order page's polling.

    Unchanged since the browser's copy (ETag / Last-Modified), it is a bodiless
    304; a plain request goes to the order page.
    """
    order = queries.order_for_buyer(current_user.id, number)
    if order is None:
        abort(404)
    if not wants_fragment():
        return redirect(url_for(".order_detail", number=order.number, _anchor="tracking"), 303)
    etag, modified = queries.tracking_version(order)
    if is_resource_modified(request.environ, etag=etag, last_modified=modified):
        shipments = queries.shipments_with_tracking(order)
        response = make_response(render_template(
            "buyer/_tracking.html", order=order, detail={"shipments": shipments},
            links=shipping.tracking_links(order.shop_id, shipments), oob=True))
    else:
        response = make_response("", 304)
    response.set_etag(etag)
    response.last_modified = modified
    response.cache_control.private = True
    response.cache_control.no_cache = True
    response.vary.add("HX-Request")
    return response


from portal.web.buyer import after_purchase, balance, messages, reviews  # noqa: E402,F401 (their views join this blueprint)
