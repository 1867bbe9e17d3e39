"""Swift Post's tests, using the fixtures the portal ships (portal.testing)."""

import json
import time

from portal import shipping
from portal.models import Order, TrackingEvent
from portal.testing import PASSWORD
from portal_carrier_example import sign

GOOD = "SP1234567895"  # 1+2+...+9 = 45 -> check digit 5
KEY = "sk_test_swift_0001"


def signer_at(timestamp):
    def signer(secret, body):
        return sign(secret, timestamp, body)
    return signer


def push(number, *scans, push_id="push-1"):
    return {"push_id": push_id, "parcel": number,
            "scans": [{"id": f"s{k}", "at": "2030-01-01T10:00:00", "status": status, "text": text}
                      for k, (status, text) in enumerate(scans)]}


def test_the_portal_finds_the_plugin(portal_client, portal_shop, enable_plugin):
    from portal.testing import installed_plugins
    assert "swiftpost" in installed_plugins()
    assert "swiftpost" not in [c.code for c in shipping.carriers_for_shop(portal_shop)]  # off until on
    assert portal_client.get("/seller/plugins/").status_code == 302  # not logged in yet
    portal_client.post("/login", data={"email": portal_shop.owner.email, "password": PASSWORD})
    page = portal_client.get("/seller/plugins/").get_data(as_text=True)
    assert "Swift Post" in page  # listed for the seller to turn on
    enable_plugin(portal_shop, "swiftpost", api_key=KEY)
    assert "swiftpost" in [c.code for c in shipping.carriers_for_shop(portal_shop)]


def test_tracking_numbers(portal_shop, enable_plugin):
    enable_plugin(portal_shop, "swiftpost", api_key=KEY)
    assert shipping.check_tracking_number(portal_shop, "swiftpost", "sp 1234 5678 95").valid
    assert not shipping.check_tracking_number(portal_shop, "swiftpost", "SP1234567894").valid
    assert not shipping.check_tracking_number(portal_shop, "swiftpost", "SP123456789").valid
    detected = shipping.check_tracking_number(portal_shop, "", GOOD)
    assert detected.carrier_code == "swiftpost"


def test_a_signed_push_delivers_the_order(portal_shop, enable_plugin, shipped_order, post_webhook):
    enable_plugin(portal_shop, "swiftpost", api_key=KEY)
    parcel = shipped_order(portal_shop, "swiftpost", GOOD)
    now = str(int(time.time()))
    response = post_webhook("swiftpost", portal_shop,
                            push(GOOD, ("MOVING", "On its way"), ("DELIVERED", "Delivered")),
                            signer=signer_at(now), header="X-Swift-Signature",
                            headers={"X-Swift-Timestamp": now})
    assert response.status_code == 200, response.json
    assert TrackingEvent.select().count() == 2
    assert Order.get_by_id(parcel.order_id).status == "delivered"


def test_a_bad_signature_stores_nothing(portal_shop, enable_plugin, shipped_order, post_webhook):
    enable_plugin(portal_shop, "swiftpost", api_key=KEY)
    shipped_order(portal_shop, "swiftpost", GOOD)
    now = str(int(time.time()))
    response = post_webhook("swiftpost", portal_shop, push(GOOD, ("MOVING", "x")),
                            secret="wrong", signer=signer_at(now), header="X-Swift-Signature",
                            headers={"X-Swift-Timestamp": now})
    assert response.status_code == 401
    assert TrackingEvent.select().count() == 0


def test_a_stale_push_is_refused(portal_shop, enable_plugin, shipped_order, post_webhook):
    enable_plugin(portal_shop, "swiftpost", api_key=KEY)
    shipped_order(portal_shop, "swiftpost", GOOD)
    old = str(int(time.time()) - 3600)
    response = post_webhook("swiftpost", portal_shop, push(GOOD, ("MOVING", "x")),
                            signer=signer_at(old), header="X-Swift-Signature",
                            headers={"X-Swift-Timestamp": old})
    assert response.status_code == 400
    assert json.loads(response.data)["message"] == "Stale push refused."
