"""POST /webhooks/carriers/<code>: signed, fresh, once; refused pushes store nothing."""

import json
from datetime import timedelta

import pytest

from portal.models import Order, OrderEvent, Shipment, TrackingEvent, WebhookReceipt, utcnow
from portal.testing import easypost_event, enable, make_shipped_order, signed_post

NUMBER = "9405511899223197428490"


@pytest.fixture
def parcel(shop):
    enable(shop, "usps")
    enable(shop, "easypost")
    return make_shipped_order(shop, "usps", NUMBER)


def stored():
    return TrackingEvent.select().count(), WebhookReceipt.select().count()


def test_a_signed_push_becomes_tracking_events(client, shop, parcel):
    event = easypost_event(NUMBER, [("pre_transit", "Shipping label created"),
                                    ("in_transit", "Arrived at USPS facility")],
                           est_delivery_date="2030-01-05T00:00:00Z")
    response = signed_post(client, "easypost", shop, event)
    assert response.status_code == 200, response.json
    assert response.json["new_events"] == 2
    shipment = Shipment.get_by_id(parcel.id)
    assert shipment.status == "in_transit"
    assert str(shipment.estimated_delivery) == "2030-01-05"
    assert str(Order.get_by_id(parcel.order_id).estimated_delivery) == "2030-01-05"
    places = {e.location for e in TrackingEvent.select()}
    assert places == {"Portland, OR, US"}


def test_a_replayed_event_is_stored_once(client, shop, parcel):
    event = easypost_event(NUMBER, [("in_transit", "Arrived at USPS facility")], event_id="evt_A")
    assert signed_post(client, "easypost", shop, event).json["new_events"] == 1
    again = signed_post(client, "easypost", shop, event)
    assert again.status_code == 200 and "taken in before" in again.json["message"]
    assert stored() == (1, 1)
    # A new event repeating the old scans adds only what is new.
    later = easypost_event(NUMBER, [("in_transit", "Arrived at USPS facility"),
                                    ("out_for_delivery", "Out for delivery")], event_id="evt_B")
    later["result"]["tracking_details"][0] = event["result"]["tracking_details"][0]
    # new_events counts the scans the push carried; the stored ones are skipped at apply.
    assert signed_post(client, "easypost", shop, later).json["new_events"] == 2
    assert stored() == (2, 2)


@pytest.mark.parametrize("tamper,status,words", [
    (lambda body, headers: (body, {"X-Hmac-Signature": "hmac-sha256-hex=" + "0" * 64}), 401, "does not match"),
    (lambda body, headers: (body, {}), 401, "does not match"),
    (lambda body, headers: (body + b" ", headers), 401, "does not match"),
])
def test_a_bad_signature_is_refused_and_nothing_stored(client, shop, parcel, tamper, status, words):
    from portal.plugins.easypost import sign
    from portal.hooks.shop_plugins import for_shop
    body = json.dumps(easypost_event(NUMBER, [("delivered", "Delivered")])).encode()
    headers = {"X-Hmac-Signature": sign(for_shop(shop).secret("easypost"), body)}
    body, headers = tamper(body, headers)
    response = client.post(f"/webhooks/carriers/easypost?shop={shop.slug}", data=body,
                           headers=headers, content_type="application/json")
    assert response.status_code == status and words in response.json["message"]
    assert stored() == (0, 0)
    assert Order.get_by_id(parcel.order_id).status == "shipped"


def test_a_push_signed_with_another_secret_is_refused(client, shop, parcel):
    response = signed_post(client, "easypost", shop, easypost_event(NUMBER, [("delivered", "x")]),
                           secret="whsec_someone-else")
    assert response.status_code == 401
    assert stored() == (0, 0)


@pytest.mark.parametrize("age", [timedelta(minutes=11), timedelta(hours=-1)])
def test_a_stale_or_future_push_is_refused(client, shop, parcel, age):
    event = easypost_event(NUMBER, [("in_transit", "x")], created_at=utcnow() - age)
    response = signed_post(client, "easypost", shop, event)
    assert response.status_code == 400 and "replay" in response.json["message"]
    assert stored() == (0, 0)


