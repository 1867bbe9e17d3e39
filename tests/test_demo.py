import re
from datetime import datetime, timedelta

import portal.demo
from portal.demo import seed
from portal.demo.orders import Clock
from portal.models import Order, OrderEvent, Shipment, Shop, TrackingEvent, User
from portal.orders.bulk import ORDER_TABLES
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
    # Their flat rate (checkout's fallback) is the seeded baskets' shipping and delivery time.
    assert {(s.flat_rate_amount, s.flat_rate_days - s.handling_days) for s in Shop.select()} \
        == {(499, 4)}


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
    from portal.shipping import tracking
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

    from portal.shipping import tracking
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
    # Orders a buyer's request holds (the seeded address change and cancellation) wait
    # for the seller's answer: the demo ships around them, never over them.
    from portal.models import OrderRequest
    waiting = list(OrderRequest.select().where(OrderRequest.kind.in_(["address_change",
                                                                      "cancellation"])))
    assert len(waiting) == 2 and all(r.status == "open" and r.order.status == "processed"
                                     for r in waiting)


def _rows() -> list:
    from portal.models import OutboxEvent, Variant
    return [list(model.select().order_by(model.id).tuples())
            for model in (Order, OrderEvent, Shipment, Variant, OutboxEvent)]


def test_the_demo_life_leaves_a_database_that_is_not_a_demo_alone(app, seller, shop, buyer,
                                                                   buyer2):
    from portal.demo import life
    from portal.models import Address, PluginConfig
    from tests.factories import make_order, make_variant
    later = datetime.now() + timedelta(days=30)
    assert life.keep_going(later) == []  # the same logins, but no demo shop
    variant = make_variant(shop, stock=20)
    for status in ("pending", "pending", "processed"):
        make_order(buyer, shop, status=status, placed_at=later - timedelta(days=5),
                   variants=[variant])
    Address.create(user=buyer, full_name="Bea Buyer", line1="1 Main Street", city="Portland",
                   region="OR", postal_code="97205", country="US", is_default=True)
    PluginConfig.create(shop=shop, plugin="demo", enabled=False)  # there, but off
    before = _rows()
    assert life.keep_going(later) == []
    assert _rows() == before
    with app.app_context():  # and a database without the demo people at all
        empty_tables()
    assert life.keep_going(later) == [] and _rows() == [[]] * 5


def test_the_demo_life_costs_the_same_few_queries_however_many_orders_there_are(
        app, count_queries):
    import random

    from portal.demo import life
    from tests.factories import make_order
    start = datetime(2026, 3, 2, 9, 0)

    def one_run(extra_orders: int):
        with app.app_context():
            empty_tables()
            seed(60, now=start)
        bea = User.get(User.email == "buyer@example.com")
        others = list(User.select().where(User.email.startswith("buyer")
                                          & ~User.email.in_(["buyer@example.com",
                                                             "buyer2@example.com"])))
        shop = Shop.select().join(User, on=Shop.owner).where(
            User.email == "seller@example.com").get()
        for k in range(extra_orders):  # the demo buyer's history, and other buyers' orders
            make_order(bea if k % 3 == 0 else others[k % len(others)], shop,
                       status="delivered" if k % 3 == 0 else ["pending", "processed"][k % 2],
                       placed_at=start - timedelta(days=10, minutes=k))
        count_queries.statements.clear()
        steps = life.keep_going(start + timedelta(days=2), rng=random.Random(3))
        return [step for step, _, _ in steps], len(count_queries)

    few_steps, few_queries = one_run(0)
    many_steps, many_queries = one_run(150)
    assert {"processed", "shipped", "placed"} <= set(few_steps) and many_steps == few_steps
    # The bound: a run's steps, each through the domain, and a Demo Wallet order paid
    # through the wallet's page as its buyer would (two more plugin calls).
    assert many_queries == few_queries < 120
    # And with nothing to do, a run is three small queries.
    count_queries.statements.clear()
    while life.keep_going(start + timedelta(days=2), rng=random.Random(3)):
        count_queries.statements.clear()
    assert len(count_queries) == 3


