import re
from datetime import datetime, timedelta

import portal.demo
from portal.demo import seed
from portal.demo.orders import ORDER_TABLES, Clock
from portal.models import Order, OrderEvent, Shipment, Shop, TrackingEvent, User
from portal.orders.lifecycle import Status
from tests.conftest import empty_tables


def test_seed_demo_creates_every_status_for_both_demo_buyers(app, runner):
    result = runner.invoke(args=["seed-demo", "--orders", "120"])
    assert result.exit_code == 0, result.output
    assert "Created 120 orders" in result.output
    logins = runner.invoke(args=["demo-logins"]).output
    assert "buyer@example.com" in logins and "buyer-demo" in logins
    assert "buyer2@example.com" in logins
    assert "seller@example.com" in logins and "seller-demo" in logins
    assert "seller2@example.com" in logins
    assert Order.select().count() == 120
    for email in ("buyer@example.com", "buyer2@example.com"):
        statuses = {o.status for o in Order.select().join(User, on=Order.buyer)
                    .where(User.email == email)}
        assert statuses == {s.value for s in Status}, email
    # Both demo sellers' shops have orders from the demo buyers.
    for seller in ("seller@example.com", "seller2@example.com"):
        shop_orders = (Order.select().join(Shop).join(User, on=Shop.owner)
                       .where(User.email == seller))
        assert shop_orders.where(Order.buyer.in_(
            User.select(User.id).where(User.email.startswith("buyer")))).exists(), seller
    # Every order has its timeline, and everything that left the shop a parcel.
    assert OrderEvent.select(OrderEvent.order).distinct().count() == 120
    shipped = Order.select().where(Order.status.in_(["shipped", "delivered", "returned"]))
    assert Shipment.select().where(Shipment.order.in_(shipped)).count() == shipped.count()


def test_demo_logins_work_and_buyers_stay_apart(app, runner, client, auth):
    runner.invoke(args=["seed-demo", "--orders", "60"])
    app.config.update(ARGON2_TIME_COST=3, ARGON2_MEMORY_COST=65536)  # the real parameters
    assert auth.login("buyer@example.com", "buyer-demo").status_code == 303
    html = client.get("/orders").get_data(as_text=True)
    mine = re.findall(r'/orders/([0-9A-Z]{5}-[0-9A-Z]{5})', html)
    assert mine and client.get(f"/orders/{mine[0]}").status_code == 200
    auth.logout()
    assert auth.login("buyer2@example.com", "buyer-demo").status_code == 303
    assert client.get(f"/orders/{mine[0]}").status_code == 404
    auth.logout()
    for seller in ("seller@example.com", "seller2@example.com"):
        assert auth.login(seller, "seller-demo").status_code == 303
        auth.logout()
    # The generated people can log in too (the login form refuses .test addresses).
    assert auth.login("buyer3@example.com", "buyer-demo").status_code == 303
    assert client.get("/orders").status_code == 200


def test_seed_demo_refuses_to_seed_twice_unless_reset(app, runner):
    assert runner.invoke(args=["seed-demo", "--orders", "10"]).exit_code == 0
    again = runner.invoke(args=["seed-demo", "--orders", "10"])
    assert again.exit_code != 0 and "Demo data is already there" in again.output
    reset = runner.invoke(args=["seed-demo", "--orders", "15", "--reset"])
    assert reset.exit_code == 0, reset.output
    assert Order.select().count() == 15


def test_init_db_is_safe_to_run_again(app, runner):
    assert runner.invoke(args=["init-db"]).exit_code == 0
    assert runner.invoke(args=["init-db"]).exit_code == 0


def test_orders_made_in_a_background_process_are_the_ones_made_inline(app, monkeypatch):
    monkeypatch.setattr(portal.demo, "CHUNK", 7)  # several chunks through the queue
    now = datetime(2026, 3, 1, 12, 30)

    def order_rows():
        return [list(model.select().order_by(model.id).tuples()) for model in ORDER_TABLES]

    with app.app_context():  # demo passwords are hashed with the app's settings
        seed(40, now=now, in_background=True, with_requests=False)
        made_in_background = order_rows()
        empty_tables()
        seed(40, now=now, in_background=False, with_requests=False)
    assert order_rows() == made_in_background
    assert len(made_in_background[0]) == 40


