"""Returns that finish: per-line items and reasons, the parcel back (never an outbound
parcel), receipt per line refunding the lines' share (and the shipping once), Returned
only when every item is back."""

import re
from datetime import timedelta

import pytest
from hypothesis import given, settings, strategies as st

from portal import outbox, payments
from portal.hooktypes import TrackingReport, TrackingStatus, TrackingUpdate
from portal.models import (Notification, Order, OrderLine, OrderRequest, PaymentTransaction,
                           ReturnItem, Shipment, TrackingEvent, utcnow)
from portal.orders import actions, ledger, queries, requests, returns
from portal.orders.errors import BadInput, RequestRefused
from portal.shipping import return_parcels, tracking
from portal.testing import easypost_event, enable, signed_post
from tests.factories import PASSWORD, make_order, make_shipment, make_variant

TODAY = utcnow().date()


def fresh(order) -> Order:
    return Order.get_by_id(order.id)


def deliver(app):
    with app.app_context():
        return outbox.deliver_due(app.extensions["portal.outbox_consumers"])


def discounted(buyer, shop, *, shipping=500):
    """2 × $39.00 shirts and 1 × $20.00 tote, delivered and paid, a $14.80 coupon spread
    over them ($11.70 on the shirts, $3.10 on the tote), $5.00 shipping."""
    shirt = make_variant(shop, "Linen shirt", price=3900, stock=10)
    tote = make_variant(shop, "Canvas tote", size="One", colour="Sand", price=2000, stock=10)
    order = make_order(buyer, shop, status="delivered", variants=(shirt, tote), shipping=shipping,
                       products=(("Linen shirt", 3900, 2), ("Canvas tote", 2000, 1)))
    shirts, totes = OrderLine.select().where(OrderLine.order == order.id).order_by(OrderLine.id)
    OrderLine.update(discount=1170).where(OrderLine.id == shirts.id).execute()
    OrderLine.update(discount=310).where(OrderLine.id == totes.id).execute()
    Order.update(discount_total=1480, total=order.total - 1480).where(
        Order.id == order.id).execute()
    # What the buyer paid is the discounted total (the factory took the list price).
    PaymentTransaction.update(amount=order.total - 1480).where(
        PaymentTransaction.order == order.id).execute()
    make_shipment(order)
    Shipment.update(delivered_at=utcnow(), status="delivered").execute()
    return fresh(order), OrderLine.get_by_id(shirts.id), OrderLine.get_by_id(totes.id)


def ask(order, shop, buyer, *items):
    return requests.buyer_return(fresh(order), shop, buyer=buyer, today=TODAY,
                                 items=[returns.Wanted(*item) for item in items])


def approve_and_receive(order, request, seller, received=None, shipping=False) -> int:
    requests.decide(request, fresh(order), approve=True, seller=seller)
    request = OrderRequest.get_by_id(request.id)
    refunded = requests.receive_return(request, fresh(order), seller=seller,
                                       version=fresh(order).version, received=received,
                                       refund_shipping=shipping)
    payments.settle(order.id)
    return refunded


def refunds(order) -> list[int]:
    return [r.amount for r in ledger.rows_of(order.id) if r.kind == "refund"]


# -- asking: lines, quantities, reasons ---------------------------------------------------

@pytest.mark.parametrize("item, code, words", [
    ((3, "too_small", ""), "return.bad_quantity", "from 1 to 2"),
    ((1, "", ""), "return.no_reason", "choose why"),
    ((1, "bored", ""), "return.no_reason", "choose why"),
    ((1, "other", "  "), "return.no_words", "tell the shop why"),
])
def test_each_line_is_checked_with_a_clear_message(buyer, shop, item, code, words):
    order, shirts, _ = discounted(buyer, shop)
    with pytest.raises(BadInput) as refused:
        ask(order, shop, buyer, (shirts.id, *item))
    assert refused.value.code == code and words in str(refused.value)
    assert "Linen shirt" in str(refused.value)
    assert OrderRequest.select().count() == 0 and ReturnItem.select().count() == 0


def test_nothing_chosen_or_another_orders_line_is_refused(buyer, shop):
    order, shirts, _ = discounted(buyer, shop)
    other, other_shirts, _ = discounted(buyer, shop)
    with pytest.raises(BadInput, match="at least one item"):
        ask(order, shop, buyer, (shirts.id, 0, "", ""))
    with pytest.raises(BadInput, match="not one you can return"):
        ask(order, shop, buyer, (other_shirts.id, 1, "too_small", ""))


