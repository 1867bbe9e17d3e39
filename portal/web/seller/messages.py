"""The shop's side of an order's conversation with its buyer:
``/seller/orders/<number>/messages`` (GET: the thread for htmx, else back to the order
page; POST: a new message)."""

from flask import redirect, url_for

from portal.web import messaging
from portal.web.access import current_shop, seller_required
from portal.web.render import wants_fragment
from portal.web.seller import bp
from portal.web.seller.order import _order_or_404, render_order


def _where(order) -> dict:
    return {"shop": current_shop(),
            "post_url": url_for("seller.messages", number=order.number)}


@bp.get("/orders/<number>/messages")
@seller_required
def messages(number: str):
    order = _order_or_404(number)
    if not wants_fragment():
        return redirect(url_for("seller.order", number=order.number, _anchor="messages"), 303)
    return messaging.fragment(order, **_where(order))


@bp.post("/orders/<number>/messages")
@seller_required
def post_message(number: str):
    order = _order_or_404(number)
    return messaging.post(
        order, **_where(order),
        back_url=url_for("seller.order", number=order.number, _anchor="messages"),
        render_page=lambda **kw: render_order(order, **kw))
