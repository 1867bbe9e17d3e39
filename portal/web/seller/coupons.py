"""/seller/coupons: the shop's coupons with their uses, revenue and discount given; create,
edit, pause, resume, end. And, from an order's page, a one-off coupon for its buyer (the
remedy for a delay: the buyer sees it on the order and uses it on the next one).

Thin views: the rules live in ``portal.coupons``; a kind's own settings come from its
plugin's ``settings_form`` (``coupon_kinds``).
"""

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from portal.coupons import discounts, records, rules
from portal.models import Product, User, utcnow
from portal.money import from_decimal, to_decimal
from portal.orders import management
from portal.orders.lifecycle import record
from portal.web.access import current_shop, seller_required
from portal.web.forms import options, strip
from portal.web.seller import bp

MONEY = Regexp(r"^\d{1,7}(\.\d{1,2})?$", message="An amount such as 25.00.")
LOCAL = "%Y-%m-%dT%H:%M"


class CouponForm(FlaskForm):
    name = StringField("Name buyers read", filters=[strip],
                       validators=[DataRequired("Give the coupon a name."), Length(max=120)])
    code = StringField("Code (empty: the portal makes a readable one)", filters=[strip],
                       validators=[Length(max=40)])
    starts_at = DateTimeLocalField("Starts", format=LOCAL, validators=[Optional()])
    ends_at = DateTimeLocalField("Ends (not included)", format=LOCAL, validators=[Optional()])
    min_spend = StringField("Minimum subtotal", default="0", filters=[strip],
                            validators=[Optional(), MONEY])
    usage_limit = IntegerField("Uses in all (empty: no limit)",
                               validators=[Optional(), NumberRange(1, 10**6)])
    per_buyer_limit = IntegerField("Uses per buyer (empty: no limit)", default=1,
                                   validators=[Optional(), NumberRange(1, 1000)])
    combines = BooleanField("Combines with other discounts")
    automatic = BooleanField("Applies by itself, without a code")
    buyer_email = StringField("Only for this buyer (e-mail; empty: everyone)", filters=[strip],
                              validators=[Optional(), Length(max=254)])


class OfferForm(FlaskForm):
    kind = SelectField("Remedy", choices=options([("percentage", "Percent off"),
                                                  ("fixed", "Amount off")]))
    value = StringField("How much", filters=[strip],
                        validators=[DataRequired("Say how much."), MONEY])


def shop_timezone(shop) -> str:
    """The zone the shop's coupon times are given in: the shop's own (its settings)."""
    return shop.timezone or "UTC"


def _kind_or_404(shop, key: str):
    plugin, _, code = (key or "").partition(":")
    kind = discounts.kind_of(shop, plugin, code)
    if kind is None:
        abort(404)
    return plugin, kind


def _settings_form(shop, kind, formdata=None, data=None):
    if kind.settings_form is None:
        return None
    form = kind.settings_form(formdata=formdata, data=data or {}, prefix="kind-")
    if "products" in form._fields:
        form.products.choices = options(
            (p.id, p.name) for p in Product.select().where(Product.shop == shop.id)
            .order_by(Product.id).limit(500))
    return form


def _money(text: str, currency: str) -> int:
    try:
        return from_decimal(Decimal(text or "0"), currency)
    except (InvalidOperation, ValueError):
        return 0


def _draft(shop, plugin, kind, form, settings_form) -> records.Draft:
    tz = shop_timezone(shop)
    for f in (form.starts_at, form.ends_at):
        if f.data is not None and not 2000 <= f.data.year <= 2999:
            raise records.CouponInvalid({f.name: "A date from 2000 to 2999."})
    buyer_id = None
    if form.buyer_email.data:
        buyer = User.get_or_none(User.email == form.buyer_email.data.lower())
        if buyer is None:
            raise records.CouponInvalid({"buyer_email": "No buyer has this e-mail address."})
        buyer_id = buyer.id
    return records.Draft(
        name=form.name.data, plugin=plugin, kind=kind.code, code=form.code.data,
        settings=dict(settings_form.data) if settings_form else {},
        starts_at=rules.to_utc(form.starts_at.data, tz), ends_at=rules.to_utc(form.ends_at.data, tz),
        timezone=tz, min_spend=_money(form.min_spend.data, shop.currency),
        usage_limit=form.usage_limit.data, per_buyer_limit=form.per_buyer_limit.data,
        combines=form.combines.data, automatic=form.automatic.data, buyer_id=buyer_id)


@bp.get("/coupons")
@seller_required
def coupons():
    shop = current_shop()
    return render_template("seller/coupons.html", shop=shop, kinds=discounts.kinds(shop),
                           rows=records.list_with_figures(shop.id), next_statuses=rules.NEXT)


