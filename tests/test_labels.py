"""Platform shipping: a rate quote, a bought label, its printable page, a void within the day."""

from datetime import timedelta

import pytest

from portal import shipping
from portal.orders import fulfilment
from portal.models import Order, OrderLine, Shipment, utcnow
from portal.testing import enable
from tests.factories import make_order, make_shop, make_user


@pytest.fixture
def labelled(shop, buyer):
    """What the seller's ship form does for "buy a label"."""
    enable(shop, "demo")
    order = make_order(buyer, shop, status="processed")
    quote = shipping.quote_rates(shop, order)
    assert [r.service_name for r in quote.rates] == ["Demo Ground", "Demo Express"]
    label = shipping.buy_label(shop, order, "demo", "express")  # carrier_buy_label
    package = fulfilment.Package(fulfilment.remaining(order), label.carrier_code, "Demo Parcel",
                                 label.tracking_number, label.tracking_url,
                                 shipping.label_shipment_fields(label))
    return fulfilment.ship(order, package, version=order.version, actor=shop.owner)


def test_buying_a_label_assigns_a_valid_tracking_number(shop, labelled):
    assert labelled.label_amount == 1299 and labelled.label_service == "Demo Express"
    assert shipping.check_tracking_number(shop, "demo", labelled.tracking_number).valid
    assert shipping.check_tracking_number(shop, "", labelled.tracking_number).carrier_code == "demo"


def test_an_unknown_service_is_refused(shop, buyer):
    enable(shop, "demo")
    with pytest.raises(shipping.ShippingRefused):
        shipping.buy_label(shop, make_order(buyer, shop), "demo", "teleport")


def test_the_label_page_shows_a_code128_barcode_inline(client, auth, labelled):
    auth.login("seller@example.com")
    response = client.get(f"/seller/shipments/{labelled.id}/label")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'aria-label="Barcode {labelled.tracking_number}"' in html
    assert "<svg" in html and 'fill="black"' in html
    assert "style=" not in html.split("<svg", 1)[1].split("</svg>")[0]  # the CSP forbids inline style
    assert "Void this label" in html


def test_a_label_is_voided_within_the_day_only(client, auth, labelled):
    auth.login("seller@example.com")
    response = client.post(f"/seller/shipments/{labelled.id}/label/void")
    assert response.status_code == 303  # carrier_void_label
    assert Shipment.get_by_id(labelled.id).label_voided_at is not None
    html = client.get(f"/seller/shipments/{labelled.id}/label").get_data(as_text=True)
    assert "VOID" in html and "Void this label" not in html
    # The package is out of the order again: Processed, everything to ship once more.
    order = Order.get_by_id(labelled.order_id)
    assert order.status == "processed" and order.shipped_count == 0
    assert all(line.shipped_quantity == 0 for line in OrderLine.select())
    page = client.get(f"/seller/orders/{order.number}").get_data(as_text=True)
    assert "Ship package" in page and "Label voided" in page
    assert "label voided: 1 item to ship again" in page


def test_yesterdays_label_cannot_be_voided(shop, labelled):
    Shipment.update(label_bought_at=utcnow() - timedelta(days=1)).execute()
    with pytest.raises(shipping.ShippingRefused):
        shipping.void_label(shop, Shipment.get_by_id(labelled.id))
    assert Shipment.get_by_id(labelled.id).label_voided_at is None


def test_another_shops_label_is_404(client, auth, labelled):
    make_shop(make_user("seller2@example.com", role="seller"), "Second Shop")
    auth.login("seller2@example.com")
    assert client.get(f"/seller/shipments/{labelled.id}/label").status_code == 404
    assert client.post(f"/seller/shipments/{labelled.id}/label/void").status_code == 404
    assert Shipment.get_by_id(labelled.id).label_voided_at is None


@pytest.mark.parametrize("number", ['"><script>alert(1)</script>', "1Z<b onload=x>"])
def test_a_tracking_number_from_a_plugin_is_escaped_on_the_label(client, auth, labelled, number):
    Shipment.update(tracking_number=number).where(Shipment.id == labelled.id).execute()
    auth.login("seller@example.com")
    html = client.get(f"/seller/shipments/{labelled.id}/label").get_data(as_text=True)
    assert "<script>alert" not in html and "<b onload" not in html
    assert 'aria-label="Barcode &#34;&gt;&lt;script&gt;' in html or "1Z&lt;b onload" in html


def test_a_tracking_number_code128_cannot_carry_still_shows_the_label(client, auth, labelled):
    Shipment.update(tracking_number="Ünïcode-<i>").where(Shipment.id == labelled.id).execute()
    auth.login("seller@example.com")
    response = client.get(f"/seller/shipments/{labelled.id}/label")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "No barcode" in html and "Ünïcode-&lt;i&gt;" in html and "<i>" not in html
