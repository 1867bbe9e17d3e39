"""One order in the Seller Center: checklist, process, ship (whole or split),
edit address and lines, cancel, notes, and the version check."""

import re

import pytest

from portal import hookimpl
from portal.hooktypes import CarrierInfo, Rate
from portal.models import Order, OrderEvent, OrderLine, Shipment, ShipmentLine, Variant
from portal.shipping import quote_rates
from portal.testing import enable
from tests.factories import make_order, make_variant

SELLER = "seller@example.com"


@pytest.fixture
def catalogue(shop):
    shirt_m = make_variant(shop, "Linen shirt", size="M", colour="White", price=3900, stock=10)
    shirt_l = make_variant(shop, shirt_m.product, size="L", colour="White", price=4200, stock=3)
    beanie = make_variant(shop, "Wool beanie", size="One", colour="Sage", price=2400, stock=5)
    return shirt_m, shirt_l, beanie


@pytest.fixture
def order(buyer, shop, catalogue):
    shirt_m, _, beanie = catalogue
    return make_order(buyer, shop, products=(("Linen shirt", 3900, 2), ("Wool beanie", 2400, 1)),
                      variants=(shirt_m, beanie), shipping=499)


def fresh(order) -> Order:
    return Order.get_by_id(order.id)


def lines(order) -> list[OrderLine]:
    return list(OrderLine.select().where(OrderLine.order == order.id).order_by(OrderLine.id))


def post(client, order, action, **data):
    data.setdefault("version", fresh(order).version)
    return client.post(f"/seller/orders/{order.number}/{action}", data=data)


def tick_all(client, order):
    return post(client, order, "checklist", picked=[str(line.id) for line in lines(order)],
                address_verified="y")


def test_order_page_shows_the_order_and_its_forms(client, auth, order, seller):
    auth.login(SELLER)
    html = client.get(f"/seller/orders/{order.number}").get_data(as_text=True)
    assert f"<h1>Order {order.number}</h1>" in html
    assert "Fulfilment checklist" in html and "Picked 2 × Linen shirt, size M, colour White" in html
    assert "Bea Buyer" in html and "buyer@example.com" in html
    assert 'name="variant-' in html and "L, White · $42.00 · 3 in stock" in html
    assert "Cancel the order" in html and "Internal note" in html


def test_processing_needs_a_complete_checklist(client, auth, order, seller):
    auth.login(SELLER)
    refused = post(client, order, "process")
    assert refused.status_code == 422
    assert "tick every line and verify the address" in refused.get_data(as_text=True)
    assert fresh(order).status == "pending"

    first = lines(order)[0]
    assert post(client, order, "checklist", picked=[str(first.id)]).status_code == 303
    assert [line.picked for line in lines(order)] == [True, False]
    assert post(client, order, "process").status_code == 422

    assert tick_all(client, order).status_code == 303
    done = post(client, order, "process")
    assert done.status_code == 303
    assert fresh(order).status == "processed"
    events = [e.message for e in OrderEvent.select().where(OrderEvent.order == order.id)]
    assert "Pending → Processed" in events
    assert "Checklist: 2 of 2 lines picked, address verified" in events


def test_ship_everything_in_one_package(client, auth, order, seller):
    auth.login(SELLER)
    tick_all(client, order)
    post(client, order, "process")
    line_a, line_b = lines(order)
    response = post(client, order, "ship", carrier="manual", tracking_number=" 1z-demo 12345 ",
                    **{f"ship-{line_a.id}": "2", f"ship-{line_b.id}": "1"})
    assert response.status_code == 303
    stored = fresh(order)
    assert stored.status == "shipped" and stored.shipped_count == 3
    shipment = Shipment.get(Shipment.order == order.id)
    assert shipment.tracking_number == "1Z-DEMO12345"
    assert {(i.order_line_id, i.quantity) for i in ShipmentLine.select()} == \
        {(line_a.id, 2), (line_b.id, 1)}


