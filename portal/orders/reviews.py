"""Reviews: the buyer rates (1-5) and reviews a delivered order, the shop replies.

The rules, in one place (the pages ask them, the writes below check them again):

====================  =====================================================================
action                refused with
====================  =====================================================================
review (buyer)        ``review.not_buyer``, ``review.not_delivered``, ``review.already_written``
edit_review (buyer)   ``review.not_buyer``, ``review.none``, ``review.edit_closed``
reply_review (seller) ``review.not_shop``, ``review.none``, ``review.already_replied``
====================  =====================================================================

A review is written once per order (the database's unique index holds that even when
two posts race), after the order was delivered (a Returned order was delivered too),
and may be changed for :data:`EDIT_DAYS` days after it was first written. The shop
answers once, publicly. Each is on the order's timeline through ``lifecycle.record``,
so the outbox carries it.

A shop's average and its distribution are one ``GROUP BY`` over the ``(shop, rating)``
index (:func:`summary`): no counters to keep right, and cheap at any number of reviews.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from peewee import IntegrityError, fn

from portal.db import database, prepared
from portal.models import Order, Review, Shop, User, utcnow
from portal.orders import lifecycle
from portal.orders.actions import Verdict
from portal.orders.errors import OrderRefused
from portal.orders.lifecycle import Status

EDIT_DAYS = 30
MAX_TEXT = 2000
RATINGS = (5, 4, 3, 2, 1)  # the distribution's order: best first, as shops show it
# Statuses an order has been delivered in: a returned order arrived before it went back.
_DELIVERED = (Status.DELIVERED.value, Status.RETURNED.value)


class ReviewRefused(OrderRefused):
    """A review or reply that may not be written (or not any more); nothing was written."""


# -- the rules ----------------------------------------------------------------------

def _open(action: str) -> Verdict:
    return Verdict(action, True)


def _refuse(action: str, error: type[OrderRefused], code: str, message: str) -> Verdict:
    return Verdict(action, False, code, message, error=error)


def edit_deadline(review: Review) -> datetime:
    """Until when the buyer may still change ``review`` (naive UTC, inclusive)."""
    return review.created_at + timedelta(days=EDIT_DAYS)


def may_review(order: Order, buyer_id: int, review: Review | None) -> Verdict:
    """Write the first review of ``order``: its buyer, once it was delivered, once."""
    if buyer_id != order.buyer_id:
        return _refuse("review", ReviewRefused, "review.not_buyer",
                       "Only the buyer of an order can review it.")
    if review is not None:
        return _refuse("review", ReviewRefused, "review.already_written",
                       "You have already reviewed this order; you can change that review "
                       "instead.")
    if order.status not in _DELIVERED:
        return _refuse("review", ReviewRefused, "review.not_delivered",
                       f"Order {order.number} is {Status(order.status).label}: you can "
                       "review it once it has been delivered.")
    return _open("review")


def may_edit(order: Order, buyer_id: int, review: Review | None, now: datetime) -> Verdict:
    """Change the review: its buyer, for :data:`EDIT_DAYS` days after writing it."""
    if buyer_id != order.buyer_id:
        return _refuse("edit_review", ReviewRefused, "review.not_buyer",
                       "Only the buyer of an order can review it.")
    if review is None:
        return _refuse("edit_review", ReviewRefused, "review.none",
                       "There is no review of this order to change.")
    if now > edit_deadline(review):
        return _refuse("edit_review", ReviewRefused, "review.edit_closed",
                       f"A review can be changed for {EDIT_DAYS} days; this one could be "
                       f"changed until {edit_deadline(review):%b %d, %Y}.")
    return _open("edit_review")


def may_reply(review: Review | None, shop_id: int) -> Verdict:
    """Answer the review publicly: the order's shop, once."""
    if review is None:
        return _refuse("reply_review", ReviewRefused, "review.none",
                       "There is no review of this order to reply to.")
    if review.shop_id != shop_id:
        return _refuse("reply_review", ReviewRefused, "review.not_shop",
                       "Only the shop that sold the order can reply to its review.")
    if review.replied_at is not None:
        return _refuse("reply_review", ReviewRefused, "review.already_replied",
                       "The shop has already replied to this review; a reply is written "
                       "once.")
    return _open("reply_review")


@dataclass(frozen=True)
class BuyerReview:
    """What the buyer's order page shows and offers: the review (if any) and whether it
    may be written now (``write``: the first review or an edit, whichever applies)."""

    review: Review | None
    write: Verdict
    deadline: datetime | None = None  # the end of the edit window, once written


def may_have_review(order: Order) -> bool:
    """Whether ``order`` can have a review (was delivered): if not, no query asks."""
    return order.status in _DELIVERED


def for_buyer(order: Order, buyer_id: int, now: datetime) -> BuyerReview:
    """The buyer's review of ``order`` and what they may do with it (one query, none
    for an order that was never delivered: it cannot have one)."""
    review = of_order(order.id) if may_have_review(order) else None
    if review is None:
        return BuyerReview(None, may_review(order, buyer_id, None))
    return BuyerReview(review, may_edit(order, buyer_id, review, now), edit_deadline(review))


# -- the writes ---------------------------------------------------------------------

def _checked_words(rating, text: str | None) -> tuple[int, str]:
    text = (text or "").strip()
    if not isinstance(rating, int) or isinstance(rating, bool) or rating not in RATINGS:
        raise ReviewRefused("form.bad_rating", "Choose a rating from 1 to 5 stars.")
    if len(text) > MAX_TEXT:
        raise ReviewRefused("form.review_too_long",
                            f"A review can be {MAX_TEXT:,} characters at most.")
    return rating, text


