"""After the purchase: what buyers ask, what sellers answer."""

import json
from datetime import timedelta

import pytest

from portal.models import (Order, OrderEvent, OrderLine, OrderRequest, Product, Shipment,
                           Variant, utcnow)
from tests.factories import make_order, make_shipment, make_variant

ADDRESS = {"name": "Bea Buyer", "line1": "9 New Road", "line2": "", "city": "Austin",
           "region": "TX", "postal_code": "78701", "country": "US", "phone": ""}


@pytest.fixture
def catalogue(shop):
    shirt_m = make_variant(shop, "Linen shirt", size="M", colour="White", price=3900, stock=10)
    shirt_l = make_variant(shop, shirt_m.product, size="L", colour="White", price=4200, stock=3)
    mug = make_variant(shop, "Ceramic mug", size="One", colour="Sand", price=1600, stock=5)
    return shirt_m, shirt_l, mug


def order_in(status, buyer, shop, catalogue, **kwargs):
    shirt_m, _, mug = catalogue
    return make_order(buyer, shop, status=status, variants=(shirt_m, mug),
                      products=(("Linen shirt", 3900, 2), ("Ceramic mug", 1600, 1)), **kwargs)


def fresh(order):
    return Order.get_by_id(order.id)


def post(client, order, action, **data):
    data.setdefault("version", fresh(order).version)
    return client.post(f"/orders/{order.number}/{action}", data=data)


def as_seller(client, auth):
    auth.logout()
    auth.login("seller@example.com")


def decide(client, order, decision, response=""):
    request = OrderRequest.get(OrderRequest.order == order.id)
    return client.post(f"/seller/orders/{order.number}/requests/{request.id}",
                       data={"decision": decision, "response": response})


def test_a_pending_order_is_cancelled_at_once(client, auth, buyer, shop, catalogue, seller):
    order = order_in("pending", buyer, shop, catalogue)
    auth.login()
    page = client.get(f"/orders/{order.number}").get_data(as_text=True)
    assert "Need a change?" in page and ">Cancel order</button>" in page
    response = post(client, order, "cancel", reason="Bought it elsewhere")
    assert response.status_code == 303
    assert fresh(order).status == "cancelled"
    assert Variant.get_by_id(catalogue[0].id).stock == 12  # the two shirts are back
    assert "Your order is cancelled." in client.get(f"/orders/{order.number}").get_data(as_text=True)
    event = OrderEvent.get(OrderEvent.kind == "status_changed")
    assert event.actor_role == "buyer" and "Bought it elsewhere" in event.message


def test_a_processed_order_asks_the_seller_who_approves(client, auth, buyer, shop, catalogue,
                                                        seller):
    order = order_in("processed", buyer, shop, catalogue)
    auth.login()
    assert post(client, order, "cancel", reason="Changed my mind").status_code == 303
    assert fresh(order).status == "processed"
    page = client.get(f"/orders/{order.number}").get_data(as_text=True)
    assert "we asked them to cancel it" in page and "Waiting for the shop" in page
    # Asked once, the page offers it no more (the actions say so); the address still can.
    assert "Ask the shop to cancel" not in page and "Ask for this address" in page
    again = post(client, order, "cancel", reason="Please")
    assert again.status_code == 422 and "You already asked for this" in again.get_data(as_text=True)

    as_seller(client, auth)
    assert order.number in client.get("/seller/orders?status=requests").get_data(as_text=True)
    assert 'Requests <span class="count">1</span>' in client.get("/seller/orders").get_data(as_text=True)
    assert "Cancellation" in client.get("/seller/").get_data(as_text=True)
    seller_page = client.get(f"/seller/orders/{order.number}").get_data(as_text=True)
    assert "Buyer requests" in seller_page and "“Changed my mind”" in seller_page
    assert decide(client, order, "approve").status_code == 303
    assert fresh(order).status == "cancelled"
    assert OrderRequest.get().status == "completed"
    assert "Requests <span class=\"count\">0</span>" in client.get("/seller/orders").get_data(as_text=True)


def test_a_shipped_order_can_no_longer_be_cancelled_or_readdressed(client, auth, buyer, shop,
                                                                  catalogue):
    order = order_in("shipped", buyer, shop, catalogue)
    auth.login()
    page = client.get(f"/orders/{order.number}").get_data(as_text=True)
    assert "Need a change?" not in page
    refused = post(client, order, "cancel")
    assert refused.status_code == 422 and "can no longer be cancelled" in refused.get_data(as_text=True)
    moved = post(client, order, "address", **ADDRESS)
    assert moved.status_code == 422 and "its address can no longer change" in moved.get_data(as_text=True)
    assert OrderRequest.select().count() == 0 and fresh(order).ship_city == "Portland"


