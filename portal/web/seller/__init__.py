"""The Seller Center: dashboard, Order Management, one order, settings.

Every view here is behind ``seller_required`` and reads or writes only the
signed-in seller's shop; another shop's order is a 404.
"""

from datetime import datetime, time

from babel.dates import get_timezone
from flask import Blueprint, current_app

bp = Blueprint("seller", __name__, url_prefix="/seller")


def local_day_start(day) -> datetime:
    """Midnight of ``day`` in the portal's time zone, as the naive UTC we store."""
    tz = get_timezone(current_app.config["TIMEZONE"])
    aware = datetime.combine(day, time.min).replace(tzinfo=tz)
    return aware.astimezone(get_timezone("UTC")).replace(tzinfo=None)


from portal.web.seller import (coupons, dashboard, delays, messages, order, orders,  # noqa: E402,F401
                               reviews, settings)
