"""Who may see what: the checks every seller view goes through."""

from functools import wraps

from flask import abort, g
from flask_login import current_user, login_required

from portal.models import Shop


def current_shop() -> Shop:
    """The signed-in seller's shop (loaded once per request)."""
    if "shop" not in g:
        g.shop = Shop.get_or_none(Shop.owner == current_user.id)
    return g.shop


def seller_required(view):
    """Only a signed-in seller with a shop gets past; a buyer gets 404, not a hint."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_seller or current_shop() is None:
            abort(404)
        return view(*args, **kwargs)

    return wrapped