def test_a_bad_tracking_number_is_refused_next_to_the_field(client, auth, order, seller):
    auth.login(SELLER)
    tick_all(client, order)
    post(client, order, "process")
    response = post(client, order, "ship", carrier="manual", tracking_number="??")
    assert response.status_code == 422
    assert 'id="tracking_number-error">A tracking number has 6 to 40' in response.get_data(as_text=True)
    assert fresh(order).status == "processed" and Shipment.select().count() == 0


def test_split_shipping_shows_partially_shipped_on_both_sides(client, auth, order, seller):
    auth.login(SELLER)
    tick_all(client, order)
    post(client, order, "process")
    line_a, line_b = lines(order)
    first = post(client, order, "ship", carrier="manual", tracking_number="PKG-000001",
                 **{f"ship-{line_a.id}": "1", f"ship-{line_b.id}": "0"})
    assert first.status_code == 303
    stored = fresh(order)
    assert stored.status == "processed" and stored.partially_shipped
    seller_page = client.get(f"/seller/orders/{order.number}").get_data(as_text=True)
    assert "Partially shipped" in seller_page and "Ship the rest" in seller_page
    assert "Partially shipped" in client.get("/seller/orders").get_data(as_text=True)
    # Shipping more than is left is refused, and nothing changes.
    too_many = post(client, order, "ship", carrier="manual", tracking_number="PKG-000002",
                    **{f"ship-{line_a.id}": "2", f"ship-{line_b.id}": "1"})
    assert too_many.status_code == 422 and "1 left to ship, not 2" in too_many.get_data(as_text=True)
    assert Shipment.select().count() == 1
    second = post(client, order, "ship", carrier="manual", tracking_number="PKG-000002",
                  **{f"ship-{line_a.id}": "1", f"ship-{line_b.id}": "1"})
    assert second.status_code == 303 and fresh(order).status == "shipped"

    auth.logout()
    auth.login()
    buyer_list = client.get("/orders").get_data(as_text=True)
    assert "Shipped" in buyer_list
    page = client.get(f"/orders/{order.number}").get_data(as_text=True)
    assert "Package 1" in page and "PKG-000001" in page and "Package 2" in page
    assert "Contains: 1 × Linen shirt (M, White)" in page
    assert "Contains: 1 × Linen shirt (M, White), 1 × Wool beanie (One, Sage)" in page


def test_buyer_sees_partially_shipped_while_the_rest_waits(client, auth, order, seller):
    auth.login(SELLER)
    tick_all(client, order)
    post(client, order, "process")
    line_a, line_b = lines(order)
    post(client, order, "ship", carrier="manual", tracking_number="PKG-000001",
         **{f"ship-{line_a.id}": "2", f"ship-{line_b.id}": "0"})
    auth.logout()
    auth.login()
    assert "Partially shipped" in client.get("/orders").get_data(as_text=True)
    page = client.get(f"/orders/{order.number}").get_data(as_text=True)
    assert "Part of your order is on its way" in page and "PKG-000001" in page


def test_edit_address_lands_in_the_buyers_timeline(client, auth, order, seller):
    auth.login(SELLER)
    tick_all(client, order)
    response = post(client, order, "address", name="Bea Buyer", line1="9 New Road", line2="",
                    city="Austin", region="TX", postal_code="78701", country="US", phone="")
    assert response.status_code == 303
    stored = fresh(order)
    assert (stored.ship_line1, stored.ship_city, stored.ship_region) == ("9 New Road", "Austin", "TX")
    assert stored.address_verified is False  # a new address must be checked again
    auth.logout()
    auth.login()
    page = client.get(f"/orders/{order.number}").get_data(as_text=True)
    assert "Shipping address changed" in page and "“Portland” → “Austin”" in page
    assert "street address “1 Main Street” → “9 New Road”" in page  # words, not "line1"
    assert "line1" not in page.split('id="timeline-h"')[1]
    # The buyer sees the shop, not who on its staff did it.
    timeline = page.split('id="timeline-h"')[1]
    assert "Northwind Threads" in timeline and "Sam Seller" not in timeline
    assert "Checklist" not in page  # internal events stay with the seller