def test_what_was_asked_or_returned_cannot_be_asked_again(buyer, shop, seller):
    order, shirts, tote = discounted(buyer, shop)
    first = ask(order, shop, buyer, (shirts.id, 1, "too_small", ""))
    assert returns.available([shirts, tote], order) == {shirts.id: 1, tote.id: 1}
    approve_and_receive(order, first, seller)
    with pytest.raises(BadInput, match="from 1 to 1"):
        ask(order, shop, buyer, (shirts.id, 2, "too_small", ""))
    second = ask(order, shop, buyer, (shirts.id, 1, "other", "the colour"))
    assert [i.note for i in returns.items_of([second.id])[second.id]] == ["the colour"]


def test_the_seller_sees_items_and_reasons(client, auth, buyer, shop):
    order, shirts, tote = discounted(buyer, shop)
    ask(order, shop, buyer, (shirts.id, 1, "not_as_described", "thinner than shown"),
        (tote.id, 1, "damaged", ""))
    auth.login("seller@example.com")
    page = client.get(f"/seller/orders/{order.number}").get_data(as_text=True)
    assert "Linen shirt (M, White) × 1: Not as described (thinner than shown)" in page
    assert "Canvas tote (One, Sand) × 1: Arrived damaged" in page


def test_the_buyer_form_posts_lines_and_says_what_is_wrong(client, auth, buyer, shop):
    order, shirts, tote = discounted(buyer, shop)
    auth.login()
    page = client.get(f"/orders/{order.number}").get_data(as_text=True)
    assert f'name="rqty-{shirts.id}"' in page and "Arrived damaged" in page
    url, version = f"/orders/{order.number}/return", fresh(order).version
    bad = client.post(url, data={"version": version, f"rqty-{shirts.id}": "1",
                                 f"reason-{shirts.id}": "other"})
    assert bad.status_code == 422 and "tell the shop why in a few words" in bad.get_data(
        as_text=True)
    junk = client.post(url, data={"version": version, f"rqty-{shirts.id}": "½"})
    assert junk.status_code == 422 and "whole number" in junk.get_data(as_text=True)
    good = client.post(url, data={"version": version, f"rqty-{tote.id}": "1",
                                  f"reason-{tote.id}": "changed_mind"})
    assert good.status_code == 303
    assert [(i.order_line_id, i.quantity, i.reason) for i in ReturnItem.select()] == \
        [(tote.id, 1, "changed_mind")]


# -- the refund ------------------------------------------------------------------------------

def test_a_partial_return_after_a_coupon_refunds_the_lines_share(buyer, shop, seller):
    order, shirts, tote = discounted(buyer, shop)
    # One of two shirts: ($78.00 − $11.70) / 2 = $33.15.
    first = ask(order, shop, buyer, (shirts.id, 1, "too_small", ""))
    assert approve_and_receive(order, first, seller) == 3315
    assert refunds(order) == [3315]
    now = fresh(order)
    assert now.status == "delivered" and now.partly_returned and now.returned_count == 1
    # The other shirt ($66.30 − $33.15) and the tote ($20.00 − $3.10), with the shipping.
    second = ask(order, shop, buyer, (shirts.id, 1, "too_small", ""),
                 (tote.id, 1, "changed_mind", ""))
    assert approve_and_receive(order, second, seller, shipping=True) == 3315 + 1690 + 500
    assert refunds(order) == [3315, 3315 + 1690 + 500]
    now = fresh(order)
    assert now.status == "returned" and not now.partly_returned
    assert now.payment_status == "refunded"  # all that was paid: 9800 − 1480 + 500
    assert sum(refunds(order)) == 9800 - 1480 + 500


def test_the_shipping_is_refunded_once(buyer, shop, seller):
    order, shirts, tote = discounted(buyer, shop)
    first = ask(order, shop, buyer, (tote.id, 1, "damaged", ""))
    assert approve_and_receive(order, first, seller, shipping=True) == 1690 + 500
    second = ask(order, shop, buyer, (shirts.id, 2, "too_small", ""))
    assert approve_and_receive(order, second, seller, shipping=True) == 7800 - 1170
    assert OrderRequest.get_by_id(second.id).shipping_refunded == 0
    assert fresh(order).status == "returned"


