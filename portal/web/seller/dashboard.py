"""The Seller Center dashboard: counts, delayed orders, the 30-day chart."""

from flask import current_app, render_template

from portal.models import utcnow
from portal.orders import management, messages
from portal.orders.requests import KINDS
from portal.web.access import current_shop, seller_required
from portal.web.seller import bp, chart


@bp.get("/")
@seller_required
def dashboard():
    shop, now = current_shop(), utcnow()
    days = management.daily_figures(shop, now.date())
    return render_template(
        "seller/dashboard.html", shop=shop, counts=management.status_counts(shop, now),
        delayed=management.delayed_orders(shop, now), chart=chart.build(days, shop.currency, current_app.config["LOCALE"]), days=days,
        open_requests=management.open_requests(shop), kinds=KINDS,
        totals={"orders": sum(d.orders for d in days), "revenue": sum(d.revenue for d in days)},
        tabs=management.TABS, unread_total=messages.unread_for_shop(shop.id),
        unread_orders=messages.unread_orders_for_shop(shop.id))
