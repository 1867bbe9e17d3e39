"""Late orders: what the buyer sees, telling both sides once, the seller's word and remedy."""

import re
from datetime import timedelta

import pytest

from portal import outbox
from portal.models import (Coupon, Notification, Order, OrderEvent, OrderMessage,
                           PaymentTransaction, Shop, utcnow)
from portal.orders import delays
from portal.orders.errors import DelayRefused
from portal.testing import enable
from tests.factories import PASSWORD, make_order
from tests.test_checkout import filled, shirt  # noqa: F401 (fixtures)

HX = {"HX-Request": "true"}


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def _fresh(order) -> Order:
    return Order.get_by_id(order.id)


def _late_to_ship(buyer, shop, **kwargs) -> Order:
    """Processed, placed three days ago: past the shop's two handling days."""
    return make_order(buyer, shop, status="processed",
                      placed_at=utcnow() - timedelta(days=3), **kwargs)


def _late_in_transit(buyer, shop) -> Order:
    """Shipped, its estimated delivery (placed + 5 days) two days ago."""
    return make_order(buyer, shop, status="shipped", placed_at=utcnow() - timedelta(days=7))


def _notices(user) -> list[tuple[str, str]]:
    return [(n.kind, n.text) for n in Notification.select().where(Notification.user == user.id)
            .order_by(Notification.id)]


def _run_task(app):
    """The periodic task as the worker runs it (Huey immediate mode: here, now), which also
    delivers the outbox it wrote to."""
    app.extensions["portal.tasks"]["notice_delays"]()


def _login_seller(auth):
    auth.login("seller@example.com")


# --- how late, for the buyer ---------------------------------------------------------------

def test_lateness_by_handling_time_in_the_shops_time_zone(buyer, shop):
    Shop.update(timezone="Pacific/Auckland").where(Shop.id == shop.id).execute()
    shop = Shop.get_by_id(shop.id)
    order = _late_to_ship(buyer, shop)
    late = delays.lateness(order, shop, utcnow())
    local_placed = order.placed_at + timedelta(hours=12)  # NZ is 12-13 hours ahead of UTC
    assert late.kind == delays.HANDLING and not late.in_transit
    assert late.expected in {(local_placed + timedelta(days=2, hours=h)).date() for h in (0, 1)}
    assert late.words.startswith("Running late: the shop expected to ship by ")
    fresh = make_order(buyer, shop, status="processed")
    assert delays.lateness(fresh, shop, utcnow()) is None  # within its handling time


def test_lateness_in_transit_is_the_estimated_delivery(buyer, shop):
    order = _late_in_transit(buyer, shop)
    late = delays.lateness(order, shop, utcnow())
    assert late.in_transit and late.expected == order.estimated_delivery
    assert late.words == f"Running late: expected by {delays.day_words(order.estimated_delivery)}"


def test_the_buyer_sees_running_late_on_the_list_and_the_order(client, auth, buyer, shop):
    to_ship, in_transit = _late_to_ship(buyer, shop), _late_in_transit(buyer, shop)
    on_time = make_order(buyer, shop, status="processed")
    Order.update(delay_note="A supplier let us down; it leaves on Monday.").where(
        Order.id == to_ship.id).execute()
    auth.login()
    for headers in ({}, HX):
        page = _text(client.get("/orders", headers=headers).get_data(as_text=True))
        assert page.count("Running late:") == 2, headers
        assert "the shop expected to ship by" in page and "expected by" in page
        assert "A supplier let us down; it leaves on Monday." in page
    detail = _text(client.get(f"/orders/{to_ship.number}").get_data(as_text=True))
    assert "Running late: the shop expected to ship by" in detail
    assert "Northwind Threads says: “A supplier let us down; it leaves on Monday.”" in detail
    detail = _text(client.get(f"/orders/{in_transit.number}").get_data(as_text=True))
    assert "Running late: expected by" in detail
    assert "Running late" not in client.get(f"/orders/{on_time.number}").get_data(as_text=True)


def test_the_buyer_list_costs_the_same_queries_with_more_late_rows(app, client, auth, buyer,
                                                                   shop, count_queries):
    from tests.test_query_counts import page_queries
    app.config["PAGE_SIZE"] = 50
    auth.login()
    _late_to_ship(buyer, shop)
    one = page_queries(client, count_queries, "/orders")
    for _ in range(5):
        _late_to_ship(buyer, shop)
        _late_in_transit(buyer, shop)
    assert page_queries(client, count_queries, "/orders") == one
    assert page_queries(client, count_queries, "/orders", headers=HX) <= one


