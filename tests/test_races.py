"""Races: many posts at once on one order, each thread with its own database connection
(SQLite here, PostgreSQL with PORTAL_TEST_DATABASE_URL). Opening a request, answering it
and voiding a label each happen once, however many arrive together; the others are told."""

import threading
import time

import pytest
from peewee import IntegrityError

from portal.hooks import pluginmanager
from portal import shipping
from portal.db import database
from portal.models import Order, OrderEvent, OrderRequest, Shipment, Variant
from portal.orders import fulfilment, requests
from portal.orders.errors import OrderRefused
from portal.testing import enable
from tests.factories import PASSWORD, make_order, make_variant

N = 20


def race(n, action):
    """Run ``action(i)`` in ``n`` threads released at the same instant; return the results
    (or the exceptions raised) in order."""
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        try:
            barrier.wait()
            results[i] = action(i)
        except BaseException as exc:  # noqa: BLE001 (handed back to the test)
            results[i] = exc
        finally:
            if not database.is_closed():
                database.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def logged_in_clients(app, email, n):
    """``n`` clients sharing one log-in (one login post: the throttle is not the subject)."""
    first = app.test_client()
    assert first.post("/login", data={"email": email, "password": PASSWORD}).status_code in (302, 303)
    cookies = [(c.key, c.value) for c in [first.get_cookie("session"),
                                           first.get_cookie("remember_token")] if c]
    clients = []
    for _ in range(n):
        client = app.test_client()
        for key, value in cookies:
            client.set_cookie(key, value)
        clients.append(client)
    return clients


@pytest.fixture
def processed(buyer, shop):
    shirt = make_variant(shop, "Linen shirt", stock=10)
    return make_order(buyer, shop, status="processed", variants=(shirt,),
                      products=(("Linen shirt", 3900, 2),))


def waiting(order, kind=None):
    query = OrderRequest.select().where((OrderRequest.order == order.id)
                                        & OrderRequest.status.in_(["open", "approved"]))
    return list(query.where(OrderRequest.kind == kind) if kind else query)


def test_the_database_refuses_a_second_waiting_request_of_a_kind(processed, buyer, shop):
    def ask():
        return OrderRequest.create(order=processed.id, shop=shop.id, kind="cancellation",
                                   created_by=buyer)
    ask()
    with pytest.raises(IntegrityError), database.atomic():
        ask()
    # Another kind may wait beside it, and once answered the same kind may be asked again.
    OrderRequest.create(order=processed.id, shop=shop.id, kind="address_change", created_by=buyer)
    OrderRequest.update(status="refused").where(OrderRequest.kind == "cancellation").execute()
    ask()
    assert len(waiting(processed)) == 2


def test_twenty_cancel_posts_at_once_open_one_request(app, processed, buyer, shop):
    clients = logged_in_clients(app, buyer.email, N)
    version = processed.version
    responses = race(N, lambda i: clients[i].post(f"/orders/{processed.number}/cancel",
                                                  data={"version": version, "reason": "Oops"}))
    codes = sorted(r.status_code for r in responses)
    assert codes.count(303) == 1 and codes.count(422) == N - 1, codes
    losers = [r.get_data(as_text=True) for r in responses if r.status_code == 422]
    assert all("You already asked for this (cancellation)" in page for page in losers)
    assert len(waiting(processed)) == 1
    assert OrderEvent.select().where((OrderEvent.order == processed.id)
                                     & (OrderEvent.kind == "request")).count() == 1


def test_approve_and_refuse_at_once_one_answer_wins(app, processed, buyer, shop, seller):
    requests.buyer_cancel(processed, buyer=buyer, reason="Changed my mind",
                          version=processed.version)
    request = waiting(processed)[0]
    clients = logged_in_clients(app, seller.email, N)
    url = f"/seller/orders/{processed.number}/requests/{request.id}"
    responses = race(N, lambda i: clients[i].post(url, data={
        "decision": "approve" if i % 2 else "refuse", "response": "" if i % 2 else "Too late"}))
    codes = sorted(r.status_code for r in responses)
    assert codes.count(303) == 1 and all(c in (409, 422) for c in codes if c != 303), codes
    assert all("already" in r.get_data(as_text=True) or "changed by someone else"
               in r.get_data(as_text=True) for r in responses if r.status_code != 303)
    answered = OrderRequest.get_by_id(request.id)
    order = Order.get_by_id(processed.id)
    # The request and the order tell the same story.
    assert (answered.status, order.status) in [("completed", "cancelled"),
                                               ("refused", "processed")]
    answers = OrderEvent.select().where((OrderEvent.order == processed.id)
                                        & OrderEvent.message.startswith("Request for"))
    assert answers.count() == 1


