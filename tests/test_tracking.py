"""Tracking reaches the buyer: the live block, polling carriers, manual events, order hooks."""

from datetime import timedelta

import pytest

from portal import hookimpl
from portal.shipping import tracking
from portal.background import task
from portal.hooktypes import OrderChange, TrackingStatus
from portal.models import Order, Shipment, TrackingEvent, utcnow
from portal.orders.lifecycle import Status, transition
from portal.testing import easypost_event, enable, make_shipped_order, signed_post
from tests.factories import make_order, make_shipment

HX = {"HX-Request": "true"}


@pytest.fixture
def order(buyer, shop):
    order = make_order(buyer, shop, status="shipped")
    make_shipment(order, tracking_number="DP0000000001")
    return order


def test_the_tracking_fragment_is_a_304_when_nothing_changed(client, auth, order):
    auth.login()
    url = f"/orders/{order.number}/tracking"
    first = client.get(url, headers=HX)
    assert first.status_code == 200
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    assert "no-cache" in first.headers["Cache-Control"] and "private" in first.headers["Cache-Control"]
    assert 'id="tracking"' in first.get_data(as_text=True)
    assert 'hx-swap-oob="true"' in first.get_data(as_text=True)  # the status badge too
    again = client.get(url, headers={**HX, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""

    tracking.add_manual_event(Shipment.get(), status=TrackingStatus.OUT_FOR_DELIVERY,
                              description="Out for delivery")
    changed = client.get(url, headers={**HX, "If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and "Out for delivery" in changed.get_data(as_text=True)
    assert changed.headers["ETag"] != first.headers["ETag"]


def test_the_page_polls_while_the_order_moves_and_stops_when_delivered(client, auth, order):
    auth.login()
    html = client.get(f"/orders/{order.number}").get_data(as_text=True)
    assert f'hx-get="/orders/{order.number}/tracking"' in html and 'hx-trigger="every ' in html
    transition(order, Status.DELIVERED)
    html = client.get(f"/orders/{order.number}/tracking", headers=HX).get_data(as_text=True)
    assert "hx-get" not in html.split("</section>")[0]
    assert "Delivered</span>" in html


def test_another_buyers_tracking_fragment_is_404(client, auth, order, buyer2):
    auth.login("buyer2@example.com")
    assert client.get(f"/orders/{order.number}/tracking", headers=HX).status_code == 404
    assert client.get("/orders/NOPE0-NOPE0/tracking", headers=HX).status_code == 404


def test_without_htmx_the_fragment_url_leads_to_the_order_page(client, auth, order):
    auth.login()
    response = client.get(f"/orders/{order.number}/tracking")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/orders/{order.number}#tracking")


def test_the_order_page_still_costs_a_fixed_number_of_queries(client, auth, order, shop,
                                                             count_queries):
    auth.login()
    count_queries.statements.clear()
    client.get(f"/orders/{order.number}/tracking", headers=HX)
    # user, order, version, shipments, events, package contents, plugin setup
    assert len(count_queries) <= 7


def test_the_demo_carrier_moves_parcels_along_in_the_background(app, buyer, shop):
    enable(shop, "demo", minutes_per_step=2)
    shipment = make_shipped_order(shop, "demo", "DP0000000003", buyer=buyer)
    now = utcnow()
    Shipment.update(shipped_at=now - timedelta(minutes=5)).execute()
    with app.app_context():
        task("poll_carriers")()  # Huey runs it at once in tests (immediate mode)
    events = list(TrackingEvent.select().order_by(TrackingEvent.occurred_at))
    assert [e.description for e in events] == ["Label created"]  # one step a poll
    # carrier_track: a step a poll (once a minute) until the parcel arrives and the order is Delivered.
    later = now
    for _ in range(12):
        later += timedelta(minutes=2)
        tracking.poll_shipments(now=later)
    assert Shipment.get_by_id(shipment.id).status == "delivered"
    assert Order.get_by_id(shipment.order_id).status == "delivered"
    assert tracking.poll_shipments(now=later + timedelta(hours=3)) == 0  # delivered: not polled


def test_parcels_of_a_shop_without_the_demo_carrier_are_not_polled(app, buyer, shop):
    make_shipped_order(shop, "demo", "DP0000000004", buyer=buyer)
    assert tracking.poll_shipments(now=utcnow() + timedelta(days=1)) == 0


def test_the_seller_types_tracking_events_by_hand(client, auth, shop, order, buyer):
    auth.login("seller@example.com")
    shipment = Shipment.get()
    url = f"/seller/shipments/{shipment.id}/events"
    assert client.get(url).status_code == 200
    bad = client.post(url, data={"status": "delivered", "description": ""})
    assert bad.status_code == 422
    response = client.post(url, data={"status": "delivered", "description": "Handed to neighbour",
                                      "location": "Portland"})
    assert response.status_code == 303
    assert Order.get_by_id(order.id).status == "delivered"
    auth.logout()
    auth.login()
    assert "Handed to neighbour" in client.get(f"/orders/{order.number}").get_data(as_text=True)


def test_another_sellers_shipment_is_404(client, auth, order):
    from tests.factories import make_shop, make_user
    make_shop(make_user("seller2@example.com", role="seller"), "Second Shop")
    auth.login("seller2@example.com")
    shipment = Shipment.get()
    assert client.get(f"/seller/shipments/{shipment.id}/events").status_code == 404
    assert client.post(f"/seller/shipments/{shipment.id}/events",
                       data={"status": "delivered", "description": "x"}).status_code == 404


class Listener:
    def __init__(self):
        self.changes, self.tracked = [], []

    @hookimpl
    def order_status_changed(self, change):
        self.changes.append(change)

    @hookimpl
    def order_tracking_updated(self, order_number, status, updates):
        self.tracked.append((order_number, status, len(updates)))


def test_enabled_plugins_hear_of_order_changes_and_tracking(client, shop, register_plugin):
    listener = register_plugin(Listener(), "listener")
    enable(shop, "listener")
    enable(shop, "easypost")
    shipment = make_shipped_order(shop, "usps", "9405511899223197428490")
    signed_post(client, "easypost", shop, easypost_event(
        "9405511899223197428490", [("in_transit", "On its way"), ("delivered", "Delivered")]))
    number = shipment.order.number
    assert listener.tracked == [(number, TrackingStatus.DELIVERED, 2)]
    assert listener.changes == [OrderChange(number, shop.id, "shipped", "delivered", "system",
                                            "the carrier delivered it")]


def test_a_plugin_the_shop_did_not_enable_hears_nothing(buyer, shop, register_plugin):
    listener = register_plugin(Listener(), "listener")
    transition(make_order(buyer, shop), Status.PROCESSED)
    assert listener.changes == []


def test_a_package_of_a_partly_shipped_order_is_polled_too(app, buyer, shop):
    enable(shop, "demo", minutes_per_step=1)
    shipment = make_shipped_order(shop, "demo", "DP0000000077", buyer=buyer)
    # The order still has an item to ship: Processed, "Partially shipped".
    Order.update(status="processed", item_count=2, shipped_count=1) \
        .where(Order.id == shipment.order_id).execute()
    assert Order.get_by_id(shipment.order_id).partially_shipped
    Shipment.update(shipped_at=utcnow() - timedelta(minutes=5)).execute()
    assert tracking.poll_shipments(now=utcnow()) == 1
    # Its parcel moves on; the order stays Processed until its last package ships.
    assert Order.get_by_id(shipment.order_id).status == "processed"
