"""Checkout: ``/checkout/<shop slug>``, one shop's cart to an order, in steps that work
without JavaScript: shipping address, shipping option, payment method (a card is
turned into the gateway's token at once), review, "Place order".

Thin views: what the buyer chose is kept in the session per shop (an address, the
shipping option and payment method as the server quoted them, the card token:
never a card number); every amount is computed on the server again at each step.
``portal.checkout.place_and_pay`` places the order (``portal.orders.placing``) and
authorises it; the review's checkout token makes a double click or a resent form
one order.
"""

import secrets

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from portal import cart, checkout, payments
from portal.coupons import discounts
from portal.coupons.records import MAX_COUPONS_PER_ORDER
from portal.addresses import FIELDS, check_address, country_choices
from portal.models import Address, Order, PaymentTransaction, Shop
from portal.orders.lifecycle import Status
from portal.orders.placing import CheckoutRefused, PaymentChoice, auth_key, totals
from portal.payments import redirects
from portal.web.forms import parse_int
from portal.web.paying import choose
from portal.web.payments import to_buyer
from portal.web.shop import recount_cart

bp = Blueprint("checkout", __name__, url_prefix="/checkout")

STEPS = ("address", "shipping", "payment", "review")
_STATE = "checkout"


def _state(shop_id: int) -> dict:
    return dict((session.get(_STATE) or {}).get(str(shop_id)) or {})


def _save(shop_id: int, state: dict | None) -> None:
    everything = dict(session.get(_STATE) or {})
    if state is None:
        everything.pop(str(shop_id), None)
    else:
        everything[str(shop_id)] = state
    session[_STATE] = everything


def _cart_or_back(slug: str):
    """The shop and the buyer's own cart in it (None when they have none)."""
    shop = Shop.get_or_none(Shop.slug == slug[:80])
    if shop is None:
        abort(404)
    mine = next((c for c in cart.carts_of(current_user.id) if c.shop_id == shop.id), None)
    return shop, mine


def _ready(slug: str):
    """The shop, the buyer's cart in it and what they chose so far, when the cart can be
    checked out; otherwise the request ends here, back on /cart with the reason."""
    shop, mine = _cart_or_back(slug)
    if mine is None or not mine.can_check_out:
        if mine is None or not mine.lines:
            flash("Your cart in this shop is empty.", "info")
        else:
            flash("Some lines of this cart can't be checked out as they are: see below.",
                  "error")
        abort(redirect(url_for("shop.cart_page"), code=303))
    return shop, mine, _state(shop.id)


def _to_page(shop):
    return redirect(url_for(".page", slug=shop.slug), code=303)


def _options(shop, mine, state):
    address = state.get("address") or {}
    return checkout.shipping_options(shop, country=address.get("country", ""),
                                     postal_code=address.get("postal_code", ""),
                                     item_count=mine.item_count, currency=mine.currency)


def _methods(shop, mine, state):
    shipping = (state.get("shipping") or {}).get("amount", 0)
    return payments.methods(shop, mine.currency, mine.subtotal + shipping)


def _current_step(state: dict) -> str:
    wanted = request.args.get("step", "")
    done = {"address": "address" in state, "shipping": "shipping" in state,
            "payment": "payment" in state}
    first_open = next((s for s in STEPS[:3] if not done[s]), "review")
    if wanted in STEPS and STEPS.index(wanted) <= STEPS.index(first_open):
        return wanted
    return first_open


