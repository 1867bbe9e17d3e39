"""What a waiting buyer request means for the rest of the order: nothing ships while an
address change or a cancellation waits (form, label, split, CSV); a request a change made
moot is closed with a reason the buyer reads; requests show what they ask for."""

import io
from datetime import timedelta

import pytest

from portal import shipping
from portal.addresses import check_address
from portal.models import Order, OrderEvent, OrderLine, OrderRequest, Shipment, Variant, utcnow
from portal.orders import fulfilment, requests
from portal.orders.errors import RequestRefused
from portal.testing import enable
from tests.factories import make_order, make_variant

SELLER = "seller@example.com"
ADDRESS = {"name": "Bea Buyer", "line1": "9 New Road", "line2": "", "city": "Austin",
           "region": "TX", "postal_code": "78701", "country": "US", "phone": ""}


@pytest.fixture
def catalogue(shop):
    shirt_m = make_variant(shop, "Linen shirt", size="M", colour="White", price=3900, stock=10)
    shirt_l = make_variant(shop, shirt_m.product, size="L", colour="White", price=4200, stock=3)
    return shirt_m, shirt_l


@pytest.fixture
def order(buyer, shop, catalogue):
    return make_order(buyer, shop, status="processed", variants=(catalogue[0],),
                      products=(("Linen shirt", 3900, 2),))


def fresh(order) -> Order:
    return Order.get_by_id(order.id)


def ask_new_address(order, buyer):
    return requests.buyer_change_address(fresh(order), check_address(ADDRESS), buyer=buyer,
                                         version=fresh(order).version)


def seller_post(client, order, action, **data):
    data.setdefault("version", fresh(order).version)
    return client.post(f"/seller/orders/{order.number}/{action}", data=data)


HELD = "waits for your answer: the buyer asked for a new shipping address"


def test_the_ship_form_waits_for_an_open_address_change(client, auth, order, buyer):
    ask_new_address(order, buyer)
    auth.login(SELLER)
    page = client.get(f"/seller/orders/{order.number}").get_data(as_text=True)
    assert HELD in page and "Ship package" not in page
    response = seller_post(client, order, "ship", carrier="manual", tracking_number="PKG-000001")
    assert response.status_code == 422 and HELD in response.get_data(as_text=True)
    assert Shipment.select().count() == 0 and fresh(order).shipped_count == 0


def test_split_shipping_waits_too(order, buyer, seller):
    line = OrderLine.get(OrderLine.order == order.id)
    requests.buyer_cancel(fresh(order), buyer=buyer, reason="", version=fresh(order).version)
    with pytest.raises(fulfilment.FulfilmentError, match="to cancel the order"):
        fulfilment.ship(fresh(order), fulfilment.Package({line.id: 1}, "manual", "Manual",
                                                         "PKG-000001"),
                        version=fresh(order).version, actor=seller)
    assert Shipment.select().count() == 0


def test_no_label_is_bought_while_an_address_change_waits(client, auth, order, buyer, shop,
                                                          monkeypatch):
    enable(shop, "demo")
    ask_new_address(order, buyer)
    bought = []
    real = shipping.buy_label
    monkeypatch.setattr(shipping, "buy_label", lambda *a, **k: bought.append(a) or real(*a, **k))
    auth.login(SELLER)
    response = seller_post(client, order, "label", rate="demo:ground")
    assert response.status_code == 422 and HELD in response.get_data(as_text=True)
    assert bought == [] and Shipment.select().count() == 0