# --- telling both sides, once ----------------------------------------------------------

def test_the_task_tells_buyer_and_seller_once_per_kind_of_lateness(app, buyer, shop, seller):
    order = _late_to_ship(buyer, shop)
    _run_task(app)
    _run_task(app)  # the second run tells no one again
    assert _notices(buyer) == [("delayed", f"Your order {order.number} is running late: the "
                                f"shop expected to ship it by "
                                f"{delays.day_words(delays.ship_by(order, shop))}.")]
    assert [k for k, _ in _notices(seller)] == ["order_delayed"]
    assert f"Order {order.number} is delayed: not shipped within your handling time" \
        in _notices(seller)[0][1]
    assert _fresh(order).delay_noticed == "handling"
    assert OrderEvent.select().where(OrderEvent.kind == "delayed").count() == 1
    assert _fresh(order).version == order.version  # no edit: the seller's forms stay valid

    # Shipped, then late again in transit: a second notice, once.
    Order.update(status="shipped", estimated_delivery=(utcnow() - timedelta(days=1)).date()) \
        .where(Order.id == order.id).execute()
    _run_task(app)
    _run_task(app)
    assert [k for k, _ in _notices(buyer)] == ["delayed", "delayed"]
    assert "it was expected by" in _notices(buyer)[-1][1]
    assert [k for k, _ in _notices(seller)] == ["order_delayed", "order_delayed"]
    assert _fresh(order).delay_noticed == "transit"


def test_the_task_leaves_on_time_and_long_ago_late_orders_alone(app, buyer, shop, seller):
    make_order(buyer, shop, status="processed")  # on time
    make_order(buyer, shop, status="processed",  # late for weeks: history, not news
               placed_at=utcnow() - timedelta(days=30))
    make_order(buyer, shop, status="delivered", placed_at=utcnow() - timedelta(days=8))
    assert delays.notice_delays() == 0
    _run_task(app)
    assert _notices(buyer) == [] and _notices(seller) == []


def test_the_task_works_in_bounded_batches(app, buyer, shop):
    orders = [_late_to_ship(buyer, shop) for _ in range(5)]
    assert delays.notice_delays(batch=2, most=3) == 3  # this run's share
    assert delays.notice_delays(batch=2) == 2  # the next run goes on
    assert delays.notice_delays(batch=2) == 0
    assert {_fresh(o).delay_noticed for o in orders} == {"handling"}
    assert OutboxEvent_count("delayed") == 5


def OutboxEvent_count(kind: str) -> int:
    from portal.models import OutboxEvent
    return OutboxEvent.select().where(OutboxEvent.kind == kind).count()


def test_mark_told_tells_no_one(app, buyer, shop, seller):
    _late_to_ship(buyer, shop)
    _late_in_transit(buyer, shop)
    assert delays.mark_told(utcnow()) == 2
    _run_task(app)
    assert _notices(buyer) == [] and _notices(seller) == []


# --- the seller's word and remedy --------------------------------------------------------

def _explain(client, order, **data):
    form = {"words": "Our supplier was late; it ships tomorrow.", "remedy": "none",
            "version": _fresh(order).version, **data}
    return client.post(f"/seller/orders/{order.number}/delay", data=form)


def test_the_form_is_on_a_delayed_orders_page_only(client, auth, buyer, shop):
    late, on_time = _late_to_ship(buyer, shop), make_order(buyer, shop, status="processed")
    _login_seller(auth)
    assert "Tell the buyer about the delay" in client.get(
        f"/seller/orders/{late.number}").get_data(as_text=True)
    assert "Tell the buyer about the delay" not in client.get(
        f"/seller/orders/{on_time.number}").get_data(as_text=True)


def test_a_message_alone_reaches_the_buyer(app, client, auth, buyer, shop):
    order = _late_to_ship(buyer, shop)
    _login_seller(auth)
    response = _explain(client, order)
    assert response.status_code == 303
    assert OrderMessage.get().body == "Our supplier was late; it ships tomorrow."
    assert _fresh(order).delay_note == "Our supplier was late; it ships tomorrow."
    assert _notices(buyer) == [("delay_explained", f"Order {order.number} is running late. "
                                "Northwind Threads says: “Our supplier was late; it ships "
                                "tomorrow.”")]
    assert OrderEvent.get(OrderEvent.kind == "delay_explained").message == \
        "Northwind Threads wrote to the buyer about the delay"
    auth.logout()
    auth.login()
    page = _text(client.get(f"/orders/{order.number}").get_data(as_text=True))
    assert "Northwind Threads says: “Our supplier was late; it ships tomorrow.”" in page


