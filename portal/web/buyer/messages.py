"""The buyer's side of an order's conversation with the shop: ``/orders/<number>/messages``
(GET: the thread for htmx, else back to the order page; POST: a new message)."""

from flask import redirect, url_for
from flask_login import login_required

from portal.web import messaging
from portal.web.buyer import bp
from portal.web.buyer.after_purchase import _order_or_404, render_order
from portal.web.render import wants_fragment


def _urls(order) -> dict:
    return {"post_url": url_for("buyer.messages", number=order.number)}


@bp.get("/orders/<number>/messages")
@login_required
def messages(number: str):
    order = _order_or_404(number)
    if not wants_fragment():
        return redirect(url_for("buyer.order_detail", number=order.number,
                                _anchor="messages"), 303)
    return messaging.fragment(order, **_urls(order))


@bp.post("/orders/<number>/messages")
@login_required
def post_message(number: str):
    order = _order_or_404(number)
    return messaging.post(
        order, **_urls(order),
        back_url=url_for("buyer.order_detail", number=order.number, _anchor="messages"),
        render_page=lambda **kw: render_order(order, **kw))
