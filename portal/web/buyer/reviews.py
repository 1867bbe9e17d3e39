"""``/orders/<number>/review``: the buyer writes (or, for 30 days, changes) the review of
a delivered order from its page. A plain form answered with a 303 back to the order;
with htmx the review block alone comes back, in place."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from portal.orders import reviews
from portal.web.buyer import after_purchase, bp
from portal.web.render import wants_fragment
from portal.web.reviewing import ReviewForm, buyer_review


def _block(order, status: int, form: ReviewForm | None = None, *, notice: str = "",
           error: bool = False):
    return render_template("reviews/_buyer_review.html", order=order, notice=notice,
                           notice_error=error, **buyer_review(order, form)), status


@bp.post("/orders/<number>/review")
@login_required
def review(number: str):
    order, form = after_purchase._order_or_404(number), ReviewForm()
    if not form.validate_on_submit():
        if wants_fragment():
            return _block(order, 422, form)
        return after_purchase.render_order(order, status=422, **buyer_review(order, form))
    try:
        written = reviews.write(order, buyer=current_user, rating=form.rating.data,
                                text=form.text.data)
    except reviews.ReviewRefused as exc:
        if wants_fragment():
            return _block(order, 422, notice=str(exc), error=True)
        flash(str(exc), "error")
        return after_purchase.render_order(order, status=422)
    message = ("Thank you: your review is on the shop's page."
               if written.created_at == written.updated_at else "Your review is changed.")
    if wants_fragment():
        return _block(order, 200, notice=message)
    flash(message, "success")
    return redirect(url_for("buyer.order_detail", number=order.number, _anchor="review"),
                    code=303)