def test_edit_address_is_checked_for_its_country(client, auth, order, seller):
    auth.login(SELLER)
    response = post(client, order, "address", name="Bea Buyer", line1="", city="Austin",
                    region="ZZ", postal_code="1", country="US")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="line1-error">This is needed for an address in United States.' in html
    assert 'id="postal_code-error">This does not look right' in html
    assert fresh(order).ship_city == "Portland"


def test_edit_lines_reprices_and_moves_stock(client, auth, order, catalogue, seller):
    shirt_m, shirt_l, beanie = catalogue
    auth.login(SELLER)
    # The card's authorisation covers the higher total (else: tests/test_payments.py).
    from portal.models import PaymentTransaction
    PaymentTransaction.update(amount=20000).where(PaymentTransaction.order == order.id).execute()
    line_a, line_b = lines(order)
    response = post(client, order, "lines", **{
        f"variant-{line_a.id}": str(shirt_l.id), f"qty-{line_a.id}": "3",
        f"variant-{line_b.id}": str(beanie.id), f"qty-{line_b.id}": "0"})
    assert response.status_code == 303
    stored = fresh(order)
    assert stored.subtotal == 3 * 4200 and stored.total == 3 * 4200 + 499
    assert stored.item_count == 3 and stored.item_summary == "Linen shirt (L, White) × 3"
    assert [(line.size, line.quantity, line.unit_price) for line in lines(order)] == [("L", 3, 4200)]
    stock = {v.id: v.stock for v in Variant.select()}
    assert stock[shirt_m.id] == 12 and stock[shirt_l.id] == 0 and stock[beanie.id] == 6
    event = OrderEvent.get(OrderEvent.kind == "lines_changed")
    assert "Linen shirt (M, White) × 2" in event.message and "Linen shirt (L, White) × 3" in event.message
    assert "total $106.99 → $130.99" in event.message
    assert event.actor_id == seller.id and not event.internal


def test_edit_lines_refuses_more_than_is_in_stock(client, auth, order, catalogue, seller):
    _, shirt_l, _ = catalogue
    auth.login(SELLER)
    line_a, _ = lines(order)
    response = post(client, order, "lines", **{f"variant-{line_a.id}": str(shirt_l.id),
                                                f"qty-{line_a.id}": "4"})
    assert response.status_code == 422
    assert "only 3 in stock" in response.get_data(as_text=True)
    assert Variant.get_by_id(shirt_l.id).stock == 3 and fresh(order).subtotal == 2 * 3900 + 2400


def test_edit_lines_refuses_another_products_variant(client, auth, order, catalogue, seller):
    _, _, beanie = catalogue
    auth.login(SELLER)
    line_a, _ = lines(order)
    response = post(client, order, "lines", **{f"variant-{line_a.id}": str(beanie.id),
                                                f"qty-{line_a.id}": "1"})
    assert response.status_code == 422
    assert "choose one of its own sizes and colours" in response.get_data(as_text=True)


def test_cancel_with_reason_restores_stock(client, auth, order, catalogue, seller):
    shirt_m, _, beanie = catalogue
    auth.login(SELLER)
    assert post(client, order, "cancel", reason="").status_code == 422
    response = post(client, order, "cancel", reason="Out of stock in this colour")
    assert response.status_code == 303
    stored = fresh(order)
    assert stored.status == "cancelled" and stored.payment_status == "voided"
    assert Variant.get_by_id(shirt_m.id).stock == 12 and Variant.get_by_id(beanie.id).stock == 6
    auth.logout()
    auth.login()
    assert "Pending → Cancelled: Out of stock in this colour" in \
        client.get(f"/orders/{order.number}").get_data(as_text=True)


