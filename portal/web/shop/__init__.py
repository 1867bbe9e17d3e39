"""The storefront and the cart: ``/`` (the shops), ``/shops/<slug>``, a product, ``/cart``.

Thin views: ``portal.catalogue`` reads the shops and products, ``portal.cart`` keeps
the carts' rules. The nav badge's count rides in the session (refreshed at log-in
and by every cart page or change), so other pages spend no query on it.
"""

from flask import (Blueprint, abort, current_app, flash, make_response, redirect,
                   render_template, request, session, url_for)
from flask_login import current_user, login_required, user_logged_in

from portal import cart, catalogue
from portal.orders import reviews
from portal.web.forms import parse_int
from portal.web.render import page_or_fragment, wants_fragment

bp = Blueprint("shop", __name__)

MAX_ID = 2**31 - 1
LATEST_REVIEWS = 5  # on a shop's page, under its products
_BADGE = "cart_items"  # session: [user id, items in their carts]


def _remember_count(user_id: int, count: int) -> int:
    session[_BADGE] = [user_id, count]
    return count


def recount_cart(user_id: int) -> int:
    """Count the user's cart items again for the nav badge (after their carts changed)."""
    return _remember_count(user_id, cart.item_count(user_id))


@user_logged_in.connect
def _count_at_login(sender, user, **_):
    recount_cart(user.id)


@bp.app_context_processor
def _cart_badge():
    def cart_items() -> int:
        if not current_user.is_authenticated:
            return 0
        kept = session.get(_BADGE)
        if isinstance(kept, list) and len(kept) == 2 and kept[0] == current_user.id:
            return kept[1]
        return recount_cart(current_user.id)
    return {"cart_items": cart_items}


def _page_args() -> dict:
    """``?after=`` / ``?before=`` (ids), checked: a bad page link is a 400."""
    found = {}
    for key in ("after", "before"):
        raw = request.args.get(key)
        if raw is not None and raw != "":
            value = parse_int(raw, maximum=MAX_ID)
            if value is None:
                abort(400, description="That page link is not valid. Start again from the "
                                       "first page.")
            found[key] = value
    return found


def _limit() -> int:
    return current_app.config.get("SHOP_PAGE_SIZE") or current_app.config["PAGE_SIZE"]


def shops_page():
    """``/``: every shop, for everyone (the app's ``index`` view renders this)."""
    page = catalogue.shops(**_page_args(), limit=_limit())
    return render_template("shop/shops.html", page=page)


@bp.get("/shops/<slug>")
def shop(slug: str):
    found = catalogue.shop_by_slug(slug)
    if found is None:
        abort(404)
    page = catalogue.products(found, **_page_args(), limit=_limit())
    rating = reviews.summary(found.id)  # its average, from the (shop, rating) index
    return render_template("shop/shop.html", shop=found, page=page,
                           own_shop=_own_shop(found), rating=rating,
                           latest_reviews=reviews.latest(found.id, LATEST_REVIEWS)
                           if rating.count else [])


def _own_shop(shop) -> bool:
    return current_user.is_authenticated and shop.owner_id == current_user.id


@bp.get("/shops/<slug>/products/<int:product_id>")
def product(slug: str, product_id: int):
    found = catalogue.product_page(slug, product_id) if product_id <= MAX_ID else None
    if found is None:
        abort(404)
    chosen = parse_int(request.args.get("variant"), maximum=MAX_ID)
    if chosen not in {v.id for v in found.variants if not v.sold_out}:
        chosen = next((v.id for v in found.variants if not v.sold_out), None)
    quantity = parse_int(request.args.get("quantity"), maximum=cart.MAX_QUANTITY) or 1
    return render_template("shop/product.html", page=found, shop=found.shop, chosen=chosen,
                           quantity=quantity, own_shop=_own_shop(found.shop),
                           max_quantity=cart.MAX_QUANTITY)


def _product_url(chosen, **args) -> str:
    product = chosen.product
    return url_for(".product", slug=product.shop.slug, product_id=product.id, **args)


@bp.post("/cart/lines")
def add_to_cart():
    """Add to cart (a plain form). Anonymous visitors log in first and come back to
    the product with their choice kept."""
    variant_id = parse_int(request.form.get("variant"), maximum=MAX_ID)
    quantity = parse_int(request.form.get("quantity"), maximum=1000)
    if not current_user.is_authenticated:
        variant = cart.variant_for_sale(variant_id)
        if variant is None:
            abort(404)
        flash("Log in (or create an account) to fill your cart.", "info")
        back = _product_url(variant, variant=variant.id,
                            **({"quantity": quantity} if quantity else {}))
        return redirect(url_for("auth.login", next=back), code=303)
    try:
        added = cart.add(current_user, variant_id, quantity)
    except cart.CartRefused as refused:
        variant = cart.variant_for_sale(variant_id)
        if refused.code == "cart.not_found" or variant is None:
            abort(404)
        flash(refused.message, "error")
        return redirect(_product_url(variant, variant=variant.id), code=303)
    recount_cart(current_user.id)
    flash(f"Added to your cart: {added.description}"
          + (f" × {quantity}" if quantity and quantity > 1 else "") + ".", "success")
    return redirect(_product_url(added.variant, variant=added.variant.id), code=303)


def _render_cart(*, shop_id: int | None = None, errors: dict | None = None, status: int = 200):
    """The whole cart page, or (htmx) the one shop's cart that changed, with the
    nav badge swapped out of band."""
    carts = cart.carts_of(current_user.id)
    count = _remember_count(current_user.id, sum(c.item_count for c in carts))
    errors = errors or {}
    if shop_id is not None and wants_fragment():
        one = next((c for c in carts if c.shop_id == shop_id), None)
        response = make_response(render_template(
            "cart/_cart.html", cart=one, shop_id=shop_id, errors=errors, badge_count=count,
            oob=True), status)
    else:
        response = make_response(render_template("cart/cart.html", carts=carts, errors=errors),
                                 status)
    response.vary.add("HX-Request")
    return response


@bp.get("/cart")
@login_required
def cart_page():
    return _render_cart()


def _after_change(shop_id: int, message: str):
    if wants_fragment():
        return _render_cart(shop_id=shop_id)
    flash(message, "success")
    return redirect(url_for(".cart_page", _anchor=f"cart-{shop_id}"), code=303)


@bp.post("/cart/lines/<int:line_id>")
@login_required
def update_line(line_id: int):
    quantity = parse_int(request.form.get("quantity"), maximum=1000)
    try:
        shop_id = cart.set_quantity(current_user, line_id if line_id <= MAX_ID else None,
                                    quantity)
    except cart.CartRefused as refused:
        if refused.code == "cart.not_found":
            abort(404)
        return _render_cart(shop_id=refused.shop_id, errors={line_id: refused.message},
                            status=422)
    return _after_change(shop_id, "Quantity updated.")


@bp.post("/cart/lines/<int:line_id>/remove")
@login_required
def remove_line(line_id: int):
    try:
        shop_id = cart.remove(current_user, line_id if line_id <= MAX_ID else None)
    except cart.CartRefused:
        abort(404)
    return _after_change(shop_id, "Removed from your cart.")
