"""Reviews on the pages: the buyer's review form and the shop's reply form, and what the
order pages' review blocks need. The rules are :mod:`portal.orders.reviews`'s."""

from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from portal.models import utcnow
from portal.orders import reviews
from portal.web.forms import options, strip

_TOO_LONG = f"{reviews.MAX_TEXT:,} characters at most."


class ReviewForm(FlaskForm):
    """The buyer's rating (required) and words (optional)."""

    rating = RadioField("Your rating", coerce=int,
                        choices=options((r, f"{r} star{'s' if r != 1 else ''}")
                                        for r in reviews.RATINGS),
                        validators=[InputRequired("Choose a rating from 1 to 5 stars.")])
    text = TextAreaField("Your review (optional)", filters=[strip],
                         validators=[Length(max=reviews.MAX_TEXT, message=_TOO_LONG)])


class ReplyForm(FlaskForm):
    """The shop's one public answer to a review."""

    reply = TextAreaField("Your public reply", filters=[strip],
                          validators=[DataRequired("Write the reply first."),
                                      Length(max=reviews.MAX_TEXT, message=_TOO_LONG)])


def buyer_review(order, form: ReviewForm | None = None) -> dict:
    """The buyer's order page's review block: the review (``my_review``, a
    :class:`portal.orders.reviews.BuyerReview`) and ``review_form`` when writing is open
    (blank or the review as it is; or ``form``, posted with its errors)."""
    mine = reviews.for_buyer(order, current_user.id, utcnow())
    if form is None and mine.write:
        form = ReviewForm(formdata=None, rating=mine.review.rating if mine.review else None,
                          text=mine.review.text if mine.review else "")
    return {"my_review": mine, "review_form": form if mine.write else None}


def seller_review(order, shop_id: int, form: ReplyForm | None = None) -> dict:
    """The seller's order page's review block: ``review`` and ``reply_form`` when a
    reply may be written."""
    review = reviews.of_order(order.id) if reviews.may_have_review(order) else None
    verdict = reviews.may_reply(review, shop_id)
    return {"review": review,
            "reply_form": (form or ReplyForm(formdata=None)) if verdict else None}
