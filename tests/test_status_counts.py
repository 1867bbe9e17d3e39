"""Order Management's tab counts come from ``shop_status_count``, which triggers on
``orders`` keep equal to counting the orders, whatever writes them."""

from peewee import fn

from portal.db import database
from portal.models import Order, ShopStatusCount, utcnow
from portal.orders import management
from portal.orders.lifecycle import Status
from tests.factories import make_order


def stored() -> dict:
    return {(shop, status): n for shop, status, n in ShopStatusCount.select(
        ShopStatusCount.shop, ShopStatusCount.status, ShopStatusCount.n).tuples() if n}


def counted() -> dict:
    return {(shop, status): n for shop, status, n in Order.select(
        Order.shop, Order.status, fn.COUNT(Order.id)).group_by(Order.shop, Order.status).tuples()}


def test_counts_follow_inserts_status_changes_moves_and_deletes(app, buyer, shop, shop2):
    with app.app_context(), database.connection_context():
        orders = [make_order(buyer, shop, status=s) for s in
                  ("pending", "pending", "processed", "shipped", "delivered", "cancelled")]
        make_order(buyer, shop2, status="pending")
        assert stored() == counted()
        assert stored()[(shop.id, "pending")] == 2

        Order.update(status="processed").where(Order.id == orders[0].id).execute()
        Order.update(status="pending").where(Order.id == orders[0].id).execute()  # and back
        Order.update(status="cancelled").where(Order.status == "pending").execute()  # many
        Order.update(status="cancelled").where(Order.id == orders[5].id).execute()  # same status
        Order.update(shop=shop2).where(Order.id == orders[3].id).execute()  # another shop
        assert stored() == counted()
        assert stored()[(shop.id, "cancelled")] == 3 and (shop.id, "pending") not in stored()

        Order.delete().where(Order.id.in_([orders[1].id, orders[4].id])).execute()
        assert stored() == counted()

        with database.atomic() as txn:  # a rolled-back write leaves the counts as they were
            make_order(buyer, shop, status="returned")
            txn.rollback()
        assert stored() == counted()


def test_the_tabs_read_the_counts(app, buyer, shop):
    with app.app_context(), database.connection_context():
        for status in ("pending", "pending", "shipped", "returned"):
            make_order(buyer, shop, status=status)
        counts = management.status_counts(shop, utcnow())
        assert counts["all"] == 4
        assert {s.value: counts[s.value] for s in Status} == {
            "pending": 2, "processed": 0, "shipped": 1, "delivered": 0, "cancelled": 0,
            "returned": 1}
        # The counts table is what is read: a wrong row shows (nothing else writes it).
        ShopStatusCount.update(n=7).where((ShopStatusCount.shop == shop.id)
                                          & (ShopStatusCount.status == "pending")).execute()
        assert management.status_counts(shop, utcnow())["pending"] == 7