def test_demo_clock_writes_times_as_sqlite_stores_them_and_never_in_the_future():
    now = datetime(2026, 3, 1, 12, 30, 15, 250000)
    clock = Clock(now)
    hour, rest = clock.before(2.5)
    assert clock.hours[hour] + rest == str(now - timedelta(days=2.5))
    assert clock.text(hour + 5, rest) == str(now - timedelta(days=2.5) + timedelta(hours=5))
    assert clock.text(hour + 60, rest) == clock.now_text == str(now)
    assert clock.passed(hour + 59, rest) and not clock.passed(hour + 61, rest)


def test_demo_orders_are_as_far_fulfilled_as_their_status_says(app, runner):
    from portal.models import OrderLine, PluginConfig, ShipmentLine
    assert runner.invoke(args=["seed-demo", "--orders", "150"]).exit_code == 0
    for order in Order.select():
        lines = list(OrderLine.select().where(OrderLine.order == order.id))
        ticked = order.status in ("processed", "shipped", "delivered", "returned")
        shipped = order.status in ("shipped", "delivered", "returned")
        assert order.address_verified is ticked and all(l.picked is ticked for l in lines)
        assert order.shipped_count == (order.item_count if shipped else 0)
        assert all(l.shipped_quantity == (l.quantity if shipped else 0) for l in lines)
        packed = {(c.order_line_id, c.quantity) for c in ShipmentLine.select().join(Shipment)
                  .where(Shipment.order == order.id)}
        assert packed == ({(l.id, l.quantity) for l in lines} if shipped else set())
    # Every demo shop ships with the demo carrier, so `make run` shows live tracking.
    assert PluginConfig.select().where(PluginConfig.plugin == "demo").count() == Shop.select().count()


def test_demo_seller_has_buyer_requests_waiting(app, runner):
    from portal.models import OrderRequest
    assert runner.invoke(args=["seed-demo", "--orders", "60"]).exit_code == 0
    shop = Shop.select().join(User, on=Shop.owner).where(User.email == "seller@example.com").get()
    kinds = sorted(r.kind for r in OrderRequest.select().where(OrderRequest.shop == shop.id))
    assert kinds == ["address_change", "cancellation", "return"]


def _buyer_statuses(email="buyer@example.com") -> dict[str, int]:
    counts: dict[str, int] = {}
    for order in Order.select(Order.status).join(User, on=Order.buyer).where(User.email == email):
        counts[order.status] = counts.get(order.status, 0) + 1
    return counts


def _run_worker(start: datetime, minutes: int, every: int = 1) -> None:
    """What `make run`'s worker does for ``minutes``: poll the carriers every ``every`` minutes."""
    from portal import tracking
    for k in range(0, minutes + 1, every):
        tracking.poll_shipments(now=start + timedelta(minutes=k))


def test_a_running_demo_keeps_parcels_on_their_way_and_a_few_fast_ones_arrive(app):
    from portal.plugins import demo
    start = datetime(2026, 3, 2, 9, 0)
    with app.app_context():
        seed(300, now=start)
    on_the_way = {s.id: s.tracking_number for s in Shipment.select().where(Shipment.status != "delivered")}
    fast = {sid for sid, number in on_the_way.items() if demo.is_fast(number)}
    assert fast and len(fast) < len(on_the_way) / 3  # a few fast ones, most take days

    _run_worker(start, minutes=15)
    arrived = {s.id for s in Shipment.select().where(Shipment.status == "delivered")} & set(on_the_way)
    assert fast <= arrived  # the fast ones are there within minutes
    assert _buyer_statuses().get("shipped", 0) >= 2  # the demo buyer still waits for parcels
    statuses_half_an_hour_in = _buyer_statuses()
    assert set(statuses_half_an_hour_in) == {s.value for s in Status}

    _run_worker(start + timedelta(minutes=15), minutes=24 * 60, every=30)  # a day later
    assert _buyer_statuses().get("shipped", 0) >= 1
    # Slow parcels took steps during the day, hours apart, and some are still on their way.
    moved = {e.shipment_id for e in TrackingEvent.select().where(
        TrackingEvent.occurred_at > start + timedelta(hours=1))}
    assert moved - fast
    assert Shipment.select().where(Shipment.id.in_(list(on_the_way))
                                   & (Shipment.status != "delivered")).exists()