def _render(shop, mine, state, *, step=None, errors=None, form=None, status=200):
    step = step or _current_step(state)
    context = dict(shop=shop, cart=mine, state=state, step=step, errors=errors or {},
                   form=form or {}, countries=country_choices(),
                   # The default address first: it is the one checked.
                   saved=list(Address.select().where(Address.user == current_user.id)
                              .order_by(Address.is_default.desc(), Address.id).limit(20)))
    if step == "shipping":
        context["options"] = _options(shop, mine, state)
    if step == "payment":
        context["methods"] = _methods(shop, mine, state)
    if step == "review":
        if not state.get("token"):
            state["token"] = secrets.token_urlsafe(24)
            _save(shop.id, state)
        shipping = state["shipping"]["amount"]
        fee = state["payment"]["fee"]
        worked = _coupons(shop, mine, state)
        shipping -= worked.shipping_off
        context["coupons"] = worked
        context["money"] = dict(subtotal=mine.subtotal, discount=worked.discount,
                                shipping=shipping, fee=fee,
                                total=totals(mine.subtotal, worked.discount, shipping, fee))
    return render_template("checkout/checkout.html", **context), status


@bp.get("/<slug>")
@login_required
def page(slug: str):
    shop, mine, state = _ready(slug)
    return _render(shop, mine, state)


@bp.post("/<slug>/address")
@login_required
def address(slug: str):
    shop, mine, state = _ready(slug)
    saved_id = parse_int(request.form.get("saved", ""))
    if saved_id is not None:
        row = Address.get_or_none((Address.id == saved_id) & (Address.user == current_user.id))
        if row is None:
            abort(404)
        data = dict(name=row.full_name, line1=row.line1, line2=row.line2, city=row.city,
                    region=row.region, postal_code=row.postal_code, country=row.country,
                    phone=row.phone)
    else:
        data = {key: (request.form.get(key) or "")[:200] for key in FIELDS}
    checked = check_address(data)
    errors = dict(checked.errors)
    phone, phone_error = checkout.check_phone(checked.address["phone"], checked.address["country"])
    if phone_error:
        errors["phone"] = phone_error
    if errors:
        return _render(shop, mine, state, step="address", errors=errors, form=checked.address,
                       status=422)
    checked.address["phone"] = phone
    if not saved_id and request.form.get("save"):
        a = checked.address
        Address.create(user=current_user.id, full_name=a["name"], line1=a["line1"],
                       line2=a["line2"], city=a["city"], region=a["region"],
                       postal_code=a["postal_code"], country=a["country"], phone=a["phone"])
    state = {"address": checked.address}  # a new address: shipping is quoted again
    _save(shop.id, state)
    return _to_page(shop)


@bp.post("/<slug>/shipping")
@login_required
def shipping(slug: str):
    shop, mine, state = _ready(slug)
    if "address" not in state:
        return _to_page(shop)
    chosen = next((o for o in _options(shop, mine, state)
                   if o.key == request.form.get("option")), None)
    if chosen is None:
        return _render(shop, mine, state, step="shipping",
                       errors={"option": "Choose how your order is shipped."}, status=422)
    state = {"address": state["address"],
             "shipping": {"key": chosen.key, "name": chosen.name, "amount": chosen.amount,
                          "days": chosen.days}}
    _save(shop.id, state)
    return _to_page(shop)


@bp.post("/<slug>/payment")
@login_required
def payment(slug: str):
    shop, mine, state = _ready(slug)
    if "shipping" not in state:
        return _to_page(shop)
    choice, errors = choose(_methods(shop, mine, state), request.form)
    if choice is None:
        return _render(shop, mine, state, step="payment", errors=errors, status=422,
                       form={"method": request.form.get("method", "")[:120]})
    chosen, wanted, card_token = choice.method, choice.key, choice.card_token
    state.pop("token", None)
    state["payment"] = {"key": wanted, "plugin": chosen.plugin,
                        "method_code": chosen.option.method_code, "name": chosen.option.name,
                        "fee": chosen.option.fee, "capture": chosen.option.capture,
                        "card_token": card_token}
    _save(shop.id, state)
    return _to_page(shop)


def _coupons(shop, mine, state, codes=None):
    """The buyer's coupons and the shop's automatic ones on this cart, as the order gets them."""
    shipping = (state.get("shipping") or {}).get("amount", 0)
    return discounts.evaluate(shop, current_user, mine, shipping=shipping,
                              codes=state.get("coupons", []) if codes is None else codes)


