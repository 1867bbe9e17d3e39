"""The outbox: plugins hear of a change only after it is committed, at least once."""

import subprocess
import sys
from datetime import timedelta

import pytest
from playhouse.db_url import connect

from portal import hookimpl, outbox
from portal.db import database
from portal.models import Order, OrderEvent, OutboxDelivery, OutboxEvent, utcnow
from portal.hooks.order_events import PLUGINS
from portal.orders.lifecycle import Status, transition
from portal.testing import enable
from tests.factories import make_order


class OwnConnection:
    """A plugin that reads the order through a connection of its own, as an outside
    service (or another process) would."""

    def __init__(self, url):
        self.url, self.seen = url, []

    @hookimpl
    def order_status_changed(self, change):
        db = connect(self.url)
        try:
            status = db.execute_sql("SELECT status FROM orders WHERE number = " + db.param,
                                    [change.order_number]).fetchone()[0]
        finally:
            db.close()
        self.seen.append((change.after, status, change.event_id))


class Flaky:
    def __init__(self, failures: int):
        self.failures, self.calls = failures, []

    @hookimpl
    def order_status_changed(self, change):
        self.calls.append(change.event_id)
        if len(self.calls) <= self.failures:
            raise ConnectionError("the analytics service is down")


class Steady:
    def __init__(self):
        self.calls = []

    @hookimpl
    def order_status_changed(self, change):
        self.calls.append((change.order_number, change.before, change.after, change.event_id))


def test_a_plugin_with_its_own_connection_sees_the_committed_change(
        app, client, auth, buyer, shop, database_url, register_plugin):
    listener = register_plugin(OwnConnection(database_url), "own")
    enable(shop, "own")
    order = make_order(buyer, shop)
    auth.login()
    response = client.post(f"/orders/{order.number}/cancel",
                           data={"version": order.version, "reason": "too slow"})
    assert response.status_code == 303
    event = OutboxEvent.get(OutboxEvent.kind == "status_changed")
    assert listener.seen == [("cancelled", "cancelled", event.id)]
    assert event.delivered_at is not None and event.next_attempt_at is None


def test_a_change_that_rolls_back_is_never_announced(app, buyer, shop, register_plugin):
    listener = register_plugin(Steady(), "steady")
    enable(shop, "steady")
    order = make_order(buyer, shop)
    with pytest.raises(RuntimeError):
        with database.atomic():
            transition(order, Status.PROCESSED, actor_role="seller")
            raise RuntimeError("the rest of the change failed")
    assert Order.get_by_id(order.id).status == "pending"
    assert OutboxEvent.select().count() == 0
    outbox.deliver_due([PLUGINS])
    assert listener.calls == []


def test_an_event_is_written_with_its_timeline_entry_and_told_after_the_commit(
        app, buyer, shop, register_plugin):
    listener = register_plugin(Steady(), "steady")
    enable(shop, "steady")
    order = make_order(buyer, shop)
    with database.atomic():
        transition(order, Status.PROCESSED, actor_role="seller")
        assert listener.calls == []  # nobody is told inside the transaction
    event = OutboxEvent.get()
    assert OrderEvent.select().where(OrderEvent.kind == "status_changed").count() == 1
    assert outbox.deliver_due([PLUGINS]).delivered == 1
    assert listener.calls == [(order.number, "pending", "processed", event.id)]


def test_a_consumer_that_raises_is_retried_and_does_not_block_the_change(
        app, client, auth, buyer, shop, register_plugin):
    flaky, steady = register_plugin(Flaky(failures=2), "flaky"), register_plugin(Steady(), "steady")
    enable(shop, "flaky")
    enable(shop, "steady")
    order = make_order(buyer, shop)
    auth.login()
    response = client.post(f"/orders/{order.number}/cancel", data={"version": order.version})
    assert response.status_code == 303
    assert Order.get_by_id(order.id).status == "cancelled"  # the change stands
    # (the payment's release is an event of its own: the status change is the subject here)
    event = OutboxEvent.get(OutboxEvent.kind == "status_changed")
    assert event.attempts == 1 and event.delivered_at is None
    assert "the analytics service is down" in event.last_error
    assert event.next_attempt_at > utcnow()  # backed off
    # Not due yet: nobody is called.
    assert outbox.deliver_due([PLUGINS]).retrying == 0 and len(flaky.calls) == 1
    later = event.next_attempt_at + timedelta(seconds=1)
    assert outbox.deliver_due([PLUGINS], now=later).retrying == 1  # fails a second time
    event = OutboxEvent.get(OutboxEvent.kind == "status_changed")
    assert event.attempts == 2
    assert event.next_attempt_at - later == outbox.backoff(2)  # longer than the first
    assert outbox.deliver_due([PLUGINS], now=event.next_attempt_at).delivered == 1
    assert flaky.calls == [event.id] * 3
    assert len(steady.calls) == 1  # the plugin that took it is not told again
    assert OutboxDelivery.select().count() == 2
    assert outbox.deliver_due([PLUGINS], now=utcnow() + timedelta(days=1)).delivered == 0