def test_the_window_is_a_setting_of_the_shop(client, shop, parcel):
    enable(shop, "easypost", tolerance_minutes=60)
    event = easypost_event(NUMBER, [("in_transit", "x")], created_at=utcnow() - timedelta(minutes=30))
    assert signed_post(client, "easypost", shop, event).status_code == 200


@pytest.mark.parametrize("body", [
    b"not json", b"[]", b'{"id": "evt_1"}',
    json.dumps({"id": "evt_1", "description": "tracker.updated", "created_at": "yesterday"}).encode(),
])
def test_a_malformed_body_is_refused(client, shop, parcel, body):
    response = signed_post(client, "easypost", shop, body)
    assert response.status_code == 400
    assert stored() == (0, 0)


def test_a_malformed_tracker_is_refused(client, shop, parcel):
    event = easypost_event(NUMBER, [("in_transit", "x")])
    event["result"]["tracking_details"][0]["datetime"] = "soon"
    assert signed_post(client, "easypost", shop, event).status_code == 400
    assert stored() == (0, 0)


def test_unknown_shop_or_disabled_plugin_is_404(client, shop, parcel, seller):
    event = easypost_event(NUMBER, [("in_transit", "x")])
    response = client.post("/webhooks/carriers/easypost?shop=nope", json=event)
    assert response.status_code == 404
    assert signed_post(client, "ups", shop, event).status_code == 404  # ups takes no pushes
    from portal.hooks import shop_plugins
    shop_plugins.set_enabled(shop, "easypost", False)
    assert signed_post(client, "easypost", shop, event).status_code == 404
    assert stored() == (0, 0)


def test_other_event_kinds_are_acknowledged_and_ignored(client, shop, parcel):
    event = easypost_event(NUMBER, [("in_transit", "x")])
    event["description"] = "batch.updated"
    response = signed_post(client, "easypost", shop, event)
    assert response.status_code == 200 and response.json["new_events"] == 0
    assert TrackingEvent.select().count() == 0


def test_a_parcel_of_another_shop_is_not_touched(client, shop, parcel, app):
    from tests.factories import make_shop, make_user
    other = make_shop(make_user("s2@example.com", role="seller"), "Other Shop")
    enable(other, "easypost")
    response = signed_post(client, "easypost", other, easypost_event(NUMBER, [("delivered", "x")]))
    assert response.status_code == 200
    assert TrackingEvent.select().count() == 0
    assert WebhookReceipt.get().applied_at is not None  # applied: nothing of that shop's


def test_delivered_moves_the_shipped_order_to_delivered(client, shop, parcel):
    event = easypost_event(NUMBER, [("out_for_delivery", "Out for delivery"),
                                    ("delivered", "Delivered, in mailbox")])
    assert signed_post(client, "easypost", shop, event).status_code == 200
    order = Order.get_by_id(parcel.order_id)
    assert order.status == "delivered"
    last = OrderEvent.select().where(OrderEvent.order == order.id).order_by(OrderEvent.id.desc()).first()
    assert last.actor_role == "system" and last.after == "delivered"
    assert Shipment.get_by_id(parcel.id).delivered_at is not None


def test_an_order_with_a_parcel_still_on_its_way_stays_shipped(client, shop, parcel):
    Shipment.create(order=parcel.order_id, carrier_code="usps", carrier_name="USPS",
                    tracking_number="9361289878700317633795")
    signed_post(client, "easypost", shop, easypost_event(NUMBER, [("delivered", "Delivered")]))
    assert Order.get_by_id(parcel.order_id).status == "shipped"
    signed_post(client, "easypost", shop, easypost_event(
        "9361289878700317633795", [("delivered", "Delivered")], event_id="evt_2"))
    assert Order.get_by_id(parcel.order_id).status == "delivered"