def test_shipped_orders_cannot_be_edited_or_cancelled(client, auth, order, seller):
    auth.login(SELLER)
    tick_all(client, order)
    post(client, order, "process")
    post(client, order, "ship", carrier="manual", tracking_number="PKG-000009")
    page = client.get(f"/seller/orders/{order.number}").get_data(as_text=True)
    assert "Save address" not in page and "Cancel the order" not in page
    response = post(client, order, "address", name="X", line1="1 Road", city="Austin",
                    region="TX", postal_code="78701", country="US")
    assert response.status_code == 422 and "can no longer be changed" in response.get_data(as_text=True)
    assert post(client, order, "cancel", reason="Too late").status_code == 422
    assert fresh(order).status == "shipped"
    assert post(client, order, "delivered").status_code == 303
    assert fresh(order).status == "delivered"


def test_notes_are_internal(client, auth, order, seller):
    auth.login(SELLER)
    assert post(client, order, "notes", text="").status_code == 422
    assert post(client, order, "notes", text="Gift wrap requested by phone").status_code == 303
    assert "Gift wrap requested by phone" in client.get(
        f"/seller/orders/{order.number}").get_data(as_text=True)
    auth.logout()
    auth.login()
    assert "Gift wrap" not in client.get(f"/orders/{order.number}").get_data(as_text=True)


def test_a_stale_edit_is_refused_and_nothing_is_lost(client, auth, order, seller):
    """Two tabs: both load version 1; the first save wins, the second is refused."""
    auth.login(SELLER)
    version = fresh(order).version
    first = post(client, order, "address", version=version, name="Bea Buyer", line1="1 First St",
                 city="Austin", region="TX", postal_code="78701", country="US")
    assert first.status_code == 303
    second = post(client, order, "address", version=version, name="Bea Buyer",
                  line1="2 Second St", city="Denver", region="CO", postal_code="80202",
                  country="US")
    html = second.get_data(as_text=True)
    assert second.status_code == 409
    assert "was changed by someone else in the meantime" in html
    assert "Your change was not saved" in html and "2 Second St" in html  # what they typed
    assert 'value="1 First St"' in html  # the fresh form shows the saved address
    assert fresh(order).ship_line1 == "1 First St"
    # The same holds for any change built on the old version.
    assert post(client, order, "cancel", version=version, reason="x").status_code == 409
    assert post(client, order, "checklist", version=version, address_verified="y").status_code == 409
    assert fresh(order).status == "pending" and not fresh(order).address_verified
    # A version beyond any database's integer is stale too, not a 500.
    assert post(client, order, "cancel", version=str(2**64), reason="x").status_code == 409


def test_unknown_order_is_404(client, auth, seller, shop):
    auth.login(SELLER)
    assert client.get("/seller/orders/ZZZZZ-ZZZZZ").status_code == 404


def test_seller_home_is_the_dashboard(client, auth, seller, shop):
    response = auth.login(SELLER)
    assert response.headers["Location"] == "/seller/"
    assert re.search(r"Seller Center", client.get("/seller/").get_data(as_text=True))


def test_ship_form_detects_the_carrier_from_the_number(client, auth, order, shop, seller):
    enable(shop, "ups")
    auth.login(SELLER)
    tick_all(client, order)
    post(client, order, "process")
    page = client.get(f"/seller/orders/{order.number}").get_data(as_text=True)
    assert re.search(r'<option (selected )?value="">Detect from the tracking number</option>', page)
    response = post(client, order, "ship", carrier="", tracking_number="1Z999AA10123456784")
    assert response.status_code == 303
    shipment = Shipment.get(Shipment.order == order.id)
    assert (shipment.carrier_code, shipment.tracking_number) == ("ups", "1Z999AA10123456784")
    assert "ups.com" in shipment.tracking_url
    nearly = make_order(order.buyer, shop, status="processed")
    refused = post(client, nearly, "ship", carrier="ups", tracking_number="1Z999AA10123456785")
    assert refused.status_code == 422 and Shipment.select().count() == 1


