"""Placing an order (portal.orders.placing, portal.checkout): one transaction, stock never
oversold, one order and one authorisation per checkout token, a decline gives the cart back.
Races run real threads against the SQLite file (PostgreSQL with PORTAL_TEST_DATABASE_URL)."""

import uuid

import pytest

from portal import cart, checkout
from portal.models import Cart, CartLine, Order, OrderEvent, OrderLine, OutboxEvent, \
    PaymentTransaction, Variant
from portal.orders.placing import CheckoutRefused, PaymentChoice, place_order
from portal.plugins import card
from tests.factories import make_user, make_variant
from tests.test_races import race

ADDRESS = dict(name="Ada Buyer", line1="1 Main St", city="Springfield", region="IL",
               postal_code="62701", country="US", phone="+12175550100")
CARD = PaymentChoice("card", "card", 0, "Card")
N = 20


def token():
    return uuid.uuid4().hex


def place(buyer, shop, key=None, **kw):
    kw.setdefault("shipping_total", 500)
    kw.setdefault("payment", CARD)
    return place_order(buyer, shop.id, checkout_token=key or token(), address=ADDRESS, **kw)


def pay(buyer, shop, number="4242424242424242", key=None, **kw):
    return checkout.place_and_pay(buyer, shop.id, checkout_token=key or token(), address=ADDRESS,
                                  shipping_total=kw.pop("shipping_total", 500),
                                  payment=kw.pop("payment", CARD),
                                  card_token=card.tokenize(number, "12/40", "123"), **kw)


def test_placing_writes_order_lines_timeline_outbox_ledger_and_empties_the_cart(buyer, shop):
    shirt = make_variant(shop, "Linen shirt", price=3900, stock=5)
    cart.add(buyer, shirt.id, 2)
    placed = place(buyer, shop, payment=PaymentChoice("cod", "cod", 250, "Cash"))
    order = Order.get_by_id(placed.order.id)
    assert placed.created and order.status == "pending" and order.payment_status == "awaiting"
    assert (order.subtotal, order.shipping_total, order.fee_total, order.total) == \
        (7800, 500, 250, 8550)
    assert [(line.quantity, line.unit_price) for line in OrderLine.select()
            .where(OrderLine.order == order.id)] == [(2, 3900)]
    assert Variant.get_by_id(shirt.id).stock == 3
    assert CartLine.select().count() == 0
    auth = placed.authorisation
    assert (auth.kind, auth.state, auth.amount, auth.plugin) == ("authorise", "pending", 8550, "cod")
    assert OrderEvent.get(OrderEvent.order == order.id).kind == "placed"
    assert OutboxEvent.select().where(OutboxEvent.kind == "placed").count() == 1


def test_a_changed_price_or_no_stock_refuses_and_writes_nothing(buyer, shop):
    shirt = make_variant(shop, "Linen shirt", price=3900, stock=5)
    cart.add(buyer, shirt.id, 2)
    with pytest.raises(CheckoutRefused) as refused:
        place(buyer, shop, expected_total=7800 + 500 - 1)
    assert refused.value.code == "checkout.price_changed"
    Variant.update(stock=1).where(Variant.id == shirt.id).execute()
    with pytest.raises(CheckoutRefused) as refused:
        place(buyer, shop)
    assert refused.value.code == "checkout.out_of_stock" and "only 1 left" in refused.value.message
    assert Order.select().count() == 0 and PaymentTransaction.select().count() == 0
    assert CartLine.get().quantity == 2 and Variant.get_by_id(shirt.id).stock == 1


def test_an_empty_cart_places_nothing(buyer, shop):
    with pytest.raises(CheckoutRefused) as refused:
        place(buyer, shop)
    assert refused.value.code == "checkout.empty"


def test_the_same_token_again_is_the_same_order(buyer, shop):
    cart.add(buyer, make_variant(shop, stock=5).id, 1)
    key = token()
    first, second = place(buyer, shop, key), place(buyer, shop, key)
    assert first.order.id == second.order.id and not second.created
    assert first.authorisation.id == second.authorisation.id