def test_status_mapping_is_normalised(client, shop, parcel):
    event = easypost_event(NUMBER, [("available_for_pickup", "At the post office"),
                                    ("return_to_sender", "Returned")])
    event["result"]["tracking_details"][0]["status_detail"] = "delivery_attempted"
    signed_post(client, "easypost", shop, event)
    assert [e.status for e in TrackingEvent.select().order_by(TrackingEvent.occurred_at)] == \
        ["failed_attempt", "returned_to_sender"]


def test_carrier_parse_webhook_of_the_easypost_plugin_alone():
    from portal.hooktypes import WebhookRequest
    from portal.plugins import easypost
    body = json.dumps(easypost_event(NUMBER, [("in_transit", "Arrived")])).encode()
    request = WebhookRequest({"x-hmac-signature": easypost.sign("s3cret", body)}, body,
                             "s3cret", utcnow())
    result = easypost.carrier_parse_webhook(carrier_code="easypost", request=request, settings={})
    assert result.accepted and result.event_id == "evt_1"
    assert result.reports[0].tracking_number == NUMBER
    assert easypost.carrier_parse_webhook(carrier_code="ups", request=request, settings={}) is None


def test_two_long_event_ids_that_share_a_prefix_are_two_events(client, shop, parcel):
    prefix = "evt_" + "x" * 200
    first = easypost_event(NUMBER, [("in_transit", "Arrived at USPS facility")],
                           event_id=prefix + "-1")
    second = easypost_event(NUMBER, [("out_for_delivery", "Out for delivery")],
                            event_id=prefix + "-2")
    assert signed_post(client, "easypost", shop, first).json["new_events"] == 1
    response = signed_post(client, "easypost", shop, second)
    assert response.status_code == 200 and response.json["new_events"] == 1
    assert stored() == (2, 2)
    assert "taken in before" in signed_post(client, "easypost", shop, second).json["message"]


@pytest.mark.parametrize("spoil", [
    lambda e: b"[" * 100_000 + b"]" * 100_000,                           # nested 100,000 deep
    lambda e: json.dumps({**e, "result": {"x": [[[[]]]] * 3}}).encode(),
    lambda e: json.dumps({**e, "result": {**e["result"], "tracking_details": [
        {**e["result"]["tracking_details"][0], "datetime": "9999-12-31T23:59:59-05:00"}]}}).encode(),
    lambda e: json.dumps({**e, "result": {**e["result"],
                                          "est_delivery_date": "0001-01-01T00:00:00+05:00"}}).encode(),
])
def test_a_signed_but_malformed_body_is_400_not_retry_later(client, shop, parcel, spoil):
    body = spoil(easypost_event(NUMBER, [("in_transit", "x")]))
    response = signed_post(client, "easypost", shop, body)
    assert response.status_code == 400, response.json
    assert stored() == (0, 0)


def test_nul_bytes_and_overlong_scan_ids_from_a_carrier_are_stored_safely(client, shop, parcel):
    from portal.shipping import tracking
    from portal.hooktypes import TrackingReport, TrackingStatus, TrackingUpdate
    long_id = "scan-" + "y" * 300
    report = TrackingReport(NUMBER, (
        TrackingUpdate(utcnow(), TrackingStatus.IN_TRANSIT, "Sorted\x00 here", "Depot\x00",
                       long_id + "a"),
        TrackingUpdate(utcnow(), TrackingStatus.IN_TRANSIT, "Again", "", long_id + "b")))
    shipment = Shipment.get_by_id(parcel.id)
    assert len(tracking.record(shipment, report)) == 2
    assert len(tracking.record(shipment, report)) == 0  # the same scans, stored once
    rows = list(TrackingEvent.select().order_by(TrackingEvent.id))
    assert [r.description for r in rows] == ["Sorted here", "Again"]
    assert all(len(r.external_id) <= 120 for r in rows)