def _edit(shop, plugin, kind, coupon=None):
    tz = shop_timezone(shop)
    data = {}
    if coupon is not None:
        buyer = User.get_or_none(User.id == coupon.buyer_id) if coupon.buyer_id else None
        data = dict(name=coupon.name, code=coupon.code, min_spend=str(to_decimal(
            coupon.min_spend, shop.currency)), usage_limit=coupon.usage_limit,
            per_buyer_limit=coupon.per_buyer_limit, combines=coupon.combines,
            automatic=coupon.automatic, buyer_email=buyer.email if buyer else "",
            starts_at=rules.to_local(coupon.starts_at, tz), ends_at=rules.to_local(coupon.ends_at, tz))
    form = CouponForm(data=data) if request.method == "GET" else CouponForm()
    settings_form = _settings_form(shop, kind, request.form if request.method == "POST" else None,
                                   records.settings_of(coupon) if coupon else None)
    if request.method == "POST":
        valid = form.validate_on_submit()
        valid = (settings_form.validate() if settings_form else True) and valid
        if valid:
            try:
                saved = records.save(shop, _draft(shop, plugin, kind, form, settings_form), coupon)
            except records.CouponInvalid as invalid:
                for name, message in invalid.errors.items():
                    target = form._fields.get(name) or form.name
                    target.errors = [*target.errors, message]
            else:
                flash(f"Coupon {saved.code} saved.", "success")
                return redirect(url_for(".coupons"), code=303)
    status = 422 if form.errors or (settings_form and settings_form.errors) else 200
    return render_template("seller/coupon_form.html", shop=shop, form=form, kind=kind,
                           plugin=plugin, settings_form=settings_form, coupon=coupon,
                           timezone=tz), status


@bp.route("/coupons/new", methods=["GET", "POST"])
@seller_required
def new_coupon():
    shop = current_shop()
    plugin, kind = _kind_or_404(shop, request.args.get("kind", "")[:120])
    return _edit(shop, plugin, kind)


def _coupon_or_404(shop, coupon_id: int):
    """The shop's own coupon: another shop's is not found."""
    coupon = records.of_shop(shop.id, coupon_id)
    if coupon is None:
        abort(404)
    return coupon


@bp.route("/coupons/<int:coupon_id>", methods=["GET", "POST"])
@seller_required
def edit_coupon(coupon_id: int):
    shop = current_shop()
    coupon = _coupon_or_404(shop, coupon_id)
    kind = discounts.kind_of(shop, coupon.plugin, coupon.kind)
    if kind is None:
        flash("The plugin that brings this coupon's kind is not available.", "error")
        return redirect(url_for(".coupons"), code=303)
    return _edit(shop, coupon.plugin, kind, coupon)


@bp.post("/coupons/<int:coupon_id>/status")
@seller_required
def coupon_status(coupon_id: int):
    shop = current_shop()
    coupon = _coupon_or_404(shop, coupon_id)
    status = request.form.get("status", "")[:10]
    if status not in rules.STATUSES:
        abort(400)
    if records.set_status(shop, coupon.id, status):
        words = {"active": "is on again", "paused": "is paused", "ended": "has ended"}
        flash(f"Coupon {coupon.code} {words[status]}.", "success")
    else:
        flash(f"Coupon {coupon.code} has ended: it cannot change any more.", "error")
    return redirect(url_for(".coupons"), code=303)


def offer_terms(shop, kind: str, value: str) -> tuple[dict, str]:
    """A one-off coupon's settings and words from the offer form's ``kind`` and ``value``
    (already valid money text); ``ValueError`` with the reason for a percentage out of range."""
    if kind == "percentage":
        percent = int(Decimal(value))
        if not 1 <= percent <= 100:
            raise ValueError("A percentage from 1 to 100.")
        return {"percent": percent}, f"{percent}% off your next order"
    return {"amount": value}, f"{value} {shop.currency} off your next order"


def offer(shop, order, kind: str, settings: dict, words: str):
    """Offer the order's buyer a one-off coupon for their next order (once, 90 days), on the
    order's timeline; returns it. The one way to offer one (a delay's remedy uses it too)."""
    coupon = records.save(shop, records.Draft(
        name=words, plugin=discounts.BUILTIN, kind=kind, settings=settings,
        ends_at=utcnow() + timedelta(days=90), timezone=shop_timezone(shop), usage_limit=1,
        per_buyer_limit=1, buyer_id=order.buyer_id, offered_for=order.id))
    record(order, "coupon_offered", f"{shop.name} offered coupon {coupon.code}: {words}",
           actor=current_user, actor_role="seller")
    return coupon


@bp.post("/orders/<number>/coupon")
@seller_required
def offer_coupon(number: str):
    """A one-off coupon for this order's buyer, for their next order (valid 90 days)."""
    shop = current_shop()
    order = management.order_for_seller(shop, number[:16])
    if order is None:
        abort(404)
    form = OfferForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
        return redirect(url_for(".order", number=order.number), code=303)
    try:
        settings, words = offer_terms(shop, form.kind.data, form.value.data)
    except ValueError as bad:
        flash(str(bad), "error")
        return redirect(url_for(".order", number=order.number), code=303)
    coupon = offer(shop, order, form.kind.data, settings, words)
    flash(f"Coupon {coupon.code} offered to the buyer: they see it on the order.", "success")
    return redirect(url_for(".order", number=order.number), code=303)