def test_only_what_came_back_is_refunded_and_the_rest_may_come_later(buyer, shop, seller):
    order, shirts, tote = discounted(buyer, shop)
    asked = ask(order, shop, buyer, (shirts.id, 2, "too_small", ""))
    assert approve_and_receive(order, asked, seller, received={shirts.id: 1}) == 3315
    assert fresh(order).returned_count == 1
    assert returns.available([shirts, tote], order) == {shirts.id: 1, tote.id: 1}


def test_a_received_count_above_what_was_asked_is_refused(buyer, shop, seller):
    order, shirts, _ = discounted(buyer, shop)
    asked = ask(order, shop, buyer, (shirts.id, 1, "too_small", ""))
    with pytest.raises(BadInput, match="from 0 to 1"):
        approve_and_receive(order, asked, seller, received={shirts.id: 2})
    assert OrderRequest.get_by_id(asked.id).status == "approved" and refunds(order) == []


def test_a_double_submit_refunds_once(client, auth, buyer, shop, seller):
    order, shirts, _ = discounted(buyer, shop)
    asked = ask(order, shop, buyer, (shirts.id, 1, "too_small", ""))
    requests.decide(asked, fresh(order), approve=True, seller=seller)
    auth.login("seller@example.com")
    url = f"/seller/orders/{order.number}/requests/{asked.id}/received"
    version = fresh(order).version
    assert client.post(url, data={"version": version}).status_code == 303
    again = client.post(url, data={"version": version})
    assert again.status_code in (404, 422)
    assert refunds(order) == [3315]


def test_never_more_than_was_paid_and_not_refunded(buyer, shop, seller):
    order, shirts, tote = discounted(buyer, shop)
    payments.refund(order, 9800 - 1480 + 500 - 1000, reason="goodwill", actor=seller)
    asked = ask(order, shop, buyer, (shirts.id, 2, "too_small", ""), (tote.id, 1, "damaged", ""))
    assert approve_and_receive(order, asked, seller, shipping=True) == 1000
    assert ledger.totals_of(order.id).refundable == 0


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 20).flatmap(lambda quantity: st.tuples(
    st.just(quantity), st.integers(0, 10**7), st.integers(0, 100),
    st.lists(st.integers(1, quantity), max_size=quantity))))
