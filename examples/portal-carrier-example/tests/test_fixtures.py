"""One test per fixture of portal.testing: each is the example docs/plugins.md shows for it
(docs/generate.py copies them there), so every example in the docs runs."""

import time
from datetime import timedelta

import pytest

from portal import hookimpl
from portal.hooktypes import CarrierInfo, TrackingReport, TrackingStatus, TrackingUpdate
from portal.models import Order, PluginConfig, Shipment, TrackingEvent, utcnow
from portal.shipping import ShippingRefused, carriers_for_shop
from portal.testing import SettingsRefused
from portal_carrier_example import sign

KEY = "sk_test_swift_0001"


def test_portal_app(portal_app):
    assert portal_app.config["TESTING"]
    assert portal_app.url_map.bind("localhost").match("/seller/plugins/")


def test_portal_client(portal_client):
    assert portal_client.get("/login").status_code == 200
    assert portal_client.get("/seller/plugins/").status_code == 302  # to the login page


def test_portal_shop(portal_shop):
    assert portal_shop.slug == "test-shop"
    assert portal_shop.owner.email == "seller@example.com"
    assert [c.code for c in carriers_for_shop(portal_shop)] == ["manual"]


def test_seller_client(seller_client, portal_shop, enable_plugin):
    enable_plugin(portal_shop, "swiftpost", api_key=KEY)
    page = seller_client.get("/seller/plugins/").get_data(as_text=True)
    assert "Swift Post" in page
    assert KEY not in page  # a secret setting is never shown back


def test_enable_plugin(portal_shop, enable_plugin):
    row = enable_plugin(portal_shop, "swiftpost", api_key=KEY, account="SW-123")
    assert isinstance(row, PluginConfig) and row.enabled
    assert "swiftpost" in [c.code for c in carriers_for_shop(portal_shop)]
    with pytest.raises(SettingsRefused, match="account: Field cannot be longer than 20"):
        enable_plugin(portal_shop, "swiftpost", api_key=KEY, account="X" * 21)


def test_processed_order(portal_shop, processed_order):
    order = processed_order(portal_shop, items=[("Linen shirt", 3900, 2)], ship_country="US")
    assert order.status == "processed" and order.total == 7800


def test_shipped_order(portal_shop, enable_plugin, shipped_order):
    enable_plugin(portal_shop, "swiftpost", api_key=KEY)
    parcel = shipped_order(portal_shop, "swiftpost", "SP1234567895")
    assert isinstance(parcel, Shipment) and parcel.order.status == "shipped"
    assert parcel.carrier_name == "Swift Post"


def test_quote_rates(portal_shop, enable_plugin, processed_order, quote_rates):
    enable_plugin(portal_shop, "swiftpost", api_key=KEY)
    quote = quote_rates(portal_shop, processed_order(portal_shop))
    assert [(r.service_code, r.amount) for r in quote.rates] == [("standard", 650), ("next_day", 1450)]
    abroad = quote_rates(portal_shop, processed_order(portal_shop, ship_country="DE",
                                                      ship_postal_code="10115"))
    assert abroad.rates == []
    assert abroad.refused == ["Swift Post: Swift Post delivers inside the United States only."]


def test_buy_label(portal_shop, enable_plugin, processed_order, buy_label):
    enable_plugin(portal_shop, "swiftpost", api_key=KEY)
    order = processed_order(portal_shop)
    parcel = buy_label(portal_shop, order, "swiftpost", "next_day")
    assert parcel.tracking_number.startswith("SP") and parcel.label_amount == 1450
    assert Order.get_by_id(order.id).status == "shipped"
    abroad = processed_order(portal_shop, ship_country="DE", ship_postal_code="10115")
    with pytest.raises(ShippingRefused, match="inside the United States only"):
        buy_label(portal_shop, abroad, "swiftpost", "standard")


class Snail:
    """A carrier the portal polls: each poll returns every scan it knows of."""

    @hookimpl
    def carrier_info(self):
        return CarrierInfo("snail", "Snail Mail", tracking="polling")

    @hookimpl
    def carrier_track(self, carrier_code, query, now):
        if carrier_code != "snail":
            return None
        scans = [TrackingUpdate(query.shipped_at + timedelta(hours=1), TrackingStatus.IN_TRANSIT,
                                "Picked up", "Portland, OR", "scan-1")]
        if now - query.shipped_at > timedelta(days=2):
            scans.append(TrackingUpdate(now, TrackingStatus.DELIVERED, "Delivered", "", "scan-2"))
        return TrackingReport(query.tracking_number, tuple(scans))


def test_register_plugin(portal_shop, register_plugin, enable_plugin):
    register_plugin(Snail(), "snail")
    enable_plugin(portal_shop, "snail")
    assert "snail" in [c.code for c in carriers_for_shop(portal_shop)]


def test_poll_tracking(portal_shop, register_plugin, enable_plugin, shipped_order, poll_tracking):
    register_plugin(Snail(), "snail")
    enable_plugin(portal_shop, "snail")
    parcel = shipped_order(portal_shop, "snail", "SN0001")
    assert poll_tracking() == 1  # picked up
    assert poll_tracking() == 0  # a scan already stored is skipped
    assert poll_tracking(now=utcnow() + timedelta(days=3)) == 1
    assert Order.get_by_id(parcel.order_id).status == "delivered"


def test_post_webhook(portal_shop, enable_plugin, shipped_order, post_webhook):
    enable_plugin(portal_shop, "swiftpost", api_key=KEY)
    shipped_order(portal_shop, "swiftpost", "SP1234567895")
    now = str(int(time.time()))
    push = {"push_id": "p-1", "parcel": "SP1234567895", "scans": [
        {"id": "s-1", "at": "2030-01-01T10:00:00", "status": "MOVING", "text": "On its way"}]}
    response = post_webhook("swiftpost", portal_shop, push,
                            signer=lambda secret, body: sign(secret, now, body),
                            header="X-Swift-Signature", headers={"X-Swift-Timestamp": now})
    assert response.status_code == 200, response.json
    assert TrackingEvent.select().count() == 1