def _stars(rating: int) -> str:
    return f"{rating} of 5 star{'s' if rating != 1 else ''}"


def write(order: Order, *, buyer: User, rating: int, text: str = "",
          now: datetime | None = None) -> Review:
    """Write the buyer's review of ``order``, or change it inside the edit window.

    Checked with the order locked, so two posts at once make one review; raises
    :class:`ReviewRefused` (nothing written) when the rules say no."""
    rating, text = _checked_words(rating, text)
    now = now or utcnow()
    try:
        with database.atomic():
            current = lifecycle.lock(order.id)
            review = of_order(order.id)
            if review is None:
                may_review(current, buyer.id, None).check()
                review = Review.create(order=order.id, shop=current.shop_id, buyer=buyer.id,
                                       rating=rating, text=text, created_at=now, updated_at=now)
                lifecycle.record(current, "reviewed", f"Reviewed the order: {_stars(rating)}",
                                 actor=buyer, actor_role="buyer", after=str(rating), at=now,
                                 review_id=review.id, rating=rating)
                return review
            may_edit(current, buyer.id, review, now).check()
            before = review.rating
            Review.update(rating=rating, text=text, updated_at=now).where(
                Review.id == review.id).execute()
            lifecycle.record(current, "review_edited",
                             f"Changed the review: {_stars(rating)}", actor=buyer,
                             actor_role="buyer", before=str(before), after=str(rating), at=now,
                             review_id=review.id, rating=rating)
    except IntegrityError:  # a second first review that raced this one
        raise ReviewRefused("review.already_written",
                            "You have already reviewed this order.") from None
    review.rating, review.text, review.updated_at = rating, text, now
    return review


def reply(review: Review, *, shop: Shop, seller: User, text: str,
          now: datetime | None = None) -> Review:
    """The shop's one public reply to ``review``: a conditional write, so a second
    reply (a resent form, another tab) is refused and the first one stays."""
    text = (text or "").strip()
    if not text:
        raise ReviewRefused("form.reply_empty", "Write the reply first.")
    if len(text) > MAX_TEXT:
        raise ReviewRefused("form.reply_too_long",
                            f"A reply can be {MAX_TEXT:,} characters at most.")
    may_reply(review, shop.id).check()
    now = now or utcnow()
    with database.atomic():
        written = (Review.update(reply=text, replied_at=now, replied_by=seller.id)
                   .where((Review.id == review.id) & Review.replied_at.is_null()).execute())
        if written != 1:
            raise ReviewRefused("review.already_replied",
                                "The shop has already replied to this review; a reply is "
                                "written once.")
        order = Order.get_by_id(review.order_id)
        lifecycle.record(order, "review_replied", "Replied to the review", actor=seller,
                         actor_role="seller", at=now, review_id=review.id)
    review.reply, review.replied_at, review.replied_by = text, now, seller.id
    return review


# -- the reads ----------------------------------------------------------------------

def of_order(order_id: int) -> Review | None:
    return next(iter(_of_order(order_id)), None)


@prepared
def _of_order(order_id):
    return Review.select().where(Review.order == order_id).limit(1)


@dataclass(frozen=True)
class Summary:
    """A shop's reviews in figures: how many, the average, and how many of each rating."""

    count: int
    stars: int  # the sum of the ratings: the average is stars / count
    distribution: dict[int, int] = field(default_factory=dict)  # 5..1 -> count

    @property
    def average(self) -> float | None:
        """The mean rating (None without reviews); shown to one decimal."""
        return round(self.stars / self.count, 1) if self.count else None

    def share(self, rating: int) -> int:
        """The percentage of reviews with ``rating`` (for the bars), rounded."""
        return round(100 * self.distribution.get(rating, 0) / self.count) if self.count else 0


def summary(shop_id: int) -> Summary:
    """The shop's count, average and distribution: one query, read from the index."""
    rows = (Review.select(Review.rating, fn.COUNT(Review.id).alias("n"))
            .where(Review.shop == shop_id).group_by(Review.rating).tuples())
    found = {rating: n for rating, n in rows}
    distribution = {rating: found.get(rating, 0) for rating in RATINGS}
    return Summary(sum(distribution.values()),
                   sum(rating * n for rating, n in distribution.items()), distribution)


@dataclass(frozen=True)
class Page:
    rows: list[Review]
    next_before: int | None  # the cursor of the next (older) page, if there is one


def _listed():
    # Each row carries its order's number and the buyer's name: one query per page.
    return (Review.select(Review, Order.number, User.name)
            .join(Order, on=(Review.order == Order.id))
            .switch(Review).join(User, on=(Review.buyer == User.id)))


def page(shop_id: int, *, before: int | None = None, limit: int = 20,
         unanswered: bool = False) -> Page:
    """A shop's reviews, newest first, ``limit`` at a time; ``before`` is the id the
    previous page ended at (a keyset: any page costs what the first costs)."""
    query = _listed().where(Review.shop == shop_id)
    if before is not None:
        query = query.where(Review.id < before)
    if unanswered:
        query = query.where(Review.replied_at.is_null())
    rows = list(query.order_by(Review.id.desc()).limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, rows[-1].id if more else None)


def listed(review_id: int) -> Review:
    """One review as the list shows it (its order's number, its buyer's name)."""
    return _listed().where(Review.id == review_id).get()


def latest(shop_id: int, limit: int = 5) -> list[Review]:
    """The shop's newest reviews for its public page (one query)."""
    return page(shop_id, limit=limit).rows