def test_an_approved_card_authorises_the_placed_order(buyer, shop):
    cart.add(buyer, make_variant(shop, price=3900, stock=5).id, 1)
    outcome = pay(buyer, shop)
    order = Order.get_by_id(outcome.order.id)
    assert outcome.ok and order.payment_status == "authorised" and order.status == "pending"
    assert order.payment_method == "Visa •••• 4242" and outcome.authorisation.amount == 4400


def test_a_declined_card_cancels_releases_stock_and_restores_the_cart(buyer, shop):
    shirt = make_variant(shop, price=3900, stock=5)
    cart.add(buyer, shirt.id, 3)
    outcome = pay(buyer, shop, "4000000000000002")
    assert outcome.declined == card.DECLINED
    assert Order.get_by_id(outcome.order.id).status == "cancelled"
    assert Variant.get_by_id(shirt.id).stock == 5
    assert [(line.variant_id, line.quantity) for line in CartLine.select()] == [(shirt.id, 3)]
    retry = pay(buyer, shop)
    assert retry.ok and Variant.get_by_id(shirt.id).stock == 2


def test_stock_5_and_20_buyers_at_once_give_exactly_5_orders(app, shop):
    shirt = make_variant(shop, stock=5)
    buyers = [make_user(f"b{i}@example.com") for i in range(N)]
    for b in buyers:
        cart.add(b, shirt.id, 1)
    results = race(N, lambda i: pay(buyers[i], shop))
    placed = [r for r in results if isinstance(r, checkout.Outcome)]
    refused = [r for r in results if isinstance(r, CheckoutRefused)]
    assert len(placed) == 5 and len(refused) == N - 5, results
    assert {r.code for r in refused} == {"checkout.out_of_stock"}
    assert Order.select().count() == 5 and Variant.get_by_id(shirt.id).stock == 0
    assert PaymentTransaction.select().where(PaymentTransaction.state == "succeeded").count() == 5
    assert Cart.select().join(CartLine).count() == N - 5


def test_20_posts_of_the_same_checkout_give_one_order_and_one_authorisation(app, buyer, shop):
    shirt = make_variant(shop, stock=10)
    cart.add(buyer, shirt.id, 2)
    key = token()
    results = race(N, lambda i: pay(buyer, shop, key=key))
    assert all(isinstance(r, checkout.Outcome) for r in results), results
    assert len({r.order.id for r in results}) == 1
    assert Order.select().count() == 1 and Variant.get_by_id(shirt.id).stock == 8
    assert PaymentTransaction.select().count() == 1
    assert PaymentTransaction.get().state == "succeeded"


def test_an_unknown_outcome_waits_and_a_later_decline_gives_the_cart_back(buyer, shop):
    from datetime import timedelta

    from portal import payments
    from portal.models import utcnow
    shirt = make_variant(shop, price=3900, stock=5)
    cart.add(buyer, shirt.id, 1)
    outcome = pay(buyer, shop, "4000000000000119")  # the gateway drops the first call
    order = Order.get_by_id(outcome.order.id)
    assert outcome.ok and outcome.authorisation.state == "pending"
    assert order.payment_status == "awaiting" and Variant.get_by_id(shirt.id).stock == 4
    assert payments.reconcile(now=utcnow() + timedelta(minutes=5)) == 1  # approved on retry
    assert Order.get_by_id(order.id).payment_status == "authorised"
    cart.add(buyer, shirt.id, 1)
    second = pay(buyer, shop, "4000000000000119")
    card.GATEWAY._received.clear()  # the gateway lost the token: the retry is declined
    assert payments.reconcile(now=utcnow() + timedelta(minutes=5)) == 1
    assert Order.get_by_id(second.order.id).status == "cancelled"
    assert Variant.get_by_id(shirt.id).stock == 4 and CartLine.get().quantity == 1
