"""/seller/coupons: create (a kind's own settings form, times in the shop's zone, a code that
reads like another refused), edit, pause, resume, end; the list's uses, revenue and discount
given in one query; the order page's one-off coupon that the buyer sees and uses."""

import re
from datetime import datetime

from portal import cart
from portal.coupons import records
from portal.models import Coupon, CouponUse, Order, OrderEvent
from tests.factories import make_order, make_user, make_variant


def login_seller(auth):
    auth.login("seller@example.com")


def test_a_seller_creates_a_time_limited_15_percent_coupon_for_3_uses(client, auth, shop):
    login_seller(auth)
    page = client.get("/seller/coupons").get_data(as_text=True)
    assert "Percentage off" in page and "Bundle offer" in page
    response = client.post("/seller/coupons/new?kind=coupons:percentage", data={
        "name": "Summer sale", "code": "summer 15", "kind-percent": "15",
        "starts_at": "2025-06-01T00:00", "ends_at": "2025-07-01T00:00", "min_spend": "20.00",
        "usage_limit": "3", "per_buyer_limit": "1"})
    assert response.status_code == 303, response.get_data(as_text=True)
    c = Coupon.get()
    assert (c.code, c.code_key, c.kind, c.usage_limit, c.min_spend) == \
        ("SUMMER-15", "SUMMER15", "percentage", 3, 2000)
    assert c.starts_at == datetime(2025, 6, 1) and records.settings_of(c)["percent"] == 15
    response = client.post("/seller/coupons/new?kind=coupons:fixed", data={
        "name": "Lookalike", "code": "SUMMERI5", "kind-amount": "5.00"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "reads the same" in page


def test_a_kinds_settings_are_checked_beside_their_fields(client, auth, shop):
    login_seller(auth)
    response = client.post("/seller/coupons/new?kind=coupons:bundle", data={
        "name": "Two shirts", "kind-quantity": "1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Choose the products of the bundle." in page
    assert client.get("/seller/coupons/new?kind=nope:nothing").status_code == 404


def test_edit_pause_resume_and_end(client, auth, shop):
    login_seller(auth)
    c = records.save(shop, records.Draft(name="Ten", plugin="coupons", kind="percentage",
                                         code="TENOFF", settings={"percent": 10}))
    page = client.get(f"/seller/coupons/{c.id}").get_data(as_text=True)
    assert 'value="TENOFF"' in page
    response = client.post(f"/seller/coupons/{c.id}", data={
        "name": "Twelve", "code": "TENOFF", "kind-percent": "12"})
    assert response.status_code == 303
    assert records.settings_of(Coupon.get_by_id(c.id))["percent"] == 12
    for status in ("paused", "active", "ended"):
        assert client.post(f"/seller/coupons/{c.id}/status", data={"status": status}).status_code == 303
        assert Coupon.get_by_id(c.id).status == status
    client.post(f"/seller/coupons/{c.id}/status", data={"status": "active"})
    assert Coupon.get_by_id(c.id).status == "ended"  # an ended coupon stays ended


def test_another_shops_coupon_is_a_404(client, auth, shop, shop2):
    login_seller(auth)
    theirs = records.save(shop2, records.Draft(name="Theirs", plugin="coupons",
                                               kind="free_shipping"))
    assert client.get(f"/seller/coupons/{theirs.id}").status_code == 404
    assert client.post(f"/seller/coupons/{theirs.id}/status",
                       data={"status": "ended"}).status_code == 404


def test_the_list_shows_uses_revenue_and_discount_in_one_query(client, auth, shop, buyer,
                                                               count_queries):
    login_seller(auth)
    counts = []
    for n in (1, 6):
        for k in range(n):
            c = records.save(shop, records.Draft(name=f"C{k}", plugin="coupons",
                                                 kind="percentage", settings={"percent": 5}))
            order = make_order(buyer, shop)
            CouponUse.create(coupon=c.id, order=order.id, buyer=buyer.id,
                             email_key=buyer.email, amount=195)
        count_queries.statements.clear()
        page = client.get("/seller/coupons").get_data(as_text=True)
        counts.append(len(count_queries))
    assert counts[0] == counts[1], counts
    assert "$1.95" in page and "$39.00" in page


def test_a_delayed_orders_buyer_gets_a_one_off_coupon_and_uses_it(client, auth, shop, buyer,
                                                                  buyer2):
    late = make_order(buyer, shop, status="processed")
    login_seller(auth)
    page = client.get(f"/seller/orders/{late.number}").get_data(as_text=True)
    assert "Offer the buyer a coupon" in page
    response = client.post(f"/seller/orders/{late.number}/coupon",
                           data={"kind": "percentage", "value": "10"})
    assert response.status_code == 303
    c = Coupon.get()
    assert (c.buyer_id, c.offered_for_id, c.usage_limit) == (buyer.id, late.id, 1)
    assert OrderEvent.get(OrderEvent.kind == "coupon_offered").message.endswith(
        "10% off your next order")
    auth.logout()
    auth.login()
    page = client.get(f"/orders/{late.number}").get_data(as_text=True)
    assert c.code in page and "A coupon for your next order" in page
    shirt = make_variant(shop, price=3900)
    cart.add(buyer, shirt.id, 1)
    from portal.coupons import discounts
    mine = next(v for v in cart.carts_of(buyer.id))
    assert discounts.evaluate(shop, buyer, mine, shipping=0, codes=[c.code]).discount == 390
    cart.add(buyer2, shirt.id, 1)
    theirs = next(v for v in cart.carts_of(buyer2.id))
    refused = discounts.evaluate(shop, buyer2, theirs, shipping=0, codes=[c.code]).refused
    assert refused[c.code].code == "coupon.not_for_you"


def test_another_shops_order_gets_no_coupon(client, auth, shop, shop2, buyer):
    theirs = make_order(buyer, shop2)
    login_seller(auth)
    response = client.post(f"/seller/orders/{theirs.number}/coupon",
                           data={"kind": "percentage", "value": "10"})
    assert response.status_code == 404 and Coupon.select().count() == 0


def test_the_demo_seller_has_a_15_percent_coupon_for_3_uses_and_a_bundle_offer(app):
    from portal.demo import seed
    from portal.demo.coupons import SUMMER
    from portal.models import Shop, User, utcnow
    with app.app_context():
        seed(20, with_requests=False, in_background=False)
    shop = Shop.get(Shop.owner == User.get(User.email == "seller@example.com").id)
    summer = records.find(shop.id, SUMMER)
    assert (summer.usage_limit, records.settings_of(summer)["percent"]) == (3, 15)
    assert summer.starts_at < utcnow() < summer.ends_at
    bundle = Coupon.get((Coupon.shop == shop.id) & (Coupon.kind == "bundle"))
    assert bundle.automatic