def test_buy_a_label_ships_and_opens_the_printable_label(client, auth, order, shop, seller):
    enable(shop, "demo")
    auth.login(SELLER)
    tick_all(client, order)
    post(client, order, "process")
    page = client.get(f"/seller/orders/{order.number}").get_data(as_text=True)
    assert "Or buy a label" in page and "Demo Ground" not in page  # rates: their own fragment
    rates = client.get(f"/seller/orders/{order.number}/label",
                       headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Demo Ground" in rates and "Demo Express" in rates and 'name="rate"' in rates
    refused = post(client, order, "label")  # no service chosen
    assert refused.status_code == 422 and "Choose a shipping service." in refused.get_data(as_text=True)
    stale = post(client, order, "label", rate="demo:express", version=fresh(order).version - 1)
    assert stale.status_code == 409 and Shipment.select().count() == 0  # nothing bought
    response = post(client, order, "label", rate="demo:express")
    assert response.status_code == 303
    shipment = Shipment.get(Shipment.order == order.id)
    assert response.headers["Location"] == f"/seller/shipments/{shipment.id}/label"
    express = next(r for r in quote_rates(shop, fresh(order)).rates if r.service_code == "express")
    assert shipment.label_service == "Demo Express" and shipment.label_amount == express.amount
    assert fresh(order).status == "shipped"
    label_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert shipment.tracking_number in label_page and "<svg" in label_page


def test_edit_lines_refuses_what_is_not_a_number(client, auth, order, catalogue, seller):
    auth.login(SELLER)
    line_a, _ = lines(order)
    response = post(client, order, "lines", **{f"variant-{line_a.id}": str(catalogue[1].id),
                                                f"qty-{line_a.id}": "two"})
    assert response.status_code == 422
    assert "choose a size/colour and a whole quantity" in response.get_data(as_text=True)
    assert fresh(order).version == 1


def test_ticking_and_processing_is_one_post(client, auth, order, seller):
    """The checklist trap: ticks pressed with "Mark as processed" are saved with it."""
    auth.login(SELLER)
    page = client.get(f"/seller/orders/{order.number}").get_data(as_text=True)
    checklist = page.split('id="checklist-h"')[1].split("</form>")[0]
    assert 'name="then" value="process"' in checklist  # the button is in the ticks' form
    done = post(client, order, "checklist", picked=[str(line.id) for line in lines(order)],
                address_verified="y", then="process")
    assert done.status_code == 303
    stored = fresh(order)
    assert stored.status == "processed" and stored.address_verified
    assert all(line.picked for line in lines(order))
    assert f"Order {order.number} is Processed" in client.get(
        f"/seller/orders/{order.number}").get_data(as_text=True)


def test_processing_an_incomplete_checklist_keeps_the_ticks(client, auth, order, seller):
    auth.login(SELLER)
    first = lines(order)[0]
    response = post(client, order, "checklist", picked=[str(first.id)], then="process")
    assert response.status_code == 303
    assert fresh(order).status == "pending"
    assert [line.picked for line in lines(order)] == [True, False]
    page = client.get(f"/seller/orders/{order.number}").get_data(as_text=True)
    assert "Checklist saved, but the order is still Pending" in page


@pytest.mark.parametrize("value", ["²", "٣", "1²", "-1", "9" * 40])
def test_unicode_digits_in_checklist_ticks_are_a_clear_refusal(client, auth, order, seller, value):
    auth.login(SELLER)
    response = post(client, order, "checklist", picked=[value], address_verified="y",
                    then="process")
    assert response.status_code == 422
    assert "a line that is not on this order; nothing was saved" in response.get_data(as_text=True)
    assert fresh(order).status == "pending" and not any(line.picked for line in lines(order))


@pytest.mark.parametrize("value", ["²", "٣", "1.5", "-1"])
def test_unicode_digits_in_ship_quantities_are_a_clear_refusal(client, auth, order, seller, value):
    auth.login(SELLER)
    tick_all(client, order)
    post(client, order, "process")
    line_a, line_b = lines(order)
    response = post(client, order, "ship", carrier="manual", tracking_number="PKG-000001",
                    **{f"ship-{line_a.id}": value, f"ship-{line_b.id}": "1"})
    assert response.status_code == 422
    assert "is not a quantity: type a whole number" in response.get_data(as_text=True)
    assert Shipment.select().count() == 0


def test_the_order_reads_first_and_edits_open_on_demand(client, auth, order, seller):
    auth.login(SELLER)
    tick_all(client, order)
    post(client, order, "process")
    html = client.get(f"/seller/orders/{order.number}").get_data(as_text=True)
    # The next step (ship) comes before the order, the order before the edit forms.
    assert html.index('id="ship-h"') < html.index('id="items-h"') < html.index('id="change-h"')
    changes = html.split('id="change-h"')[1].split('id="timeline-h"')[0]
    for summary in ("Change the items", "Change the shipping address", "Cancel the order",
                    "Add an internal note"):
        assert f"<summary>{summary}</summary>" in changes
    assert "<details" in changes and " open>" not in changes  # closed until asked for
    # A refused edit comes back open, with its errors.
    refused = post(client, order, "address", name="", line1="", city="", country="US")
    assert refused.status_code == 422
    assert '<details id="edit-address" open>' in refused.get_data(as_text=True)


class CountingCarrier:
    """A label-selling carrier that counts how often it is asked for rates."""

    def __init__(self):
        self.asked = 0

    @hookimpl
    def carrier_info(self):
        return CarrierInfo("count", "Counting Post", labels=True)

    @hookimpl
    def carrier_rates(self, carrier_code, parcel):
        if carrier_code != "count":
            return None
        self.asked += 1
        return [Rate("count", "std", "Counting Standard", 650, parcel.currency, 3)]


def test_rates_are_asked_only_by_their_fragment(client, auth, buyer, shop, register_plugin):
    carrier = register_plugin(CountingCarrier(), "count")
    enable(shop, "count")
    processed = make_order(buyer, shop, status="processed")
    auth.login(SELLER)
    page = client.get(f"/seller/orders/{processed.number}").get_data(as_text=True)
    url = f"/seller/orders/{processed.number}/label"
    assert carrier.asked == 0 and "Counting Standard" not in page
    assert f'hx-get="{url}" hx-trigger="load"' in page  # htmx loads it with the page
    assert f'href="{url}#label-h"' in page  # and without JavaScript, a link shows it
    fragment = client.get(url, headers={"HX-Request": "true"})
    assert carrier.asked == 1 and fragment.status_code == 200
    html = fragment.get_data(as_text=True)
    assert "<html" not in html and 'id="label-rates"' in html and "Counting Standard" in html
    assert "HX-Request" in fragment.headers["Vary"]
    whole = client.get(url).get_data(as_text=True)  # the link: the page, with the rates in it
    assert carrier.asked == 2 and "<html" in whole and "Counting Standard" in whole
    assert f"<h1>Order {processed.number}</h1>" in whole and 'hx-trigger="load"' not in whole


def test_the_rates_fragment_of_an_order_that_may_not_ship_asks_no_carrier(
        client, auth, buyer, shop, register_plugin):
    carrier = register_plugin(CountingCarrier(), "count")
    enable(shop, "count")
    pending = make_order(buyer, shop)
    auth.login(SELLER)
    html = client.get(f"/seller/orders/{pending.number}/label",
                      headers={"HX-Request": "true"}).get_data(as_text=True)
    assert carrier.asked == 0 and "only Processed orders can ship" in html