def test_the_coupon_remedy_uses_the_one_offer_path(client, auth, buyer, shop):
    order = _late_to_ship(buyer, shop)
    _login_seller(auth)
    response = _explain(client, order, remedy="coupon", coupon_kind="percentage",
                        coupon_value="15")
    assert response.status_code == 303
    coupon = Coupon.get()
    assert (coupon.buyer_id, coupon.offered_for_id, coupon.usage_limit) == (buyer.id, order.id, 1)
    kinds = [e.kind for e in OrderEvent.select().where(OrderEvent.order == order.id)]
    assert "coupon_offered" in kinds and "delay_explained" in kinds
    (text,) = [t for k, t in _notices(buyer) if k == "delay_explained"]
    assert f"A coupon for your next order: {coupon.code} (15% off your next order)." in text


def test_a_bad_coupon_writes_nothing(client, auth, buyer, shop):
    order = _late_to_ship(buyer, shop)
    _login_seller(auth)
    for value in ("", "150"):
        response = _explain(client, order, remedy="coupon", coupon_kind="percentage",
                            coupon_value=value)
        assert response.status_code == 422
    assert Coupon.select().count() == 0 and OrderMessage.select().count() == 0
    assert "A percentage from 1 to 100." in response.get_data(as_text=True)


def _money_of(order):
    fresh = _fresh(order)
    return (fresh.subtotal, fresh.shipping_total, fresh.discount_total, fresh.total,
            [(r.kind, r.amount, r.state) for r in PaymentTransaction.select()
             .where(PaymentTransaction.order == order.id).order_by(PaymentTransaction.id)])


def test_the_flat_upgrade_changes_the_service_not_the_money(client, auth, buyer, shop):
    order = _late_to_ship(buyer, shop, shipping=500)
    Order.update(shipping_service="flat:standard", shipping_name="Standard shipping").where(
        Order.id == order.id).execute()
    before = _money_of(order)
    _login_seller(auth)
    assert _explain(client, order, remedy="expedite").status_code == 303
    fresh = _fresh(order)
    assert (fresh.shipping_service, fresh.shipping_name) == ("flat:expedited",
                                                              "Expedited shipping")
    assert fresh.estimated_delivery == utcnow().date() + timedelta(days=2)
    assert _money_of(order) == before  # totals and the ledger: the difference is the shop's
    event = OrderEvent.get(OrderEvent.kind == "delay_explained")
    assert "Shipping upgraded free of charge to Expedited shipping (was Standard shipping)" \
        in event.message
    (text,) = [t for k, t in _notices(buyer) if k == "delay_explained"]
    assert "What you paid is unchanged." in text


def test_the_carrier_upgrade_picks_the_fastest_and_the_label_preselects_it(client, auth, buyer,
                                                                          shop):
    enable(shop, "demo")
    order = _late_to_ship(buyer, shop)
    Order.update(shipping_service="demo:ground", shipping_name="Demo Ground").where(
        Order.id == order.id).execute()
    before = _money_of(order)
    _login_seller(auth)
    assert _explain(client, order, remedy="expedite").status_code == 303
    fresh = _fresh(order)
    assert (fresh.shipping_service, fresh.shipping_name) == ("demo:express", "Demo Express")
    assert _money_of(order) == before
    label = client.get(f"/seller/orders/{order.number}/label", headers=HX).get_data(as_text=True)
    assert re.search(r'value="demo:express"[^>]*checked|checked[^>]*value="demo:express"', label)
    # Already the fastest: refused with the reason, nothing written.
    response = _explain(client, order, remedy="expedite")
    assert response.status_code == 422
    assert "fastest service" in response.get_data(as_text=True)


def test_refused_when_not_delayed_shipped_stale_or_not_the_shops(client, auth, buyer, shop,
                                                                 shop2):
    on_time = make_order(buyer, shop, status="processed")
    in_transit = _late_in_transit(buyer, shop)
    others = _late_to_ship(buyer, shop2)
    _login_seller(auth)
    response = _explain(client, on_time)
    assert response.status_code == 422 and "is not late" in response.get_data(as_text=True)
    response = _explain(client, in_transit, remedy="expedite")
    assert response.status_code == 422
    assert "can no longer be upgraded" in response.get_data(as_text=True)
    assert _explain(client, others).status_code == 404  # another shop's order
    late = _late_to_ship(buyer, shop)
    response = _explain(client, late, version=_fresh(late).version - 1)
    assert response.status_code == 409
    assert OrderMessage.select().count() == 0 and _fresh(late).delay_note == ""
    assert _explain(client, late, words="   ").status_code == 422
    auth.logout()
    auth.login()  # the buyer is no seller
    assert _explain(client, late).status_code in (302, 403, 404)
    assert OrderMessage.select().count() == 0


