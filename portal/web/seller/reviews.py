"""``/seller/reviews``: the shop's reviews (newest first, keyset pages) with the average
and the distribution, and the shop's one public reply to each, posted from that list or
from the order's page (``/seller/orders/<number>/reply``). A plain form answered with a
303; with htmx the row (or the order page's review block) comes back in place."""

from urllib.parse import parse_qsl, urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.orders import management, reviews
from portal.web.access import current_shop, seller_required
from portal.web.forms import parse_int
from portal.web.guards import safe_local_path
from portal.web.render import wants_fragment
from portal.web.reviewing import ReplyForm, seller_review
from portal.web.seller import bp

MAX_ID = 2**63 - 1


def _list_args(args) -> tuple[int | None, bool]:
    """The list's page (``before``: an id) and filter from a query string, checked."""
    raw = args.get("before")
    before = None
    if raw not in (None, ""):
        before = parse_int(raw, maximum=MAX_ID)
        if before is None:
            abort(400, description="That page link is not valid. Start again from the first page.")
    return before, args.get("unanswered") not in (None, "", "0")


def render_list(path: str, *, status: int = 200, forms: dict | None = None):
    """The list at ``path`` (its query string: the page and filter), with ``forms``
    (review id -> a posted reply form with its errors) in their rows."""
    shop = current_shop()
    before, unanswered = _list_args(dict(parse_qsl(urlsplit(path).query)))
    page = reviews.page(shop.id, before=before, unanswered=unanswered,
                        limit=current_app.config["PAGE_SIZE"])
    return render_template("reviews/reviews.html", shop=shop, summary=reviews.summary(shop.id),
                           page=page, before=before, unanswered=unanswered, forms=forms or {},
                           blank_form=ReplyForm(formdata=None), back=path,
                           notice=""), status


@bp.get("/reviews")
@seller_required
def reviews_page():
    return render_list(request.full_path)


def _fragment(order, review, status: int, form=None, *, notice: str = "", error: bool = False):
    """The part htmx asked to replace: the order page's review block or the list's row."""
    shop = current_shop()
    if (request.headers.get("HX-Target") or "") == "review":
        return render_template("reviews/_seller_review.html", order=order, shop=shop,
                               notice=notice, notice_error=error,
                               **seller_review(order, shop.id, form)), status
    return render_template("reviews/_review_row.html", r=reviews.listed(review.id), shop=shop,
                           forms={review.id: form} if form else {}, notice=notice,
                           notice_error=error, blank_form=ReplyForm(formdata=None),
                           back=_back(order)), status


def _back(order) -> str:
    return (safe_local_path(request.form.get("back"), "/seller/")
            or url_for("seller.order", number=order.number))


def _again(order, review, form, status: int, message: str = ""):
    """The page the reply came from, again: with the form's errors, or why not."""
    if wants_fragment():
        return _fragment(order, review, status, form if not message else None,
                         notice=message, error=True)
    if message:
        flash(message, "error")
    back = _back(order)
    if urlsplit(back).path == url_for("seller.reviews_page"):  # the list as it was shown
        return render_list(back, status=status, forms={review.id: form} if not message else {})
    from portal.web.seller.order import render_order  # the order page (and its forms)
    return render_order(order, status=status, **({"reply_form": form} if not message else {}))


@bp.post("/orders/<number>/reply")
@seller_required
def reply_review(number: str):
    shop = current_shop()
    order = management.order_for_seller(shop, number)
    review = reviews.of_order(order.id) if order is not None else None
    if review is None:
        abort(404)
    form = ReplyForm()
    if not form.validate_on_submit():
        return _again(order, review, form, 422)
    try:
        reviews.reply(review, shop=shop, seller=current_user, text=form.reply.data)
    except reviews.ReviewRefused as exc:
        return _again(order, review, form, 409 if exc.code == "review.already_replied" else 422,
                      str(exc))
    if wants_fragment():
        return _fragment(order, review, 200, notice="Your reply is posted.")
    flash("Your reply is posted; everyone sees it on your shop's page.", "success")
    return redirect(_back(order), code=303)
