"""Carrier pushes taken in first and applied after the answer: once even if sent twice at
the same time, applied in their order, nothing lost to a crash between intake and apply,
a poison report kept aside, a disabled plugin refusing at once, the apply coalesced."""

import json

import pytest

from portal import create_app
from portal.background import ApplyDue
from portal.db import database
from portal.hooks import shop_plugins
from portal.models import Order, Shipment, TrackingEvent, WebhookReceipt, utcnow
from portal.plugins.easypost import sign
from portal.shipping import carrier_webhooks, tracking, webhook_apply
from portal.testing import easypost_event, enable, make_shipped_order, signed_post
from tests.conftest import TEST_CONFIG
from tests.test_races import race

NUMBER = "9405511899223197428490"
OTHER = "9361289878700317633795"


@pytest.fixture
def parcel(shop):
    enable(shop, "usps")
    enable(shop, "easypost")
    return make_shipped_order(shop, "usps", NUMBER)


def take_in(app, shop, event) -> carrier_webhooks.Answer:
    """A push taken in with no request around it: nothing starts the apply, as when the
    web process dies right after the commit."""
    body = json.dumps(event).encode()
    secret = shop_plugins.for_shop(shop).secret("easypost")
    with app.app_context(), database.connection_context():
        answer = carrier_webhooks.receive("easypost", shop.slug,
                                          {"X-Hmac-Signature": sign(secret, body)}, body)
    carrier_webhooks.take_taken_in()
    return answer


def scans():
    return [e.description for e in TrackingEvent.select().order_by(TrackingEvent.id)]


def test_the_same_push_sent_twice_at_once_is_taken_in_once(app, shop, parcel):
    event = easypost_event(NUMBER, [("in_transit", "Arrived at USPS facility")], event_id="evt_X")
    clients = [app.test_client() for _ in range(2)]
    answers = race(2, lambda i: signed_post(clients[i], "easypost", shop, event))
    assert [a.status_code for a in answers] == [200, 200], answers
    assert sum("taken in before" in a.json["message"] for a in answers) == 1
    assert WebhookReceipt.select().count() == 1
    assert scans() == ["Arrived at USPS facility"]


