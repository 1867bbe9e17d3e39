"""The demo seller's promotions: a time-limited 15% coupon for 3 uses, and a bundle offer
that applies by itself (buy 2 of the shop's first product, 10% off them)."""

from datetime import datetime, timedelta

from portal.coupons import records
from portal.models import Product, Shop

SUMMER = "SUMMER-15"


def make_coupons(shop_id: int, now: datetime) -> None:
    shop = Shop.get_by_id(shop_id)
    first = Product.select().where(Product.shop == shop_id).order_by(Product.id).first()
    records.save(shop, records.Draft(
        name="Summer sale: 15% off", plugin="coupons", kind="percentage", code=SUMMER,
        settings={"percent": 15}, starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=30), usage_limit=3, per_buyer_limit=None))
    if first is not None:
        records.save(shop, records.Draft(
            name=f"Two {first.name}s: 10% off", plugin="coupons", kind="bundle",
            code="BUNDLE-2", automatic=True, combines=True, per_buyer_limit=None,
            settings={"products": [first.id], "quantity": 2, "percent": 10}))
