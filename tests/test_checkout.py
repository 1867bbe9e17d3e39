"""/checkout/<slug>: address (checked per country, phone too), shipping option, payment
method with its fee, the card turned into a token at once, review, place order; a decline
keeps the cart; the same checkout posted twice is one order."""

import re

import pytest

from portal import cart, hookimpl
from portal.hooktypes import PaymentOption, PaymentResult
from portal.models import Address, CartLine, Order, PaymentTransaction, Shop, Variant
from portal.testing import enable
from tests.factories import make_variant

ADDRESS = dict(name="Ada Buyer", line1="1 Main St", city="Springfield", region="IL",
               postal_code="62701", country="US", phone="(217) 555-0100")
CARD = dict(method="card:card", card_number="4242 4242 4242 4242", card_exp="12/40",
            card_cvc="123")


@pytest.fixture
def shirt(shop):
    return make_variant(shop, "Linen shirt", price=3900, stock=5)


@pytest.fixture
def filled(auth, buyer, shop, shirt):
    enable(shop, "card")
    auth.login()
    cart.add(buyer, shirt.id, 2)
    return shop


def url(shop, step=""):
    return f"/checkout/{shop.slug}" + (f"/{step}" if step else "")


def to_review(client, shop, card=CARD, option=None):
    assert client.post(url(shop, "address"), data=ADDRESS).status_code == 303
    page = client.get(url(shop)).get_data(as_text=True)
    option = option or re.search(r'name="option" value="([^"]+)"', page).group(1)
    assert client.post(url(shop, "shipping"), data={"option": option}).status_code == 303
    response = client.post(url(shop, "payment"), data=card)
    assert response.status_code == 303, response.get_data(as_text=True)
    return client.get(url(shop)).get_data(as_text=True)


def place_form(page):
    return {"checkout_token": re.search(r'name="checkout_token" value="([^"]+)"', page).group(1),
            "expected_total": re.search(r'name="expected_total" value="(\d+)"', page).group(1)}


def test_a_whole_checkout_places_the_order_with_the_reviews_numbers(client, filled, buyer, shirt):
    review = to_review(client, filled)
    assert "Standard shipping" in review or "Shipping" in review
    form = place_form(review)
    assert form["expected_total"] == str(7800 + filled.flat_rate_amount)
    response = client.post(url(filled, "place"), data=form)
    assert response.status_code == 303
    order = Order.get()
    assert response.headers["Location"].endswith(f"/orders/{order.number}")
    assert order.total == int(form["expected_total"]) and order.buyer_id == buyer.id
    assert order.payment_status == "authorised" and order.ship_phone == "+12175550100"
    assert CartLine.select().count() == 0 and Variant.get_by_id(shirt.id).stock == 3
    page = client.get(f"/orders/{order.number}").get_data(as_text=True)
    assert order.number in page


def test_the_same_place_posted_twice_is_one_order(client, filled):
    form = place_form(to_review(client, filled))
    first = client.post(url(filled, "place"), data=form)
    second = client.post(url(filled, "place"), data=form)
    assert first.headers["Location"] == second.headers["Location"]
    assert Order.select().count() == 1 and PaymentTransaction.select().count() == 1