def test_a_demo_order_is_placed_from_the_catalogue_with_its_stock(app, shop, buyer):
    import random

    from portal.demo.life import place_demo_order
    from portal.hooks.shop_plugins import new_secret
    from portal.models import Address, CartLine, OrderLine, OutboxEvent, PluginConfig, Variant
    from tests.factories import make_variant
    now = datetime(2026, 3, 2, 9, 0)
    # The wallet on, as at the demo shops: the demo buyer pays with it too.
    PluginConfig.create(shop=shop, plugin="wallet", enabled=True, settings="{}",
                        webhook_secret=new_secret())
    assert place_demo_order(buyer, shop, now) is None  # no address, no catalogue: no order
    Address.create(user=buyer, full_name="Bea Buyer", line1="1 Main Street", city="Portland",
                   region="OR", postal_code="97205", country="US", is_default=True)
    gone = make_variant(shop, "Wool beanie", stock=0)
    scarce = make_variant(shop, "Desk lamp", stock=5)  # "Only 5 left": the demo keeps it so
    assert place_demo_order(buyer, shop, now) is None  # nothing in stock but what is scarce
    variants = [make_variant(shop, name, price=price, stock=20)
                for name, price in [("Linen shirt", 3900), ("Everyday tee", 1800),
                                    ("Canvas tote", 2200), ("Running socks", 1200)]]
    stock = {v.id: v.stock for v in variants}
    for seed_value in range(5):
        order = place_demo_order(buyer, shop, now, random.Random(seed_value))
        lines = list(OrderLine.select().where(OrderLine.order == order.id))
        assert order.status == "pending" and order.placed_at == now and order.currency == "USD"
        assert 1 <= len(lines) <= 3
        assert not {gone.id, scarce.id} & {line.variant_id for line in lines}
        for line in lines:
            v = Variant.get_by_id(line.variant_id)
            assert (line.product_name, line.sku, line.unit_price) == \
                (v.product.name, v.sku, v.price)
            assert line.line_total == line.unit_price * line.quantity
            stock[v.id] -= line.quantity
            assert v.stock == stock[v.id] >= 0  # taken from stock, never below nothing
        assert order.subtotal == sum(line.line_total for line in lines)
        assert order.total == order.subtotal + order.shipping_total + order.fee_total
        assert order.item_count == sum(line.quantity for line in lines)
        assert order.ship_line1 == "1 Main Street" and order.payment_status == "authorised"
        placed = OrderEvent.get((OrderEvent.order == order.id) & (OrderEvent.kind == "placed"))
        assert (placed.actor_id, placed.created_at) == (buyer.id, now)
        assert OutboxEvent.select().where((OutboxEvent.order == order.id)
                                          & (OutboxEvent.kind == "placed")).exists()
    assert sum(stock.values()) < 80 - 5  # sold: at least one item per order
    assert Variant.get_by_id(scarce.id).stock == 5 and CartLine.select().count() == 0


def test_the_worker_runs_the_demo_life_every_ten_minutes(app):
    from portal.db import database
    huey, life_task = app.extensions["huey"], app.extensions["portal.tasks"]["demo_life"]

    def due(minute):
        return "demo_life" in {task.name for task in huey.read_periodic(
            datetime(2026, 3, 2, 9, minute))}
    assert due(0) and due(40) and not due(45)
    with app.app_context():
        seed(60)
    database.close()  # the task opens its own connection, as in the worker
    life_task()  # at once in tests (Huey's immediate mode), now as the worker runs it
    assert OrderEvent.select().where(OrderEvent.kind == "checklist").exists()  # it processed


def test_a_running_demo_s_new_orders_have_their_payment_on_the_record(app):
    """Orders the demo shop takes while it runs are authorised on the ledger like the
    seeder's, through plugins that exist (the wallet too)."""
    from portal.demo.orders import PAYMENTS
    from portal.hooks import pluginmanager
    from portal.models import PaymentTransaction, utcnow
    assert all(payment.plugin in pluginmanager.plugin_names() for payment in PAYMENTS)
    from portal.demo.life import place_demo_order
    import random
    with app.app_context():  # the seeder's demo shops turn plugins on through the app
        seed(60, with_requests=False)
    buyer = User.get(User.email == "buyer@example.com")
    shop = Shop.get(Shop.owner == User.get(User.email == "seller@example.com").id)
    order = place_demo_order(buyer, shop, utcnow(), random.Random(7))
    rows = list(PaymentTransaction.select().where(PaymentTransaction.order == order.id))
    assert [(r.kind, r.amount, r.state) for r in rows] == [("authorise", order.total, "succeeded")]