def test_address_changes_at_once_while_pending(client, auth, buyer, shop, catalogue):
    order = order_in("pending", buyer, shop, catalogue)
    auth.login()
    bad = post(client, order, "address", **{**ADDRESS, "postal_code": "XYZ"})
    assert bad.status_code == 422
    assert 'id="postal_code-error">This does not look right' in bad.get_data(as_text=True)
    assert post(client, order, "address", **ADDRESS).status_code == 303
    assert (fresh(order).ship_line1, fresh(order).ship_city) == ("9 New Road", "Austin")
    event = OrderEvent.get(OrderEvent.kind == "address_changed")
    assert event.actor_role == "buyer" and json.loads(event.before)["city"] == "Portland"


def test_address_change_on_a_processed_order_waits_for_the_seller(client, auth, buyer, shop,
                                                                 catalogue, seller):
    order = order_in("processed", buyer, shop, catalogue)
    auth.login()
    assert post(client, order, "address", **ADDRESS).status_code == 303
    assert fresh(order).ship_city == "Portland"
    as_seller(client, auth)
    seller_page = client.get(f"/seller/orders/{order.number}").get_data(as_text=True)
    now, asked = seller_page.split("<h3>Ships to now</h3>")[1].split("<h3>The buyer asks for</h3>")
    assert "1 Main Street" in now and "9 New Road" not in now  # old beside new
    assert "9 New Road" in asked.split("</address>")[0] and "AUSTIN" in asked.split("</address>")[0]
    assert decide(client, order, "approve").status_code == 303
    assert fresh(order).ship_city == "Austin"


def test_refusing_needs_an_answer_the_buyer_then_reads(client, auth, buyer, shop, catalogue,
                                                       seller):
    order = order_in("processed", buyer, shop, catalogue)
    auth.login()
    post(client, order, "address", **ADDRESS)
    as_seller(client, auth)
    silent = decide(client, order, "refuse")
    assert silent.status_code == 422 and "Tell the buyer why you refuse." in silent.get_data(as_text=True)
    assert decide(client, order, "refuse", "Already packed for Portland").status_code == 303
    assert OrderRequest.get().status == "refused" and fresh(order).ship_city == "Portland"
    auth.logout()
    auth.login()
    page = client.get(f"/orders/{order.number}").get_data(as_text=True)
    assert "Refused" in page and "The shop says: Already packed for Portland" in page
    assert decide(client, order, "approve").status_code == 404  # a buyer cannot decide


def test_modification_inside_the_window_is_applied_when_approved(client, auth, buyer, shop,
                                                                 catalogue, seller):
    shirt_m, shirt_l, mug = catalogue
    order = order_in("pending", buyer, shop, catalogue)
    shirt_line, mug_line = OrderLine.select().where(OrderLine.order == order.id).order_by(OrderLine.id)
    auth.login()
    page = client.get(f"/orders/{order.number}").get_data(as_text=True)
    assert "Ask for another size, colour or quantity" in page and "L, White · $42.00" in page
    nothing = post(client, order, "modification")
    assert nothing.status_code == 422 and "Change a size, colour or quantity first." in nothing.get_data(as_text=True)
    response = post(client, order, "modification", reason="Size up please", **{
        f"variant-{shirt_line.id}": str(shirt_l.id), f"qty-{shirt_line.id}": "1",
        f"variant-{mug_line.id}": str(mug.id), f"qty-{mug_line.id}": "1"})
    assert response.status_code == 303
    assert fresh(order).subtotal == 2 * 3900 + 1600  # nothing changes until the seller agrees
    as_seller(client, auth)
    seller_page = client.get(f"/seller/orders/{order.number}").get_data(as_text=True)
    assert "<td>Linen shirt (M, White) × 2</td><td>Linen shirt (L, White) × 1</td>" in seller_page
    assert "Total −$36.00 (back to the buyer)" in seller_page  # 1 × $42.00 instead of 2 × $39.00
    assert decide(client, order, "approve").status_code == 303
    assert fresh(order).subtotal == 4200 + 1600
    assert Variant.get_by_id(shirt_l.id).stock == 2 and Variant.get_by_id(shirt_m.id).stock == 12


def test_modification_window_closes(client, auth, buyer, shop, catalogue):
    old = order_in("pending", buyer, shop, catalogue, placed_at=utcnow() - timedelta(hours=13))
    shirt_line = OrderLine.select().where(OrderLine.order == old.id).order_by(OrderLine.id).first()
    auth.login()
    assert "Ask for another size" not in client.get(f"/orders/{old.number}").get_data(as_text=True)
    late = post(client, old, "modification", **{f"variant-{shirt_line.id}": str(catalogue[1].id),
                                                 f"qty-{shirt_line.id}": "1"})
    assert late.status_code == 422 and "Changes could be asked for until" in late.get_data(as_text=True)
    assert OrderRequest.select().count() == 0