def test_an_event_is_given_up_after_its_attempts_and_can_be_retried(
        app, buyer, shop, register_plugin, runner):
    flaky = register_plugin(Flaky(failures=outbox.MAX_ATTEMPTS), "flaky")
    enable(shop, "flaky")
    order = make_order(buyer, shop)
    transition(order, Status.PROCESSED)
    now = utcnow()
    for _ in range(outbox.MAX_ATTEMPTS):
        now = OutboxEvent.get().next_attempt_at or now
        report = outbox.deliver_due([PLUGINS], now=now)
    assert report.given_up == [OutboxEvent.get().id]
    assert OutboxEvent.get().next_attempt_at is None
    result = runner.invoke(args=["outbox"])
    assert "GIVEN UP" in result.output and "analytics service is down" in result.output
    result = runner.invoke(args=["outbox", "--retry", "--deliver"])
    assert "1 given-up event(s) are due again." in result.output
    assert "Delivered 1" in result.output and "Every event is delivered." in result.output
    assert len(flaky.calls) == outbox.MAX_ATTEMPTS + 1


def test_a_claimed_event_is_left_alone_by_a_second_worker(app, buyer, shop, register_plugin):
    steady = register_plugin(Steady(), "steady")
    enable(shop, "steady")
    transition(make_order(buyer, shop), Status.PROCESSED)
    event = OutboxEvent.get()
    assert outbox._claim(event, utcnow())  # worker one takes it ...
    assert not outbox._claim(event, utcnow())  # ... so worker two's claim on the same row loses
    assert outbox.deliver_due([PLUGINS]).delivered == 0 and steady.calls == []


def test_tracking_news_reaches_plugins_through_the_outbox(app, buyer, shop, register_plugin):
    from portal.shipping import tracking
    from portal.hooktypes import TrackingReport, TrackingStatus, TrackingUpdate
    from portal.testing import make_shipped_order

    class Tracked:
        def __init__(self):
            self.calls = []

        @hookimpl
        def order_tracking_updated(self, order_number, status, updates, event_id):
            self.calls.append((order_number, status, [u.description for u in updates], event_id))

    listener = register_plugin(Tracked(), "tracked")
    enable(shop, "tracked")
    shipment = make_shipped_order(shop, "manual", "MAN-0001", buyer=buyer)
    tracking.apply(shipment, TrackingReport("MAN-0001", (
        TrackingUpdate(utcnow(), TrackingStatus.IN_TRANSIT, "Left the depot", "Portland"),)))
    assert listener.calls == []  # told after the commit, by the dispatcher
    outbox.deliver_due([PLUGINS])
    event = OutboxEvent.get(OutboxEvent.kind == "tracking_updated")
    assert listener.calls == [(shipment.order.number, TrackingStatus.IN_TRANSIT,
                               ["Left the depot"], event.id)]


def test_the_order_domain_does_not_import_the_plugin_layer():
    code = ("import sys, portal.orders.lifecycle, portal.outbox; "
            "print(sorted(m for m in ('portal.hooks.pluginmanager', 'portal.hooks.order_events', "
            "'portal.hooks.shop_plugins') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


class Placed:
    """Hears of new orders; fails ``failures`` times first."""

    def __init__(self, failures: int = 0):
        self.failures, self.calls = failures, []

    @hookimpl
    def order_placed(self, order, event_id):
        self.calls.append((order, event_id))
        if len(self.calls) <= self.failures:
            raise ConnectionError("the analytics service is down")


def test_a_placed_order_reaches_the_shops_plugins_once_each_after_the_commit(
        app, buyer, shop, shop2, register_plugin):
    from portal import cart
    from portal.hooktypes import PlacedOrder
    from portal.orders.placing import PaymentChoice, place_order
    from tests.factories import make_variant
    flaky = register_plugin(Placed(failures=1), "flaky-placed")
    steady, elsewhere = register_plugin(Placed(), "placed"), register_plugin(Placed(), "other")
    enable(shop, "flaky-placed")
    enable(shop, "placed")
    enable(shop2, "other")  # another shop's plugin hears nothing of this shop's orders
    cart.add(buyer, make_variant(shop, "Linen shirt", price=3900, stock=5).id, 2)
    placed = place_order(buyer, shop.id, checkout_token="t-1", shipping_total=500,
                         payment=PaymentChoice("cod", "cod", 250, "Cash on delivery"),
                         address=dict(name="Ada Buyer", line1="1 Main St", city="Springfield",
                                      region="IL", postal_code="62701", country="US"))
    assert steady.calls == []  # written with the order, told after the commit
    event = OutboxEvent.get(OutboxEvent.kind == "placed")
    assert outbox.deliver_due([PLUGINS]).retrying == 1
    order = Order.get_by_id(placed.order.id)
    expected = PlacedOrder(
        number=order.number, shop_id=shop.id, currency="USD", total=8550, item_count=2,
        item_summary=order.item_summary, subtotal=7800, discount_total=0, shipping_total=500,
        fee_total=250, payment_method="Cash on delivery", placed_at=order.placed_at)
    assert steady.calls == [(expected, event.id)] and flaky.calls == [(expected, event.id)]
    assert outbox.deliver_due([PLUGINS], now=utcnow() + timedelta(hours=1)).delivered == 1
    assert flaky.calls == [(expected, event.id)] * 2  # retried, and only it
    assert len(steady.calls) == 1 and elsewhere.calls == []


def test_a_placed_event_without_its_figures_is_told_from_the_order(
        app, buyer, shop, register_plugin):
    """The demo's orders record "placed" without the figures checkout adds."""
    from portal.orders.lifecycle import record
    listener = register_plugin(Placed(), "placed")
    enable(shop, "placed")
    order = make_order(buyer, shop)
    record(order, "placed", "Order placed", actor=buyer, actor_role="buyer")
    outbox.deliver_due([PLUGINS])
    told, event_id = listener.calls[0]
    assert (told.number, told.total, told.currency, told.item_count, event_id) == \
        (order.number, order.total, order.currency, order.item_count,
         OutboxEvent.get(OutboxEvent.kind == "placed").id)
