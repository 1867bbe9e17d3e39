"""A Delayed order's "Tell the buyer": the seller's words about the delay and a remedy
(none, a one-off coupon, or a free upgrade to faster shipping). The rules are the
domain's (``portal.orders.delays``, ``actions.explain_delay``/``expedite``); the coupon
is offered by the one offer path (``seller.coupons.offer``); the faster service is
picked from the shop's carriers (``portal.shipping.expedite``)."""

from flask import flash, redirect, url_for
from flask_login import current_user
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.models import utcnow
from portal.orders import actions, delays, messages
from portal.shipping.expedite import NoUpgrade, faster_service
from portal.web.access import current_shop, seller_required
from portal.web.forms import VersionedForm, options, strip
from portal.web.seller import bp, coupons
from portal.web.seller.order import REFUSED, _order_or_404, _refused, render_order

REMEDIES = [("none", "No remedy, just the message"),
            ("coupon", "A coupon for their next order"),
            ("expedite", "A free upgrade to faster shipping (you pay the difference)")]


class DelayForm(VersionedForm):
    words = TextAreaField("Message to the buyer (they see it on the order)", filters=[strip],
                          validators=[DataRequired("Tell the buyer what happened."),
                                      Length(max=messages.MAX_LENGTH)])
    remedy = RadioField("Remedy", choices=options(REMEDIES), default="none",
                        validators=[DataRequired("Choose a remedy (or none).")])
    coupon_kind = SelectField("Coupon", choices=options([("percentage", "Percent off"),
                                                         ("fixed", "Amount off")]),
                              default="percentage")
    coupon_value = StringField("How much", filters=[strip], validators=[Optional(),
                                                                        coupons.MONEY])


def delay_context(order, shop, form: DelayForm | None = None) -> dict:
    """What the order page's "Tell the buyer" block needs: the form when the domain offers
    it (a Delayed order), and whether the upgrade is open (not shipped yet)."""
    now = utcnow()
    if not actions.explain_delay(order, shop, now):
        return {"delay_form": None}
    form = form or DelayForm(formdata=None, version=order.version)
    expedite = actions.expedite(order, shop, now)
    if not expedite:
        form.remedy.choices = [c for c in form.remedy.choices if c.value != "expedite"]
    return {"delay_form": form, "expedite_verdict": expedite}


@bp.post("/orders/<number>/delay")
@seller_required
def explain_delay(number: str):
    shop, order = current_shop(), _order_or_404(number)
    form = DelayForm()
    if not form.validate_on_submit():
        return render_order(order, status=422, delay_form=form)
    remedy, upgrade, offer = form.remedy.data, None, None
    try:
        if remedy == "coupon":
            if not form.coupon_value.data:
                form.coupon_value.errors = ["Say how much the coupon gives."]
                return render_order(order, status=422, delay_form=form)
            settings, words = coupons.offer_terms(shop, form.coupon_kind.data,
                                                  form.coupon_value.data)

            def offer():
                coupon = coupons.offer(shop, order, form.coupon_kind.data, settings, words)
                return f"A coupon for your next order: {coupon.code} ({words})."
        elif remedy == "expedite":
            actions.expedite(order, shop, utcnow()).check()  # before asking the carriers
            upgrade = faster_service(shop, order)
        delays.explain(order, shop, version=form.expected_version, actor=current_user,
                       words=form.words.data, upgrade=upgrade, offer=offer)
    except (ValueError, NoUpgrade) as bad:
        field = form.coupon_value if remedy == "coupon" else form.remedy
        field.errors = [str(bad)]
        return render_order(order, status=422, delay_form=form)
    except REFUSED as refused:
        return _refused(order, refused)
    flash("The buyer has your message" + {"coupon": " and the coupon.",
                                         "expedite": f": shipping upgraded to {upgrade.name}."
                                         if upgrade else "."}.get(remedy, "."), "success")
    return redirect(url_for("seller.order", number=order.number), code=303)