def test_many_pushes_at_once_are_each_applied_once(app, shop, parcel):
    events = [easypost_event(NUMBER, [("in_transit", f"Scan {k}")], event_id=f"evt_{k}")
              for k in range(6)]
    clients = [app.test_client() for _ in range(12)]
    answers = race(12, lambda i: signed_post(clients[i], "easypost", shop, events[i // 2]))
    assert {a.status_code for a in answers} == {200}
    assert WebhookReceipt.select().where(WebhookReceipt.applied_at.is_null()).count() == 0
    assert sorted(scans()) == [f"Scan {k}" for k in range(6)]


def test_receipts_are_applied_in_the_order_they_were_taken_in(app, shop, parcel):
    now = utcnow()
    # Scans that happened in the reverse order of their pushes: stored in push order.
    for k in range(5):
        event = easypost_event(NUMBER, [("in_transit", f"Push {k}")], event_id=f"evt_{k}",
                               created_at=now)
        event["result"]["tracking_details"][0]["datetime"] = f"2030-01-0{9 - k}T10:00:00Z"
        assert take_in(app, shop, event).status == 200
    assert scans() == []  # taken in, not applied yet
    with app.app_context():
        applied = webhook_apply.apply_pending(batch=2)
    assert (applied.receipts, applied.scans, applied.failed) == (5, 5, 0)
    assert scans() == [f"Push {k}" for k in range(5)]
    # The parcel's status follows the latest scan by time, whatever the push order.
    assert Shipment.get_by_id(parcel.id).status == "in_transit"


def test_a_push_left_by_a_crash_before_the_apply_is_applied_by_the_sweep(app, runner, shop, parcel):
    take_in(app, shop, easypost_event(NUMBER, [("delivered", "Delivered")]))
    assert scans() == [] and Order.get_by_id(parcel.order_id).status == "shipped"
    assert "1 carrier push(es) waiting to be applied." in runner.invoke(args=["outbox"]).output
    with app.app_context():
        app.extensions["portal.tasks"]["sweep_webhooks"]()
    assert scans() == ["Delivered"]
    assert Order.get_by_id(parcel.order_id).status == "delivered"
    assert "waiting to be applied" not in runner.invoke(args=["outbox"]).output


def test_a_crash_during_the_apply_leaves_the_batch_to_apply_again(app, shop, parcel, monkeypatch):
    for k in range(3):
        take_in(app, shop, easypost_event(NUMBER, [("in_transit", f"Scan {k}")],
                                          event_id=f"evt_{k}"))
    real = webhook_apply._apply

    def dies_on_the_third(shop_id, report, calls=[]):
        calls.append(report)
        if len(calls) == 3:
            raise KeyboardInterrupt("the worker is stopped")  # not an error of the report
        return real(shop_id, report)

    monkeypatch.setattr(webhook_apply, "_apply", dies_on_the_third)
    with app.app_context(), pytest.raises(KeyboardInterrupt):
        webhook_apply.apply_pending()
    assert scans() == []  # the batch's transaction was rolled back whole
    monkeypatch.setattr(webhook_apply, "_apply", real)
    with app.app_context():
        assert webhook_apply.apply_pending().scans == 3
    assert scans() == ["Scan 0", "Scan 1", "Scan 2"]


def test_a_report_that_fails_is_kept_aside_and_the_others_go_in(app, client, runner, shop, parcel,
                                                                monkeypatch):
    make_shipped_order(shop, "usps", OTHER)
    real = tracking.record

    def poisoned(shipment, report):
        if report.tracking_number == OTHER:
            raise ValueError("this parcel's scan makes no sense")
        return real(shipment, report)

    monkeypatch.setattr(tracking, "record", poisoned)
    for k, number in enumerate([NUMBER, OTHER, NUMBER]):
        response = signed_post(client, "easypost", shop, easypost_event(
            number, [("in_transit", f"Scan {k}")], event_id=f"evt_{k}"))
        assert response.status_code == 200
    assert scans() == ["Scan 0", "Scan 2"]
    bad = WebhookReceipt.get(WebhookReceipt.error != "")
    assert bad.applied_at is not None and "makes no sense" in bad.error and OTHER in bad.error
    assert WebhookReceipt.select().where(WebhookReceipt.applied_at.is_null()).count() == 0
    output = runner.invoke(args=["outbox"]).output
    assert f"Carrier push #{bad.id} (easypost" in output and "NOT APPLIED" in output


def test_settling_the_order_is_asked_only_for_a_delivered_scan(app, client, shop, parcel,
                                                               monkeypatch):
    asked = []
    monkeypatch.setattr(tracking, "settle_order", lambda order_id: asked.append(order_id))
    signed_post(client, "easypost", shop, easypost_event(NUMBER, [("in_transit", "x")],
                                                         event_id="evt_1"))
    assert asked == []
    signed_post(client, "easypost", shop, easypost_event(NUMBER, [("delivered", "y")],
                                                         event_id="evt_2"))
    assert asked == [parcel.order_id]


def test_a_plugin_the_seller_disabled_refuses_the_next_push_at_once(client, shop, parcel):
    first = easypost_event(NUMBER, [("in_transit", "x")], event_id="evt_1")
    assert signed_post(client, "easypost", shop, first).status_code == 200
    shop_plugins.set_enabled(shop, "easypost", False)
    second = easypost_event(NUMBER, [("delivered", "y")], event_id="evt_2")
    assert signed_post(client, "easypost", shop, second).status_code == 404
    assert WebhookReceipt.select().count() == 1 and scans() == ["x"]
    shop_plugins.set_enabled(shop, "easypost", True)
    assert signed_post(client, "easypost", shop, second).status_code == 200


def test_the_first_push_of_a_window_enqueues_the_apply_and_the_rest_rely_on_it():
    due = ApplyDue(window=60)
    assert due.claim() is True
    assert due.claim() is False
    due.release()  # the enqueue failed: the next push tries again
    assert due.claim() is True
    assert ApplyDue(window=0).claim() and ApplyDue(window=0).claim()


def test_with_a_real_queue_pushes_share_one_apply_and_its_follow_up(database_url, shop, parcel):
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "HUEY_IMMEDIATE": False,
                      "HUEY_URL": "memory://"})
    huey = app.extensions["huey"]
    client = app.test_client()
    for k in range(3):
        response = signed_post(client, "easypost", shop, easypost_event(
            NUMBER, [("in_transit", f"Scan {k}")], event_id=f"evt_{k}"))
        assert response.status_code == 200
    assert scans() == []  # answered before anything was applied
    assert huey.pending_count() == 1  # one apply for the three pushes
    huey.execute(huey.dequeue())
    assert scans() == ["Scan 0", "Scan 1", "Scan 2"]
    # Its follow-up, half a second later, for pushes taken in while it ran; that one
    # schedules nothing more.
    follow_up = huey.dequeue()
    assert follow_up.eta > utcnow() and follow_up.args == (False,)
    huey.execute(follow_up)
    assert huey.pending_count() == 0