def test_a_declined_card_says_why_and_keeps_the_cart(client, filled, shirt):
    review = to_review(client, filled, card={**CARD, "card_number": "4000 0000 0000 0002"})
    response = client.post(url(filled, "place"), data=place_form(review), follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Your payment was declined" in page and "declined" in page
    assert CartLine.get().quantity == 2 and Variant.get_by_id(shirt.id).stock == 5
    assert Order.get().status == "cancelled"
    review = to_review(client, filled)  # the retry with another card
    assert client.post(url(filled, "place"), data=place_form(review)).status_code == 303
    assert Order.select().where(Order.status == "pending").count() == 1


def test_a_shop_without_rates_offers_its_own_flat_rate_in_its_currency(client, filled, buyer):
    Shop.update(currency="EUR", flat_rate_amount=650, flat_rate_days=3) \
        .where(Shop.id == filled.id).execute()
    client.post(url(filled, "address"), data=ADDRESS)
    page = client.get(url(filled)).get_data(as_text=True)
    assert re.search(r'value="flat:standard"[^<]*Standard shipping · <strong class="num">'
                     r'€6\.50</strong> <span class="muted">· about 3 days', page)
    review = to_review(client, filled)
    form = place_form(review)
    assert form["expected_total"] == str(7800 + 650)
    assert client.post(url(filled, "place"), data=form).status_code == 303
    order = Order.get()
    assert (order.currency, order.shipping_total, order.total) == ("EUR", 650, 8450)


def test_address_errors_are_beside_their_fields_and_phone_is_checked(client, filled):
    response = client.post(url(filled, "address"),
                           data={**ADDRESS, "postal_code": "ABCDE", "phone": "12"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="postal_code-error"' in page and 'id="phone-error"' in page
    assert "not valid" in page


def test_saved_for_next_time_and_used_again(client, filled, buyer):
    client.post(url(filled, "address"), data={**ADDRESS, "save": "1"})
    saved = Address.get(Address.user == buyer.id)
    assert saved.postal_code == "62701" and saved.phone == "+12175550100"
    response = client.post(url(filled, "address"), data={"saved": str(saved.id)})
    assert response.status_code == 303 and Address.select().count() == 1


def test_the_default_saved_address_is_the_one_checked(client, filled, buyer):
    common = dict(user=buyer, line1="1 Main Street", city="Springfield", region="IL",
                  postal_code="62701", country="US")
    Address.create(full_name="Old Place", **common)
    home = Address.create(full_name="Home Default", is_default=True, **common)
    page = client.get(url(filled)).get_data(as_text=True)
    checked = re.search(r'name="saved" value="(\d+)" checked', page)
    assert checked and int(checked.group(1)) == home.id


def test_payment_methods_show_their_fee_and_a_card_error_is_beside_the_field(client, filled):
    enable(filled, "cod", fee="2.50")
    client.post(url(filled, "address"), data=ADDRESS)
    page = client.get(url(filled)).get_data(as_text=True)
    option = re.search(r'name="option" value="([^"]+)"', page).group(1)
    client.post(url(filled, "shipping"), data={"option": option})
    page = client.get(url(filled)).get_data(as_text=True)
    assert "fee" in page and "$2.50" in page
    response = client.post(url(filled, "payment"), data={**CARD, "card_number": "4242 4242 4242 4241"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="card_number-error"' in page
    assert "4242 4242 4242 4241" not in page
    client.post(url(filled, "payment"), data={"method": "cod:cod"})
    form = place_form(client.get(url(filled)).get_data(as_text=True))
    assert form["expected_total"] == str(7800 + filled.flat_rate_amount + 250)


def test_an_unknown_coupon_code_is_refused_with_a_reason(client, filled):
    to_review(client, filled)
    response = client.post(url(filled, "coupon"), data={"code": "SAVE10"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="coupon-error"' in page
    assert "There is no coupon SAVE10 in this shop: check the spelling." in page
    assert client.post(url(filled, "coupon"), data={"code": ""}).status_code == 422


def test_a_coupon_shows_per_line_on_the_review_and_the_order_gets_it(client, filled, shirt):
    from portal.coupons import records
    records.save(filled, records.Draft(name="Summer", plugin="coupons", kind="percentage",
                                       code="SUMMER-15", settings={"percent": 15},
                                       usage_limit=3))
    to_review(client, filled)
    response = client.post(url(filled, "coupon"), data={"code": "summer 15"})
    assert response.status_code == 303
    review = client.get(url(filled)).get_data(as_text=True)
    assert "SUMMER-15" in review and "−$11.70" in review  # 15% of 2 × $39.00, on the line
    assert re.search(r'id="review-discount">−\$11.70<', review)
    form = place_form(review)
    assert form["expected_total"] == str(7800 - 1170 + shirt.product.shop.flat_rate_amount)
    assert client.post(url(filled, "place"), data=form).status_code == 303
    order = Order.get()
    assert order.discount_total == 1170 and order.total == 7800 - 1170 + shirt.product.shop.flat_rate_amount
    page = client.get(f"/orders/{order.number}").get_data(as_text=True)
    assert "SUMMER-15" in page


def test_a_coupon_can_be_taken_off_again(client, filled, shirt):
    from portal.coupons import records
    records.save(filled, records.Draft(name="Ten", plugin="coupons", kind="percentage",
                                       code="TENOFF", settings={"percent": 10}))
    to_review(client, filled)
    client.post(url(filled, "coupon"), data={"code": "TENOFF"})
    assert "−$7.80" in client.get(url(filled)).get_data(as_text=True)
    assert client.post(url(filled, "coupon"), data={"remove": "TENOFF"}).status_code == 303
    review = client.get(url(filled)).get_data(as_text=True)
    assert "−$7.80" not in review and place_form(review)["expected_total"] == \
        str(7800 + shirt.product.shop.flat_rate_amount)


def test_a_buyer_checks_out_only_their_own_cart(client, auth, filled, buyer2, shop):
    auth.logout()
    auth.login("buyer2@example.com")
    response = client.get(url(shop))
    assert response.status_code == 303 and response.headers["Location"].endswith("/cart")


def test_a_changed_price_refuses_and_keeps_the_cart(client, filled, shirt):
    form = place_form(to_review(client, filled))
    Variant.update(price=4100).where(Variant.id == shirt.id).execute()
    page = client.post(url(filled, "place"), data=form, follow_redirects=True).get_data(as_text=True)
    assert "Prices changed" in page and Order.select().count() == 0 and CartLine.select().count() == 1


def test_the_cart_has_a_check_out_button(client, filled):
    assert f'href="/checkout/{filled.slug}"' in client.get("/cart").get_data(as_text=True)


def test_a_card_typed_at_checkout_is_nowhere_in_the_database_or_the_logs(
        client, filled, caplog, database_url):
    import logging

    from portal.db import is_sqlite
    caplog.set_level(logging.DEBUG)
    numbers = ["4242424242424242", "4000000000000002"]
    review = to_review(client, filled, card={**CARD, "card_number": "4000 0000 0000 0002"})
    client.post(url(filled, "place"), data=place_form(review))
    review = to_review(client, filled, card={**CARD, "card_number": "4242424242424242"})
    assert client.post(url(filled, "place"), data=place_form(review)).status_code == 303
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert not any(n in logged for n in numbers)
    if is_sqlite():
        from portal.db import database
        database.execute_sql("PRAGMA wal_checkpoint(FULL)")
        raw = open(database_url.removeprefix("sqlite:///"), "rb").read()
        assert not any(n.encode() in raw or n[-12:].encode() in raw for n in numbers)


def test_20_posts_of_the_same_checkout_at_once_are_one_order(app, client, filled):
    from tests.test_races import race
    form = place_form(to_review(client, filled))
    cookies = [(c.key, c.value) for c in [client.get_cookie("session"),
                                           client.get_cookie("remember_token")] if c]
    clients = []
    for _ in range(20):
        other = app.test_client()
        for key, value in cookies:
            other.set_cookie(key, value)
        clients.append(other)
    responses = race(20, lambda i: clients[i].post(url(filled, "place"), data=form))
    assert all(getattr(r, "status_code", None) == 303 for r in responses), responses
    assert len({r.headers["Location"] for r in responses}) == 1
    assert Order.select().count() == 1 and PaymentTransaction.select().count() == 1


@pytest.mark.parametrize("address, field", [
    (dict(name="Ann", line1="10 Downing Street", city="London", postal_code="SW1A 2AA",
          country="GB", phone="020 7946 0958"), None),
    (dict(name="Ann", line1="10 Downing Street", city="London", postal_code="12345",
          country="GB", phone=""), "postal_code"),
    (dict(name="Jan", line1="Unter den Linden 1", city="Berlin", postal_code="10117",
          country="DE", phone="+49 30 901820"), None),
    (dict(name="Jan", line1="Unter den Linden 1", city="Berlin", postal_code="10117",
          country="DE", phone="+49 1"), "phone"),
    (dict(name="Ada", line1="1 Main St", city="Springfield", postal_code="62701",
          country="US", phone=""), "region"),
])
def test_addresses_are_checked_for_their_country(client, filled, address, field):
    response = client.post(url(filled, "address"), data=address)
    if field is None:
        assert response.status_code == 303
    else:
        assert response.status_code == 422
        assert f'id="{field}-error"' in response.get_data(as_text=True)


def test_every_checkout_form_needs_its_csrf_token(csrf_app, buyer, shop, shirt):
    from tests.factories import PASSWORD
    from tests.test_auth import csrf_token
    client = csrf_app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": "buyer@example.com", "password": PASSWORD,
                                "csrf_token": token})
    cart.add(buyer, shirt.id, 1)
    page = client.get(url(shop)).get_data(as_text=True)
    assert page.count('name="csrf_token"') >= 1
    for step in ("address", "shipping", "payment", "coupon", "place"):
        assert client.post(url(shop, step), data=ADDRESS).status_code == 400
    assert client.post(url(shop, "address"),
                       data={**ADDRESS, "csrf_token": csrf_token(page)}).status_code == 303


class PayOnPickup:
    """Another author's payment plugin whose option declares when its money is taken."""

    def __init__(self, capture="on_delivery"):
        self.capture, self.captured = capture, []

    @hookimpl
    def payment_methods(self, currency):
        return [PaymentOption("pickup", "Pay on pickup", 0, currency, capture=self.capture)]

    @hookimpl
    def payment_authorise(self, method_code, amount, currency, idempotency_key):
        if method_code == "pickup":
            return PaymentResult(True, f"pk-{idempotency_key}", amount, currency, "Pay on pickup")
        return None

    @hookimpl
    def payment_capture(self, method_code, amount, currency, idempotency_key):
        if method_code == "pickup":
            self.captured.append(amount)
            return PaymentResult(True, f"pkc-{idempotency_key}", amount, currency)
        return None


def test_a_method_captured_on_delivery_is_taken_when_delivered_not_when_shipped(
        client, filled, seller, register_plugin):
    """Whatever its code: the option's ``capture`` goes with the authorisation."""
    from portal import payments
    from portal.orders import fulfilment
    pickup = register_plugin(PayOnPickup(), "pickup")
    enable(filled, "pickup")
    form = place_form(to_review(client, filled, card={"method": "pickup:pickup"}))
    assert client.post(url(filled, "place"), data=form).status_code == 303
    order = Order.get()
    auth = PaymentTransaction.get(PaymentTransaction.kind == "authorise")
    assert (auth.plugin, auth.state, auth.capture) == ("pickup", "succeeded", "on_delivery")
    fulfilment.check_and_process(order, picked={line.id for line in fulfilment.lines_of(order)},
                                 address_verified=True, version=order.version, actor=seller)
    order = Order.get_by_id(order.id)
    fulfilment.ship(order, fulfilment.Package(fulfilment.remaining(order), "manual", "Manual",
                                              "TRACK1"), version=order.version, actor=seller)
    payments.settle(order.id)
    assert pickup.captured == [] and Order.get_by_id(order.id).payment_status == "authorised"
    order = Order.get_by_id(order.id)
    fulfilment.mark_delivered(order, version=order.version, actor=seller)
    payments.settle(order.id)
    assert pickup.captured == [order.total]
    assert Order.get_by_id(order.id).payment_status == "paid"


@pytest.mark.parametrize("method,capture", [("card:card", "on_shipping"),
                                             ("cod:cod", "on_delivery")])
def test_the_authorisation_keeps_when_the_plugin_captures(client, filled, method, capture):
    enable(filled, "cod")
    form = place_form(to_review(client, filled, card={**CARD, "method": method}))
    assert client.post(url(filled, "place"), data=form).status_code == 303
    assert PaymentTransaction.get(PaymentTransaction.kind == "authorise").capture == capture


def test_an_option_that_names_no_known_capture_is_not_offered(client, filled, register_plugin,
                                                               caplog):
    register_plugin(PayOnPickup(capture="on_collection"), "pickup")
    enable(filled, "pickup")
    client.post(url(filled, "address"), data=ADDRESS)
    page = client.get(url(filled)).get_data(as_text=True)
    option = re.search(r'name="option" value="([^"]+)"', page).group(1)
    client.post(url(filled, "shipping"), data={"option": option})
    page = client.get(url(filled)).get_data(as_text=True)
    assert 'value="card:card"' in page and "pickup" not in page
    assert "capture='on_collection'" in caplog.text
    response = client.post(url(filled, "payment"), data={"method": "pickup:pickup"})
    assert response.status_code == 422
