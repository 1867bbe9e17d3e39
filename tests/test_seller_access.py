"""A seller sees and changes only their own shop's orders; buyers never reach /seller."""

import io

import pytest

from portal.models import Order, OrderEvent, Shipment
from tests.factories import make_order

ORDER_POSTS = {
    "checklist": {"address_verified": "y"},
    "process": {},
    "ship": {"carrier": "manual", "tracking_number": "PKG-999999"},
    "address": {"name": "X", "line1": "1 Road", "city": "Austin", "region": "TX",
                "postal_code": "78701", "country": "US"},
    "lines": {},
    "cancel": {"reason": "Not mine"},
    "delivered": {},
    "notes": {"text": "Snooping"},
}


@pytest.fixture
def theirs(buyer, shop, shop2):
    """An order of seller 1's shop, in every state a form could act on."""
    return {status: make_order(buyer, shop, status=status)
            for status in ("pending", "processed", "shipped")}


def test_another_shops_order_is_404_for_every_read_and_write(client, auth, theirs, seller2):
    auth.login("seller2@example.com")
    before = {o.id: (o.status, o.version) for o in Order.select()}
    for order in theirs.values():
        assert client.get(f"/seller/orders/{order.number}").status_code == 404
        for action, data in ORDER_POSTS.items():
            response = client.post(f"/seller/orders/{order.number}/{action}",
                                   data={"version": order.version, **data})
            assert response.status_code == 404, (action, order.status)
    assert {o.id: (o.status, o.version) for o in Order.select()} == before
    assert OrderEvent.select().count() == 3  # just the three "placed" events
    assert Shipment.select().count() == 0


def test_another_shops_orders_never_show_in_lists_exports_or_slips(client, auth, theirs, seller2):
    auth.login("seller2@example.com")
    numbers = [o.number for o in theirs.values()]
    pages = [client.get(url).get_data(as_text=True) for url in (
        "/seller/orders", "/seller/orders?status=delayed", f"/seller/orders?q={numbers[0]}",
        "/seller/orders/export.csv", "/seller/")]
    for html in pages:  # the search's own URLs echo what was typed: look for order links
        assert not any(f"/seller/orders/{n}" in html for n in numbers)
    assert not any(n in pages[3] for n in numbers)  # the CSV export
    slips = client.get("/seller/orders/packing-slips?" + "&".join(f"order={n}" for n in numbers))
    assert slips.status_code == 404
    shipped = client.post("/seller/orders/ship-csv", data={
        "file": (io.BytesIO(f"{theirs['processed'].number},manual,PKG-123456\n".encode()), "a.csv")},
        content_type="multipart/form-data")
    assert "No order" in shipped.get_data(as_text=True)
    assert Order.get_by_id(theirs["processed"].id).status == "processed"


def test_buyers_never_reach_the_seller_center(client, auth, theirs, buyer):
    auth.login()
    for url in ("/seller/", "/seller/orders", f"/seller/orders/{theirs['pending'].number}",
                "/seller/settings", "/seller/orders/export.csv"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/seller/orders/{theirs['pending'].number}/cancel",
                       data={"reason": "x", "version": 1}).status_code == 404
    assert Order.get_by_id(theirs["pending"].id).status == "pending"


def test_visitors_are_sent_to_log_in(client, theirs):
    for url in ("/seller/", "/seller/orders", "/seller/settings"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_seller_forms_need_csrf(csrf_app, theirs, seller):
    client = csrf_app.test_client()
    token_page = client.get("/login").get_data(as_text=True)
    import re
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', token_page).group(1)
    client.post("/login", data={"email": "seller@example.com", "password": "password-123",
                                "csrf_token": token})
    order = theirs["pending"]
    response = client.post(f"/seller/orders/{order.number}/cancel",
                           data={"reason": "no token", "version": order.version})
    assert response.status_code == 400
    assert Order.get_by_id(order.id).status == "pending"