@bp.post("/<slug>/coupon")
@login_required
def coupon(slug: str):
    """Apply a code (it joins the buyer's codes when it applies, else says why), or
    take one off (``remove``)."""
    shop, mine, state = _ready(slug)
    codes = list(state.get("coupons", []))
    removed = (request.form.get("remove") or "")[:40]
    if removed:
        state["coupons"] = [c for c in codes if c != removed]
        _save(shop.id, state)
        return _to_page(shop)
    code = (request.form.get("code") or "").strip()[:40]
    error = "" if code else "Type a coupon code first."
    if code and code.upper() in (c.upper() for c in codes):
        error = f"{code} is applied already."
    elif code and len(codes) >= MAX_COUPONS_PER_ORDER:
        error = f"Use at most {MAX_COUPONS_PER_ORDER} coupons on one order."
    elif code:
        worked = _coupons(shop, mine, state, codes + [code])
        if code in worked.refused:
            error = worked.refused[code].message
    if error:
        return _render(shop, mine, state, errors={"coupon": error}, form={"code": code},
                       status=422)
    state["coupons"] = codes + [code]
    _save(shop.id, state)
    flash(f"Coupon {code.upper()} applied.", "success")
    return _to_page(shop)


@bp.post("/<slug>/place")
@login_required
def place(slug: str):
    token = (request.form.get("checkout_token") or "")[:64]
    if token:  # a reload or a resent form of a checkout already placed: its order
        placed = Order.get_or_none((Order.checkout_token == token)
                                   & (Order.buyer == current_user.id))
        if placed is not None and placed.status != Status.CANCELLED:
            auth = PaymentTransaction.get_or_none(PaymentTransaction.idempotency_key
                                                  == auth_key(token))
            if redirects.waiting_url(auth):  # its payment still waits for the buyer
                return to_buyer(redirects.waiting_url(auth))
            return redirect(url_for("buyer.order_detail", number=placed.number), code=303)
    shop, mine = _cart_or_back(slug)
    state = _state(shop.id)
    if not token or token != state.get("token") or "payment" not in state:
        flash("This checkout changed since it was shown: check it and place the order again.",
              "error")
        return _to_page(shop)
    expected = parse_int(request.form.get("expected_total", ""), maximum=10**11 - 1)
    chosen = state["payment"]
    try:
        outcome = checkout.place_and_pay(
            current_user, shop.id, checkout_token=token, address=state["address"],
            shipping_total=state["shipping"]["amount"],
            payment=PaymentChoice(chosen["plugin"], chosen["method_code"], chosen["fee"],
                                  chosen["name"], chosen.get("capture", "on_shipping")),
            card_token=chosen.get("card_token", ""),
            expected_total=-1 if expected is None else expected,
            shipping_label=state["shipping"]["name"], coupon_codes=state.get("coupons", []),
            shipping_service=state["shipping"].get("key", ""))
    except CheckoutRefused as refused:
        state.pop("token", None)
        _save(shop.id, state)
        flash(refused.message, "error")
        if refused.code in ("checkout.out_of_stock", "checkout.empty"):
            return redirect(url_for("shop.cart_page"), code=303)
        return _to_page(shop)
    recount_cart(current_user.id)
    if outcome.redirect_url:  # the buyer answers on the wallet's page, then comes back
        state.pop("token", None)
        state.pop("payment", None)
        _save(shop.id, state)
        return to_buyer(outcome.redirect_url)
    if not outcome.ok:
        state.pop("token", None)
        state.pop("payment", None)
        _save(shop.id, state)
        flash(f"Your payment was declined: {outcome.declined} Your cart is as it was: "
              "choose another way to pay.", "error")
        return redirect(url_for(".page", slug=shop.slug, step="payment"), code=303)
    _save(shop.id, None)
    flash(f"Thank you: order {outcome.order.number} is placed.", "success")
    return redirect(url_for("buyer.order_detail", number=outcome.order.number), code=303)
