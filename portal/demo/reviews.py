"""The demo's reviews: a few delivered orders of each demo shop reviewed, some with the
shop's reply, so /seller/reviews and the shop pages have figures from the start. The
demo buyer keeps delivered orders of their own to review. Same data on every run."""

from datetime import datetime, timedelta

from portal.models import Order, Shop, User
from portal.orders import reviews
from portal.orders.lifecycle import Status

PER_SHOP = 5  # reviews by other buyers, per demo shop
# (rating, words, the shop's reply or None), used in turn.
PLAN = (
    (5, "Exactly as pictured and it arrived early. The fabric is lovely.",
     "Thank you! We're glad it arrived in time."),
    (4, "Good quality. Runs a little large, so consider a size down.", None),
    (5, "", None),
    (2, "The parcel took over a week and the box was crushed.",
     "We're sorry about the box: we've changed how we pack. Message us if anything was "
     "damaged and we'll make it right."),
    (3, "Nice colour, but the stitching on one sleeve is loose.", None),
)


def make_reviews(seller_ids: list[int], demo_buyer_id: int, now: datetime) -> None:
    """Review the first delivered orders of each demo seller's shop (by other buyers),
    and one of the demo buyer's when they have more than one there."""
    for shop in Shop.select().where(Shop.owner.in_(seller_ids)).order_by(Shop.id):
        delivered = list(Order.select()
                         .where((Order.shop == shop.id) & (Order.status == Status.DELIVERED))
                         .order_by(Order.id).limit(40))
        others = [o for o in delivered if o.buyer_id != demo_buyer_id][:PER_SHOP]
        own = [o for o in delivered if o.buyer_id == demo_buyer_id]
        chosen = others + (own[:1] if len(own) > 1 else [])
        seller = User.get_by_id(shop.owner_id)
        for k, order in enumerate(chosen):
            rating, text, reply = PLAN[k % len(PLAN)]
            # A day after it arrived (the order's last change), never in the future.
            written = min(now - timedelta(hours=k + 1), order.updated_at + timedelta(days=1))
            review = reviews.write(order, buyer=User.get_by_id(order.buyer_id), rating=rating,
                                   text=text, now=written)
            if reply:
                reviews.reply(review, shop=shop, seller=seller, text=reply,
                              now=min(now, written + timedelta(hours=5)))