def test_every_seeded_order_s_payment_status_is_what_its_ledger_says(app):
    from portal.orders import ledger
    with app.app_context():
        seed(150, with_requests=False)
    kinds = set()
    for order in Order.select():
        rows = ledger.rows_of(order.id)
        assert rows[0].kind == "authorise" and {r.amount for r in rows} == {order.total}
        assert ledger.totals(rows).status == order.payment_status, order.status
        kinds.add((order.status, order.payment_method, tuple(r.kind for r in rows)))
    assert ("shipped", "Cash on delivery", ("authorise",)) in kinds  # cash: on delivery
    assert ("returned", "Visa •••• 4242", ("authorise", "capture", "refund")) in kinds


def test_the_running_demo_leaves_the_scarce_variants_scarce(app):
    import random

    from portal.demo import life
    from portal.models import Variant
    start = datetime(2026, 3, 2, 9, 0)
    with app.app_context():
        seed(60, now=start)
    scarce = {v.id: v.stock for v in Variant.select().where(Variant.stock <= 5)}
    assert 0 in scarce.values() and set(scarce.values()) - {0}
    rng = random.Random(5)
    for hour in range(0, 48, 2):
        life.keep_going(start + timedelta(hours=hour), rng=rng)
    assert {v.id: v.stock for v in Variant.select().where(Variant.id.in_(list(scarce)))} == scarce
    assert not Variant.select().where((Variant.stock > 5) & (Variant.stock < 10)).exists()


def test_the_demo_captures_each_method_when_its_plugin_says(app):
    """The demo's ledger rows say when each method's money is taken as the plugin's
    PaymentOption does (cash on delivery: when Delivered), and carry each plugin's own
    references, so its orders behave as checkout's would."""
    from portal.demo.orders import PAYMENTS
    from portal.hooks import pluginmanager
    from portal.models import PaymentTransaction
    for payment in PAYMENTS:
        options = pluginmanager.call(payment.plugin, "payment_methods", shop_id=1,
                                     currency="USD", amount=1000, settings={}).value
        assert payment.capture == next(o.capture for o in options
                                       if o.method_code == payment.method_code)
    with app.app_context():
        seed(60, with_requests=False)
    rows = PaymentTransaction.select().where(PaymentTransaction.kind == "authorise")
    assert {(r.method_code, r.capture) for r in rows} == {("card", "on_shipping"),
                                                           ("wallet", "on_shipping"),
                                                           ("cod", "on_delivery")}
    starts = {"card": "tg_", "wallet": "wal_", "cod": "cod_"}
    for row in PaymentTransaction.select():
        kind = "auth" if row.kind == "authorise" else row.kind
        assert row.reference.startswith(f"{starts[row.plugin]}{kind}_"), row.reference


def test_a_running_demo_pays_with_every_demo_method(app):
    """While the demo runs, an order paid with each demo method is authorised by its plugin
    (the wallet's approved on its page, as a buyer would), and its "placed" outbox event
    carries the figures the order_placed hook tells plugins."""
    import json
    import random

    from portal.demo.life import place_demo_order
    from portal.demo.orders import PAYMENTS
    from portal.models import OutboxEvent, PaymentTransaction, utcnow
    with app.app_context():
        seed(60, with_requests=False)
    buyer = User.get(User.email == "buyer@example.com")
    shop = Shop.get(Shop.owner == User.get(User.email == "seller@example.com").id)
    paid = {}
    for k in range(60):
        order = place_demo_order(buyer, shop, utcnow(), random.Random(k))
        if order is not None:
            paid.setdefault(order.payment_method, order)
        if len(paid) == len({p.display for p in PAYMENTS}):
            break
    assert set(paid) == {p.display for p in PAYMENTS}
    for order in paid.values():
        rows = list(PaymentTransaction.select().where(PaymentTransaction.order == order.id))
        assert [(r.kind, r.amount, r.state) for r in rows] == \
            [("authorise", order.total, "succeeded")], order.payment_method
        assert order.payment_status == "authorised"
        event = OutboxEvent.get((OutboxEvent.order == order.id) & (OutboxEvent.kind == "placed"))
        details = json.loads(event.payload)
        assert (details["total"], details["item_count"], details["payment_method"]) == \
            (order.total, order.item_count, order.payment_method)