def test_partial_returns_add_up_to_the_lines_share_never_more(case):
    quantity, unit, percent, parts = case
    total = unit * quantity
    line = OrderLine(quantity=quantity, line_total=total, discount=total * percent // 100)
    back, paid = 0, 0
    for part in parts:
        part = min(part, quantity - back)
        refund = returns.line_refund(line, back, part)
        assert refund >= 0
        back, paid = back + part, paid + refund
    assert paid <= line.line_total - line.discount
    assert paid == returns.share(line, back)
    if back == quantity:
        assert paid == line.line_total - line.discount


# -- the parcel back ---------------------------------------------------------------------------

def test_the_return_parcel_never_counts_as_outbound(app, buyer, shop, seller):
    enable(shop, "demo")
    order, shirts, _ = discounted(buyer, shop)
    outbound = fresh(order)
    delivered_on = actions.delivered_on(outbound)
    asked = ask(order, shop, buyer, (shirts.id, 1, "too_small", ""))
    requests.decide(asked, fresh(order), approve=True, seller=seller)
    parcel = return_parcels.enter_tracking(shop, fresh(order), OrderRequest.get_by_id(asked.id),
                                           "dp 1234567890", buyer=buyer)
    assert (parcel.direction, parcel.carrier_code, parcel.tracking_number) == \
        ("return", "demo", "DP1234567890")
    tracking.apply(parcel, TrackingReport(parcel.tracking_number, (
        TrackingUpdate(utcnow() + timedelta(days=2), TrackingStatus.DELIVERED, "Delivered",
                       external_id="r-1"),)))
    now = fresh(order)
    assert (now.status, now.shipped_count) == ("delivered", outbound.shipped_count)
    assert [s.direction for s in queries.shipments_with_tracking(now)] == ["out"]
    assert actions.delivered_on(now) == delivered_on  # the return window does not move
    assert Shipment.get_by_id(parcel.id).status == "delivered"
    deliver(app)
    told = [(n.kind, n.user_id) for n in Notification.select().order_by(Notification.id)]
    assert ("return_delivered", seller.id) in told
    assert not [k for k, user in told if user == buyer.id and k in ("delivered", "shipped",
                                                                      "out_for_delivery")]


def test_a_bad_tracking_number_is_refused_with_the_carriers_words(client, auth, buyer, shop,
                                                                  seller):
    enable(shop, "demo")
    order, shirts, _ = discounted(buyer, shop)
    asked = ask(order, shop, buyer, (shirts.id, 1, "too_small", ""))
    requests.decide(asked, fresh(order), approve=True, seller=seller)
    auth.login()
    url = f"/orders/{order.number}/returns/{asked.id}/tracking"
    bad = client.post(url, data={"tracking_number": "nonsense"})
    assert bad.status_code == 422 and "recognises NONSENSE" in bad.get_data(as_text=True)
    assert client.post(url, data={"tracking_number": ""}).status_code == 422
    assert client.post(url, data={"tracking_number": "DP1234567890"}).status_code == 303
    page = client.get(f"/orders/{order.number}").get_data(as_text=True)
    assert "DP1234567890" in page and "Correct the tracking number" in page


def test_a_carrier_webhook_follows_a_return_parcel(app, client, buyer, shop, seller):
    enable(shop, "usps")
    enable(shop, "easypost")
    order, shirts, _ = discounted(buyer, shop)
    asked = ask(order, shop, buyer, (shirts.id, 1, "too_small", ""))
    requests.decide(asked, fresh(order), approve=True, seller=seller)
    number = "9405511899223197428490"
    parcel = return_parcels.enter_tracking(shop, fresh(order), OrderRequest.get_by_id(asked.id),
                                           number, buyer=buyer)
    assert parcel.carrier_code == "usps"  # detected, like an outbound parcel's number
    event = easypost_event(number, [("in_transit", "Arrived at USPS facility"),
                                    ("delivered", "Delivered, in the shop's mailbox")])
    assert signed_post(client, "easypost", shop, event).json["new_events"] == 2
    assert Shipment.get_by_id(parcel.id).status == "delivered"
    now = fresh(order)
    assert (now.status, now.shipped_count) == ("delivered", order.shipped_count)
    deliver(app)
    assert Notification.select().where((Notification.user == seller.id)
                                       & (Notification.kind == "return_delivered")).count() == 1


def test_polling_follows_a_return_parcel(app, buyer, shop, seller):
    enable(shop, "demo")
    order, shirts, _ = discounted(buyer, shop)
    asked = ask(order, shop, buyer, (shirts.id, 1, "too_small", ""))
    requests.decide(asked, fresh(order), approve=True, seller=seller)
    parcel = return_parcels.enter_tracking(shop, fresh(order), OrderRequest.get_by_id(asked.id),
                                           "DP1234567890", buyer=buyer)
    with app.app_context():
        assert tracking.poll_shipments(now=utcnow() + timedelta(days=30)) > 0
    assert TrackingEvent.select().where(TrackingEvent.shipment == parcel.id).count() > 0
    assert fresh(order).status == "delivered"


def test_the_seller_buys_a_return_label_the_buyer_sees_it(app, client, auth, buyer, shop,
                                                          seller):
    enable(shop, "demo")
    Shop = type(shop)
    Shop.update(ship_from_line1="1 Dock Road", ship_from_city="Portland",
                ship_from_postal_code="97201", ship_from_region="OR").execute()
    order, shirts, _ = discounted(buyer, shop)
    asked = ask(order, shop, buyer, (shirts.id, 1, "too_small", ""))
    auth.login("seller@example.com")
    client.post(f"/seller/orders/{order.number}/requests/{asked.id}",
                data={"decision": "approve"})
    url = f"/seller/orders/{order.number}/requests/{asked.id}/label"
    assert client.post(url, data={"version": fresh(order).version}).status_code == 303
    parcel = Shipment.get(Shipment.direction == "return")
    assert parcel.label_id and parcel.label_service == "Demo Ground"
    assert OrderRequest.get_by_id(asked.id).return_shipment_id == parcel.id
    assert client.post(url, data={"version": fresh(order).version}).status_code == 422  # once
    assert fresh(order).shipped_count == order.shipped_count
    seller_page = client.get(f"/seller/orders/{order.number}").get_data(as_text=True)
    assert parcel.tracking_number in seller_page
    assert client.get(f"/seller/shipments/{parcel.id}/label").status_code == 404
    auth.logout()
    auth.login()
    page = client.get(f"/orders/{order.number}").get_data(as_text=True)
    assert "The shop bought a return label" in page and parcel.tracking_number in page
    assert "1 Dock Road" in page  # the return address: the ship-from one by default
    assert "save the tracking number" not in page
    deliver(app)
    kinds = [n.kind for n in Notification.select().where(Notification.user == buyer.id)]
    assert "request_answered" in kinds and "return_label" in kinds


def test_the_return_address_setting_is_what_the_buyer_sees(client, auth, buyer, shop, seller):
    auth.login("seller@example.com")
    form = client.get("/seller/settings").get_data(as_text=True)
    assert 'name="return_line1"' in form
    data = {"handling_days": "2", "modification_window_hours": "12", "return_window_days": "30",
            "flat_rate": "5.00", "flat_rate_days": "7", "timezone": "UTC",
            "ship_from_name": "Test Shop", "ship_from_line1": "1 Dock Road",
            "ship_from_city": "Portland", "ship_from_region": "OR", "ship_from_postal_code": "97201",
            "ship_from_country": "US", "return_name": "Returns desk",
            "return_line1": "9 Back Lane", "return_city": "Salem", "return_region": "OR",
            "return_postal_code": "97301", "return_country": "US"}
    assert client.post("/seller/settings", data=data).status_code == 303
    bad = client.post("/seller/settings", data={**data, "return_city": ""})
    assert bad.status_code == 422
    order, shirts, _ = discounted(buyer, shop)
    asked = ask(order, shop, buyer, (shirts.id, 1, "too_small", ""))
    requests.decide(asked, fresh(order), approve=True, seller=seller)
    auth.logout()
    auth.login()
    page = client.get(f"/orders/{order.number}").get_data(as_text=True)
    assert "Returns desk" in page and "9 Back Lane" in page


# -- the pages -----------------------------------------------------------------------------------

def test_partly_returned_shows_on_both_sides_and_the_refund_to_the_buyer(client, auth, buyer,
                                                                         shop, seller):
    order, shirts, _ = discounted(buyer, shop)
    approve_and_receive(order, ask(order, shop, buyer, (shirts.id, 1, "too_small", "")), seller)
    auth.login()
    assert "Partly returned" in client.get("/orders").get_data(as_text=True)
    page = client.get(f"/orders/{order.number}").get_data(as_text=True)
    assert "Partly returned" in page and "$33.15 refunded" in page
    auth.logout()
    auth.login("seller@example.com")
    assert "Partly returned" in client.get("/seller/orders").get_data(as_text=True)
    assert "Partly returned" in client.get(f"/seller/orders/{order.number}").get_data(as_text=True)


def test_the_seller_marks_what_came_back_on_the_page(client, auth, buyer, shop, seller):
    order, shirts, tote = discounted(buyer, shop)
    asked = ask(order, shop, buyer, (shirts.id, 2, "too_small", ""), (tote.id, 1, "damaged", ""))
    requests.decide(asked, fresh(order), approve=True, seller=seller)
    auth.login("seller@example.com")
    page = client.get(f"/seller/orders/{order.number}").get_data(as_text=True)
    assert f'name="received-{shirts.id}"' in page and "Refund the shipping too ($5.00)" in page
    url = f"/seller/orders/{order.number}/requests/{asked.id}/received"
    junk = client.post(url, data={"version": fresh(order).version, f"received-{shirts.id}": "x"})
    assert junk.status_code == 422 and "whole number" in junk.get_data(as_text=True)
    done = client.post(url, data={"version": fresh(order).version, f"received-{shirts.id}": "1",
                                  f"received-{tote.id}": "1", "refund_shipping": "1"})
    assert done.status_code == 303
    assert refunds(order) == [3315 + 1690 + 500]
    assert fresh(order).status == "delivered" and fresh(order).returned_count == 2


def test_the_buyer_is_told_of_the_refund(app, buyer, shop, seller):
    order, shirts, _ = discounted(buyer, shop)
    approve_and_receive(order, ask(order, shop, buyer, (shirts.id, 1, "too_small", "")), seller)
    deliver(app)
    said = {n.kind: n.text for n in Notification.select().where(Notification.user == buyer.id)}
    assert "refund of $33.15" in said["return_received"]
    assert "send the items back to" in said["request_answered"]


# -- access ------------------------------------------------------------------------------------

def test_nobody_else_reaches_a_return(client, auth, buyer, buyer2, shop, seller, seller2,
                                      shop2):
    order, shirts, _ = discounted(buyer, shop)
    asked = ask(order, shop, buyer, (shirts.id, 1, "too_small", ""))
    requests.decide(asked, fresh(order), approve=True, seller=seller)
    version = fresh(order).version
    auth.login("buyer2@example.com")
    assert client.post(f"/orders/{order.number}/returns/{asked.id}/tracking",
                       data={"tracking_number": "DP1234567890"}).status_code == 404
    assert client.post(f"/orders/{order.number}/return",
                       data={"version": version, f"rqty-{shirts.id}": "1",
                             f"reason-{shirts.id}": "too_small"}).status_code == 404
    auth.logout()
    auth.login("seller2@example.com")
    for action in ("label", "received"):
        response = client.post(f"/seller/orders/{order.number}/requests/{asked.id}/{action}",
                               data={"version": version})
        assert response.status_code == 404
    auth.logout()
    auth.login()  # the buyer: not the seller's buttons, and not another order's request
    assert client.post(f"/seller/orders/{order.number}/requests/{asked.id}/received",
                       data={"version": version}).status_code in (302, 403, 404)
    other, other_shirts, _ = discounted(buyer, shop)
    assert client.post(f"/orders/{other.number}/returns/{asked.id}/tracking",
                       data={"tracking_number": "DP1234567890"}).status_code == 404
    assert OrderRequest.get_by_id(asked.id).status == "approved"
    assert Shipment.select().where(Shipment.direction == "return").count() == 0
    assert PaymentTransaction.select().where(PaymentTransaction.kind == "refund").count() == 0


def _logged_in(app, email):
    client = app.test_client()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                      client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    return client


def test_the_new_forms_need_their_csrf_token(csrf_app, buyer, shop, seller):
    order, shirts, _ = discounted(buyer, shop)
    asked = ask(order, shop, buyer, (shirts.id, 1, "too_small", ""))
    requests.decide(asked, fresh(order), approve=True, seller=seller)
    version = fresh(order).version
    client = _logged_in(csrf_app, "buyer@example.com")
    assert client.post(f"/orders/{order.number}/returns/{asked.id}/tracking",
                       data={"tracking_number": "DP1234567890"}).status_code == 400
    seller_client = _logged_in(csrf_app, "seller@example.com")
    for action in ("label", "received"):
        assert seller_client.post(f"/seller/orders/{order.number}/requests/{asked.id}/{action}",
                                  data={"version": version}).status_code == 400
    assert Shipment.select().where(Shipment.direction == "return").count() == 0
    assert OrderRequest.get_by_id(asked.id).status == "approved"


def test_a_return_refused_stays_out_of_what_is_taken(buyer, shop, seller):
    order, shirts, tote = discounted(buyer, shop)
    asked = ask(order, shop, buyer, (shirts.id, 2, "too_small", ""))
    requests.decide(asked, fresh(order), approve=False, seller=seller, response="Worn")
    assert returns.available([shirts, tote], order) == {shirts.id: 2, tote.id: 1}
    with pytest.raises(RequestRefused):
        requests.receive_return(OrderRequest.get_by_id(asked.id), fresh(order), seller=seller,
                                version=fresh(order).version)


def test_a_return_is_not_approved_before_the_shop_has_an_address(app, client, auth, buyer,
                                                                 shop, seller):
    type(shop).update(ship_from_line1="", ship_from_city="").execute()
    order, shirts, _ = discounted(buyer, shop)
    asked = ask(order, shop, buyer, (shirts.id, 1, "too_small", ""))
    auth.login("seller@example.com")
    response = client.post(f"/seller/orders/{order.number}/requests/{asked.id}",
                           data={"decision": "approve"}, follow_redirects=True)
    assert "Add your return address" in response.get_data(as_text=True)
    assert OrderRequest.get_by_id(asked.id).status == "open"
    type(shop).update(return_line1="9 Back Lane", return_city="Salem", return_region="OR",
                      return_postal_code="97301", return_country="US").execute()
    client.post(f"/seller/orders/{order.number}/requests/{asked.id}", data={"decision": "approve"})
    assert OrderRequest.get_by_id(asked.id).status == "approved"
    auth.logout()
    auth.login()
    assert "9 Back Lane" in client.get(f"/orders/{order.number}").get_data(as_text=True)