def test_csv_shipping_waits_and_says_why(client, auth, order, buyer, shop):
    other = make_order(buyer, shop, status="processed")
    ask_new_address(order, buyer)
    auth.login(SELLER)
    text = f"{order.number},manual,PKG-000001\n{other.number},manual,PKG-000002\n"
    response = client.post("/seller/orders/ship-csv", data={
        "file": (io.BytesIO(text.encode()), "ship.csv")}, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "1 of 2 rows shipped." in html
    assert f"Order {order.number} {HELD}" in html
    assert fresh(order).shipped_count == 0 and fresh(other).status == "shipped"
    # Once answered, it ships (to the new address).
    request = OrderRequest.get(OrderRequest.order == order.id)
    assert client.post(f"/seller/orders/{order.number}/requests/{request.id}",
                       data={"decision": "approve"}).status_code == 303
    text = f"{order.number},manual,PKG-000003\n"
    html = client.post("/seller/orders/ship-csv", data={
        "file": (io.BytesIO(text.encode()), "ship.csv")},
        content_type="multipart/form-data").get_data(as_text=True)
    assert "1 of 1 rows shipped." in html or "1 of 1 row shipped." in html
    assert (fresh(order).status, fresh(order).ship_city) == ("shipped", "Austin")


def test_shipping_closes_a_modification_the_buyer_then_reads_why(client, auth, buyer, shop,
                                                                 catalogue, seller):
    shirt_m, shirt_l = catalogue
    order = make_order(buyer, shop, status="processed", variants=(shirt_m,),
                       products=(("Linen shirt", 3900, 2),))
    line = OrderLine.get(OrderLine.order == order.id)
    requests.buyer_modify(fresh(order), shop, {line.id: (shirt_l.id, 2)}, buyer=buyer,
                          reason="", now=utcnow())
    fulfilment.ship(fresh(order), fulfilment.Package({line.id: 1}, "manual", "Manual",
                                                     "PKG-000001"),
                    version=fresh(order).version, actor=seller)
    request = OrderRequest.get(OrderRequest.order == order.id)
    assert request.status == "closed" and "has shipped" in request.response
    auth.login()
    page = client.get(f"/orders/{order.number}").get_data(as_text=True)
    assert "No longer possible" in page
    assert "Why: the order has shipped, so its items can no longer change." in page
    assert "Request for modification closed: the order has shipped" in page  # timeline


def test_cancelling_closes_what_was_asked_of_the_order(client, auth, order, buyer, seller):
    ask_new_address(order, buyer)
    fulfilment.cancel(fresh(order), reason="Out of stock", version=fresh(order).version,
                      actor=seller, actor_role="seller")
    request = OrderRequest.get(OrderRequest.order == order.id)
    assert (request.status, request.response) == ("closed", "the order was cancelled.")
    assert requests.requests_of(order)[0].status == "closed"
    auth.login(SELLER)
    assert "Buyer requests" not in client.get(f"/seller/orders/{order.number}").get_data(as_text=True)


def test_the_buyer_sees_what_they_asked_for(client, auth, buyer, shop, catalogue):
    shirt_m, shirt_l = catalogue
    order = make_order(buyer, shop, status="processed", variants=(shirt_m,),
                       products=(("Linen shirt", 3900, 2),))
    line = OrderLine.get(OrderLine.order == order.id)
    ask_new_address(order, buyer)
    requests.buyer_modify(fresh(order), shop, {line.id: (shirt_l.id, 3)}, buyer=buyer,
                          reason="Bigger please", now=utcnow())
    auth.login()
    page = client.get(f"/orders/{order.number}").get_data(as_text=True)
    assert "You asked to ship to: Bea Buyer, 9 New Road, AUSTIN, TX 78701" in page
    assert "Linen shirt (M, White) × 2 → Linen shirt (L, White) × 3" in page
    assert "$48.00 more to pay if the shop agrees" in page  # 3 × $42.00 − 2 × $39.00
    assert "Your reason: “Bigger please”" in page


def test_a_modification_checks_stock_when_it_is_asked(client, auth, buyer, shop, catalogue):
    shirt_m, shirt_l = catalogue  # 3 of L in stock
    order = make_order(buyer, shop, status="processed", variants=(shirt_m,),
                       products=(("Linen shirt", 3900, 2),))
    line = OrderLine.get(OrderLine.order == order.id)
    auth.login()
    response = client.post(f"/orders/{order.number}/modification", data={
        "version": fresh(order).version, "reason": "",
        f"variant-{line.id}": str(shirt_l.id), f"qty-{line.id}": "4"})
    assert response.status_code == 422
    assert "Linen shirt (L, White): only 3 available, not 4." in response.get_data(as_text=True)
    assert OrderRequest.select().count() == 0
    # More of the same size counts what the order already set aside (2 + 10 in stock).
    Variant.update(stock=1).where(Variant.id == shirt_m.id).execute()
    ok = client.post(f"/orders/{order.number}/modification", data={
        "version": fresh(order).version, f"variant-{line.id}": str(shirt_m.id),
        f"qty-{line.id}": "3"})
    assert ok.status_code == 303 and OrderRequest.select().count() == 1


def test_opening_a_request_keeps_the_orders_updated_at(order, buyer):
    before = fresh(order)
    ask_new_address(order, buyer)
    after = fresh(order)
    assert after.version == before.version + 1 and after.updated_at == before.updated_at


def test_a_return_received_twice_refunds_once(buyer, shop, seller):
    order = make_order(buyer, shop, status="delivered")
    requests.buyer_return(order, shop, buyer=buyer, reason="Too small",
                          today=utcnow().date() + timedelta(days=1))
    request = OrderRequest.get()
    requests.decide(request, fresh(order), approve=True, seller=seller)
    # Two tabs, each with its copy of the approved return, press "received".
    first, second = OrderRequest.get_by_id(request.id), OrderRequest.get_by_id(request.id)
    order_copy = fresh(order)
    requests.receive_return(first, fresh(order), seller=seller, version=order_copy.version)
    with pytest.raises(RequestRefused, match="already received") as refused:
        requests.receive_return(second, order_copy, seller=seller, version=order_copy.version)
    assert refused.value.code == "return.already_received"
    assert OrderEvent.select().where(OrderEvent.message.contains("Returned")).count() == 1