def test_mixed_journeys_take_days_for_most_parcels_and_minutes_for_a_few():
    from portal.plugins import demo
    mixed = {"journeys": "mixed", "minutes_per_step": 1}
    numbers = [f"DP{k:010d}" for k in range(400)]
    fast = [n for n in numbers if demo.is_fast(n)]
    assert 20 <= len(fast) <= 80  # about one in eight
    for number in numbers[:50]:
        total = sum(demo.waits(number, mixed), timedelta())
        if demo.is_fast(number):
            assert total <= timedelta(minutes=10)
        else:
            assert timedelta(days=1) <= total <= timedelta(days=6), number
        # The "minutes" pace (a new shop's default) is what it always was.
        assert set(demo.waits(number, {"minutes_per_step": 2})) == {timedelta(minutes=2)}


# -- the demo shop keeps living (portal/demo/life.py) ---------------------------------

def _open_at_demo_shop() -> dict[str, set[str]]:
    """Per demo buyer, the open statuses of their orders at the demo seller's shop."""
    shop = Shop.select().join(User, on=Shop.owner).where(User.email == "seller@example.com").get()
    found: dict[str, set[str]] = {}
    for email, status in (Order.select(User.email, Order.status).join(User, on=Order.buyer)
                          .where((Order.shop == shop.id)
                                 & Order.status.in_(["pending", "processed", "shipped"]))
                          .distinct().tuples()):
        found.setdefault(email, set()).add(status)
    return found


def test_a_week_of_the_running_demo_shows_every_status_every_hour(app):
    import random

    from portal import tracking
    from portal.demo import life
    from portal.models import utcnow
    from portal.plugins import demo
    # Start at the real now: the domain stamps shipping with the real clock, and the
    # simulated one only runs ahead of it.
    start = utcnow().replace(second=0, microsecond=0)
    with app.app_context():
        seed(60, now=start)
    rng, seeded = random.Random(7), Order.select().count()
    every_status, open_ = {s.value for s in Status}, {"pending", "processed", "shipped"}
    steps = []
    # The worker runs these every minute and every 10 minutes; once an hour is enough
    # here (the demo's pace goes by the clock, not by the number of runs) and fast.
    for hour in range(1, 7 * 24 + 1):
        now = start + timedelta(hours=hour)
        tracking.poll_shipments(now=now)
        steps += [(step, number, now) for step, number, _ in life.keep_going(now, rng=rng)]
        if hour > 1:
            assert set(_buyer_statuses()) == every_status, now
            at_shop = _open_at_demo_shop()
            assert at_shop["buyer@example.com"] == at_shop["buyer2@example.com"] == open_, now

    made = {number for step, number, _ in steps if step == "placed"}
    assert 7 <= len(made) <= 60  # a few new orders a day, not one per run
    assert Order.select().count() == seeded + len(made)
    # New orders went all the way, shipped by the demo seller with the demo carrier.
    seller = User.get(User.email == "seller@example.com")
    new = list(Order.select().where(Order.number.in_(list(made))))
    assert {o.status for o in new} >= {"pending", "processed", "shipped", "delivered"}
    parcels = list(Shipment.select().join(Order).where(Order.number.in_(list(made))))
    assert parcels and all(p.carrier_code == "demo" and re.fullmatch(r"DP\d{10}", p.tracking_number)
                           for p in parcels)
    shipped_by = {e.actor_id for e in OrderEvent.select().join(Order).where(
        Order.number.in_(list(made)) & (OrderEvent.after == "shipped"))}
    assert shipped_by == {seller.id}
    # Most new parcels take days; a few are fast.
    fast = [p for p in parcels if demo.is_fast(p.tracking_number)]
    assert len(fast) < len(parcels) / 2
    shipped_at = {number: now for step, number, now in steps if step == "shipped"}
    took = {p.tracking_number: p.delivered_at - shipped_at[p.order.number]
            for p in parcels if p.delivered_at}
    assert took and all(t > timedelta(days=1) for n, t in took.items() if not demo.is_fast(n))
    # (a fast one takes a step each poll: minutes with the worker, hours at this test's pace)
    assert all(t <= timedelta(hours=8) for n, t in took.items() if demo.is_fast(n))