def test_the_domain_refuses_an_order_that_is_not_late(buyer, shop, seller):
    order = make_order(buyer, shop, status="processed")
    with pytest.raises(DelayRefused) as refused:
        delays.explain(order, shop, version=order.version, actor=seller, words="Sorry")
    assert refused.value.code == "delay.not_delayed"


def test_the_form_needs_its_csrf_token(csrf_app, buyer, shop):
    from tests.test_auth import csrf_token
    order = _late_to_ship(buyer, shop)
    client = csrf_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"email": "seller@example.com", "password": PASSWORD,
                                "csrf_token": csrf_token(page)})
    url = f"/seller/orders/{order.number}/delay"
    data = {"words": "Sorry", "remedy": "none", "version": order.version}
    assert client.post(url, data=data).status_code == 400
    assert OrderMessage.select().count() == 0
    token = csrf_token(client.get(f"/seller/orders/{order.number}").get_data(as_text=True))
    assert client.post(url, data={**data, "csrf_token": token}).status_code == 303
    assert OrderMessage.get().body == "Sorry"


def test_placing_keeps_the_chosen_shipping_service(buyer, shop):
    from portal.orders.bulk import PastOrder, place_past
    from portal.orders.placing import Line
    order = place_past([PastOrder(
        buyer, shop, [Line(None, "Shirt", "", "M", "White", 1000, 1, 1000)],
        dict(name="B", line1="1 Main St", city="Portland", region="OR", postal_code="97205",
             country="US"), utcnow(), shipping_service=("ups:ground", "UPS Ground"))])[0]
    assert (order.shipping_service, order.shipping_name) == ("ups:ground", "UPS Ground")


def test_events_are_kinds_of_notifications():
    from portal.notifications.events import EVENT_KINDS, KINDS
    assert {"delayed", "order_delayed", "delay_explained"} <= set(KINDS)
    assert {"delayed", "delay_explained"} <= EVENT_KINDS
    assert outbox  # the module the events go through


def test_the_tasks_batches_read_the_partial_indexes(app, buyer, shop, count_queries):
    from portal.db import database, is_postgres
    if is_postgres():
        pytest.skip("the plan checked is SQLite's (PostgreSQL's depends on its statistics)")
    _late_to_ship(buyer, shop)
    count_queries.statements.clear()
    delays.notice_delays()
    batches = [(sql, params) for sql, params in count_queries.statements
               if sql.startswith("SELECT") and "ORDER BY" in sql and "LIMIT" in sql]
    plans = [" ".join(str(row[-1]) for row in
                      database.execute_sql("EXPLAIN QUERY PLAN " + sql, params))
             for sql, params in batches]
    assert any("USING INDEX orders_late_to_ship" in p for p in plans), plans
    assert any("USING INDEX orders_late_in_transit" in p for p in plans), plans


def test_checkout_keeps_the_chosen_service_on_the_order(client, filled, buyer):
    from tests.test_checkout import place_form, to_review, url
    assert client.post(url(filled, "place"),
                       data=place_form(to_review(client, filled))).status_code == 303
    order = Order.get()
    assert (order.shipping_service, order.shipping_name) == ("flat:standard",
                                                              "Standard shipping")
    assert "(Standard shipping)" in client.get(f"/orders/{order.number}").get_data(as_text=True)


def test_the_demo_seller_has_a_delayed_order_to_explain(app):
    from portal.demo import seed
    from portal.orders import actions, management
    from portal.models import User
    with app.app_context():
        seed(60)
    shop = Shop.get(Shop.owner == User.get(User.email == "seller@example.com").id)
    now = utcnow()
    late = management.delayed_orders(shop, now)
    assert late and actions.explain_delay(late[0], shop, now)
    assert delays.notice_delays() == 0  # the seeded history's lateness is old news


def test_the_delay_kinds_are_on_the_right_sides_preferences():
    from portal.notifications.events import kinds_for
    assert "order_delayed" in kinds_for(True) and "order_delayed" not in kinds_for(False)
    assert {"delayed", "delay_explained"} <= set(kinds_for(False))
    assert not {"delayed", "delay_explained"} & set(kinds_for(True))