def test_answers_in_threads_at_the_domain_level(processed, buyer, seller):
    """The same race without HTTP: every thread holds its own copy of the order."""
    requests.buyer_cancel(processed, buyer=buyer, reason="", version=processed.version)
    request_id = waiting(processed)[0].id

    def answer(i):
        with database.connection_context():
            order = Order.get_by_id(processed.id)
            request = OrderRequest.get_by_id(request_id)
            requests.decide(request, order, approve=bool(i % 2), seller=seller,
                            response="" if i % 2 else "No")
            return "won"

    results = race(N, answer)
    assert results.count("won") == 1
    assert all(isinstance(r, OrderRefused) and r.code in ("request.already_answered", "order.stale")
               for r in results if r != "won"), results
    final = OrderRequest.get_by_id(request_id).status
    assert (final == "completed") == (Order.get_by_id(processed.id).status == "cancelled")
    stock = Variant.select().get().stock
    assert stock == (12 if final == "completed" else 10)  # restocked once, or not at all


def test_a_request_opened_after_the_seller_loaded_the_page_makes_the_ship_form_stale(
        client, auth, processed, buyer, seller):
    version_seen_by_seller = processed.version
    requests.buyer_change_address(
        processed, _address_check(), buyer=buyer, version=processed.version)
    auth.login(seller.email)
    response = client.post(f"/seller/orders/{processed.number}/ship", data={
        "version": version_seen_by_seller, "carrier": "manual", "tracking_number": "PKG-000001"})
    assert response.status_code == 409
    assert Order.get_by_id(processed.id).shipped_count == 0


def _address_check():
    from portal.addresses import check_address
    return check_address({"name": "Bea Buyer", "line1": "9 New Road", "line2": "",
                          "city": "Austin", "region": "TX", "postal_code": "78701",
                          "country": "US", "phone": ""})


@pytest.fixture
def labelled(shop, buyer):
    enable(shop, "demo")
    order = make_order(buyer, shop, status="processed")
    label = shipping.buy_label(shop, order, "demo", "express")
    package = fulfilment.Package(fulfilment.remaining(order), label.carrier_code, "Demo Parcel",
                                 label.tracking_number, label.tracking_url,
                                 shipping.label_shipment_fields(label))
    return fulfilment.ship(order, package, version=order.version, actor=shop.owner)


def test_void_posted_twice_asks_the_carrier_once(app, labelled, seller, monkeypatch):
    calls = []
    real_call = pluginmanager.call

    def slow_call(name, hook, **kwargs):
        if hook == "carrier_void_label":
            calls.append(name)
            time.sleep(0.3)  # the carrier takes its time: the second post arrives meanwhile
        return real_call(name, hook, **kwargs)

    monkeypatch.setattr(pluginmanager, "call", slow_call)
    clients = logged_in_clients(app, seller.email, 4)
    url = f"/seller/shipments/{labelled.id}/label/void"
    responses = race(4, lambda i: clients[i].post(url))
    assert [r.status_code for r in responses] == [303] * 4  # no 500
    assert len(calls) == 1
    flashes = [clients[i].get(f"/seller/shipments/{labelled.id}/label").get_data(as_text=True)
               for i in range(4)]
    assert sum("This label is already void" in page for page in flashes) == 3
    order = Order.get_by_id(labelled.order_id)
    assert order.status == "processed" and order.shipped_count == 0
    assert OrderEvent.select().where(OrderEvent.kind == "unshipped").count() == 1
    assert Shipment.get_by_id(labelled.id).label_voided_at is not None


def test_a_void_the_carrier_refuses_leaves_the_label_standing(app, labelled, shop, monkeypatch):
    real_call = pluginmanager.call

    def refusing(name, hook, **kwargs):
        if hook == "carrier_void_label":
            return pluginmanager.Outcome(name, value=False)  # "no" without a reason
        return real_call(name, hook, **kwargs)

    monkeypatch.setattr(pluginmanager, "call", refusing)
    with pytest.raises(shipping.ShippingRefused):
        shipping.void_label(shop, Shipment.get_by_id(labelled.id))
    assert Shipment.get_by_id(labelled.id).label_voided_at is None
    assert Order.get_by_id(labelled.order_id).status == "shipped"