def test_return_is_requested_received_refunded_and_restocked(client, auth, buyer, shop,
                                                             catalogue, seller):
    shirt_m, _, mug = catalogue
    order = order_in("delivered", buyer, shop, catalogue)
    make_shipment(order)
    Shipment.update(delivered_at=utcnow() - timedelta(days=3)).execute()
    Order.update(payment_status="paid").where(Order.id == order.id).execute()
    Product.update(returnable=False).where(Product.id == mug.product_id).execute()
    auth.login()
    page = client.get(f"/orders/{order.number}").get_data(as_text=True)
    assert "Return this order" in page
    shirt_line = OrderLine.get((OrderLine.order == order.id) & (OrderLine.variant == shirt_m.id))
    mug_line = OrderLine.get((OrderLine.order == order.id) & (OrderLine.variant == mug.id))
    # the page offers the returnable lines only (read with the order's lines)
    assert f'name="rqty-{shirt_line.id}"' in page and f'name="rqty-{mug_line.id}"' not in page
    assert post(client, order, "return", reason="").status_code == 422
    assert post(client, order, "return", **{f"rqty-{shirt_line.id}": "2",
                                            f"reason-{shirt_line.id}": "too_small"}
                ).status_code == 303
    as_seller(client, auth)
    seller_page = client.get(f"/seller/orders/{order.number}").get_data(as_text=True)
    assert "Return" in seller_page and "Linen shirt (M, White) × 2" in seller_page
    assert "Ceramic mug (One, Sand) × 1" not in seller_page.split("Buyer requests")[1].split("</section>")[0]
    assert decide(client, order, "approve").status_code == 303
    assert OrderRequest.get().status == "approved" and fresh(order).status == "delivered"
    request_id = OrderRequest.get().id
    received = client.post(f"/seller/orders/{order.number}/requests/{request_id}/received",
                           data={"version": fresh(order).version})
    assert received.status_code == 303
    stored = fresh(order)
    # The mug stays with the buyer (not returnable): the order is only partly returned.
    assert stored.status == "delivered" and stored.partly_returned
    assert stored.payment_status == "partially_refunded"
    assert Variant.get_by_id(shirt_m.id).stock == 12 and Variant.get_by_id(mug.id).stock == 5
    assert OrderRequest.get().status == "completed"


def test_return_window_and_policy(client, auth, buyer, shop, catalogue):
    late = order_in("delivered", buyer, shop, catalogue)
    make_shipment(late)
    Shipment.update(delivered_at=utcnow() - timedelta(days=31)).execute()
    auth.login()
    assert "Return this order" not in client.get(f"/orders/{late.number}").get_data(as_text=True)
    refused = post(client, late, "return", reason="Too late?")
    assert refused.status_code == 422 and "The return window closed" in refused.get_data(as_text=True)
    Shipment.update(delivered_at=utcnow()).execute()
    Product.update(returnable=False).execute()
    none = post(client, late, "return", reason="Broken")
    assert none.status_code == 422 and "does not take these products back" in none.get_data(as_text=True)
    assert OrderRequest.select().count() == 0


def test_nobody_else_can_ask_or_answer(client, auth, buyer, buyer2, shop, shop2, catalogue,
                                       seller2):
    order = order_in("processed", buyer, shop, catalogue)
    auth.login("buyer2@example.com")
    for action, data in (("cancel", {}), ("address", ADDRESS), ("modification", {}),
                         ("return", {"reason": "x"})):
        assert post(client, order, action, **data).status_code == 404
    assert OrderRequest.select().count() == 0
    auth.logout()
    auth.login()
    post(client, order, "cancel", reason="Please")
    auth.logout()
    auth.login("seller2@example.com")
    assert decide(client, order, "approve").status_code == 404
    assert fresh(order).status == "processed" and OrderRequest.get().status == "open"


def test_a_stale_buyer_form_is_refused(client, auth, buyer, shop, catalogue):
    order = order_in("pending", buyer, shop, catalogue)
    auth.login()
    old = fresh(order).version
    assert post(client, order, "address", **ADDRESS).status_code == 303
    stale = post(client, order, "cancel", version=old)
    assert stale.status_code == 409 and "changed by someone else" in stale.get_data(as_text=True)
    assert fresh(order).status == "pending"


@pytest.mark.parametrize("action", ["cancel", "return", "modification"])
def test_a_missing_reason_field_is_not_a_crash(client, auth, buyer, shop, catalogue, action):
    order = order_in("delivered" if action == "return" else "processed", buyer, shop, catalogue)
    data = {"version": fresh(order).version}  # no "reason" at all
    if action == "modification":
        line = OrderLine.select().where(OrderLine.order == order.id).order_by(OrderLine.id).first()
        data.update({f"variant-{line.id}": str(catalogue[1].id), f"qty-{line.id}": "1"})
    auth.login()
    response = client.post(f"/orders/{order.number}/{action}", data=data)
    assert response.status_code == (422 if action == "return" else 303)
