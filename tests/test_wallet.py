"""The digital wallet: a redirect flow to its page inside the portal, which approves or
cancels and comes back to the order; expiry by the reconciler; forged, replayed and
other people's answers refused; the redirect flow's hooks (``payment_page``,
``PaymentResult.redirect_url``) for any plugin."""

import re
import threading
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import url_for

from portal import cart, checkout, hookimpl, payments
from portal.hooks import pluginmanager, shop_plugins
from portal.hooktypes import PaymentOption, PaymentPage, PaymentPrompt, PaymentResult
from portal.models import CartLine, Order, OrderEvent, PaymentTransaction, PluginConfig, utcnow
from portal.orders import fulfilment
from portal.orders.ledger import Kind, State
from portal.orders.placing import PaymentChoice, place_order
from portal.payments import redirects
from portal.plugins import wallet
from portal.testing import enable
from tests.factories import PASSWORD, make_user, make_variant
from tests.test_auth import csrf_token
from tests.test_checkout import place_form, to_review, url

WALLET = {"method": "wallet:wallet"}


@pytest.fixture
def shirt(shop):
    return make_variant(shop, "Linen shirt", price=3900, stock=5)


@pytest.fixture
def filled(auth, buyer, shop, shirt):
    enable(shop, "wallet")
    auth.login()
    cart.add(buyer, shirt.id, 2)
    return shop


def place(client, shop):
    """Check out with the wallet: the place answer (a 303 to the wallet's page)."""
    return client.post(url(shop, "place"), data=place_form(to_review(client, shop, WALLET)))


def answer(client, pay_path, action):
    """Press a button of the wallet's page: the 303 back to the portal's return."""
    response = client.post(pay_path, data={"action": action})
    assert response.status_code == 303
    return response.headers["Location"]


def the_authorisation():
    return PaymentTransaction.get(PaymentTransaction.kind == Kind.AUTHORISE.value)


def fresh(row_or_order):
    return type(row_or_order).get_by_id(row_or_order.id)


def test_the_paths_are_the_web_layers_routes(app):
    with app.test_request_context():
        assert url_for("payments.page", row_id=7) == redirects.PAGE_PATH.format(id=7)
        assert url_for("payments.returned", row_id=7) == redirects.RETURN_PATH.format(id=7)


def test_the_round_trip_place_approve_ship_refund(client, filled, buyer, seller, shirt):
    placed = place(client, filled)
    row = the_authorisation()
    assert placed.status_code == 303 and placed.headers["Location"] == f"/payments/{row.id}/pay"
    order = Order.get()
    assert order.status == "pending" and order.payment_status == "awaiting"
    assert row.state == State.PENDING and redirects.waiting_url(row) == f"/payments/{row.id}/pay"
    assert CartLine.select().count() == 0 and shirt.__class__.get_by_id(shirt.id).stock == 3

    page = client.get(f"/payments/{row.id}/pay").get_data(as_text=True)
    assert "Demo Wallet" in page and filled.name in page and "$83.00" in page
    assert 'value="approve"' in page and 'value="cancel"' in page and "<script>" not in page

    back = answer(client, f"/payments/{row.id}/pay", "approve")
    assert back.startswith(f"/payments/{row.id}/return?token=approve.")
    done = client.get(back)
    assert done.status_code == 303 and done.headers["Location"] == f"/orders/{order.number}"
    order, row = fresh(order), fresh(row)
    assert row.state == State.SUCCEEDED and row.reference.startswith("wal_auth_")
    assert order.payment_status == "authorised" and order.payment_method == "Demo Wallet"
    detail = client.get(f"/orders/{order.number}").get_data(as_text=True)
    assert "Pending" in detail and "Authorised" in detail

    # A reload, the back button, the page again: one authorisation, the same order page.
    assert client.get(back).headers["Location"] == f"/orders/{order.number}"
    assert client.get(f"/payments/{row.id}/pay").headers["Location"] == \
        f"/payments/{row.id}/return"
    assert PaymentTransaction.select().count() == 1
    assert OrderEvent.select().where(OrderEvent.kind == "payment").count() == 1

    fulfilment.confirm_and_process(order, lines=fulfilment.lines_of(order), actor=seller)
    order = fresh(order)
    package = fulfilment.Package(fulfilment.remaining(order), "manual", "Manual", "T1")
    fulfilment.ship(order, package, version=order.version, actor=seller)
    payments.settle(order.id)
    assert fresh(order).payment_status == "paid"
    refund = payments.refund(fresh(order), 1000, reason="scratched", actor=seller)
    assert refund.state == State.SUCCEEDED and refund.reference.startswith("wal_refund_")
    assert fresh(order).payment_status == "partially_refunded"
    capture = PaymentTransaction.get(PaymentTransaction.kind == Kind.CAPTURE.value)
    assert capture.reference.startswith("wal_capture_") and capture.amount == order.total


def test_cancel_at_the_wallet_goes_back_to_the_checkout_with_the_cart(client, filled, shirt):
    place(client, filled)
    row = the_authorisation()
    back = answer(client, f"/payments/{row.id}/pay", "cancel")
    response = client.get(back)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/checkout/{filled.slug}?step=payment"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You cancelled the payment at Demo Wallet." in page and "cart is as it was" in page
    assert re.search(r'id="cart-badge" class="cart-badge"><span class="visually-hidden">\(</span>2<',
                     page), "the cart badge counts the lines again"
    assert 'name="method"' in page  # the payment step, address and shipping kept
    assert fresh(row).state == State.FAILED and Order.get().status == "cancelled"
    assert CartLine.get().quantity == 2 and shirt.__class__.get_by_id(shirt.id).stock == 5
    assert client.get(back).headers["Location"].startswith(f"/checkout/{filled.slug}")


def test_the_reconciler_leaves_a_waiting_payment_alone_then_declines_it_in_time(
        client, filled, shirt):
    place(client, filled)
    row = the_authorisation()
    assert row.next_attempt_at == row.created_at + redirects.BUYER_WAIT
    assert payments.reconcile(now=utcnow() + timedelta(minutes=30)) == 0  # not hammered
    assert payments.reconcile(now=row.created_at + redirects.BUYER_WAIT) == 1
    row, order = fresh(row), Order.get()
    assert row.state == State.FAILED and row.message == redirects.EXPIRED
    assert order.status == "cancelled" and CartLine.get().quantity == 2
    assert shirt.__class__.get_by_id(shirt.id).stock == 5
    assert "not completed in time" in " ".join(
        e.message for e in OrderEvent.select().where(OrderEvent.order == order.id))


def test_a_buyer_who_approved_and_left_is_authorised_by_the_reconciler_with_the_plugins_say(
        filled, register_plugin):
    """At the deadline the plugin is asked once more before the payment is declined."""
    row = _waiting_row(filled, register_plugin, approve_late=True)
    assert payments.reconcile(now=row.created_at + redirects.BUYER_WAIT) == 1
    assert fresh(row).state == State.SUCCEEDED


def test_forged_and_other_orders_answers_are_refused_and_change_nothing(client, filled, buyer,
                                                                        shirt):
    place(client, filled)
    row = the_authorisation()
    secret = PluginConfig.get(PluginConfig.plugin == "wallet").webhook_secret
    forged = [f"approve.{'0' * 64}", "approve", "",
              wallet.sign("not-the-secret", "approve", row.idempotency_key, row.amount, "USD"),
              wallet.sign(secret, "approve", "another-payment-key", row.amount, "USD"),
              wallet.sign(secret, "approve", row.idempotency_key, 1, "USD")]
    for token in forged[:2] + forged[3:]:
        response = client.get(f"/payments/{row.id}/return", query_string={"token": token})
        assert response.status_code == 400, token
        assert "nothing was paid" in response.get_data(as_text=True)
    assert fresh(row).state == State.PENDING and Order.get().payment_status == "awaiting"
    # Without an answer, the buyer is sent to answer first.
    assert client.get(f"/payments/{row.id}/return").headers["Location"] == \
        f"/payments/{row.id}/pay"
    # An approval made for this payment still works after all that.
    good = wallet.sign(secret, "approve", row.idempotency_key, row.amount, "USD")
    assert client.get(f"/payments/{row.id}/return", query_string={"token": good}).status_code \
        == 303
    assert fresh(row).state == State.SUCCEEDED


def test_an_answer_replayed_on_another_order_is_refused(client, filled, buyer, shirt):
    place(client, filled)
    first = the_authorisation()
    approved = answer(client, f"/payments/{first.id}/pay", "approve")
    client.get(approved)
    cart.add(buyer, shirt.id, 1)
    place(client, filled)
    second = PaymentTransaction.select().order_by(PaymentTransaction.id.desc()).get()
    token = parse_qs(urlsplit(approved).query)["token"][0]
    response = client.get(f"/payments/{second.id}/return", query_string={"token": token})
    assert response.status_code == 400 and fresh(second).state == State.PENDING


def test_another_buyer_gets_404_for_the_page_and_the_return(app, client, filled, buyer2):
    place(client, filled)
    row = the_authorisation()
    token = answer(client, f"/payments/{row.id}/pay", "approve")
    other = app.test_client()
    other.post("/login", data={"email": buyer2.email, "password": PASSWORD})
    assert other.get(f"/payments/{row.id}/pay").status_code == 404
    assert other.post(f"/payments/{row.id}/pay", data={"action": "approve"}).status_code == 404
    assert other.get(token).status_code == 404
    assert app.test_client().get(f"/payments/{row.id}/pay").status_code in (302, 401)
    assert fresh(row).state == State.PENDING


def test_the_wallet_page_posts_need_the_csrf_token(csrf_app, filled, buyer):
    client = csrf_app.test_client()
    client.post("/login", data={"email": buyer.email, "password": PASSWORD,
                                "csrf_token": csrf_token(client.get("/login").get_data(
                                    as_text=True))})
    row = _placed_directly(buyer, filled)
    page = client.get(f"/payments/{row.id}/pay").get_data(as_text=True)
    assert page.count('name="csrf_token"') >= 3  # one per button (and the log-out)
    assert client.post(f"/payments/{row.id}/pay", data={"action": "approve"}).status_code == 400
    response = client.post(f"/payments/{row.id}/pay",
                           data={"action": "approve", "csrf_token": csrf_token(page)})
    assert response.status_code == 303 and "/return?token=approve." in response.headers["Location"]


def test_a_double_click_on_approve_is_one_authorisation(app, client, filled):
    place(client, filled)
    row = the_authorisation()
    back = answer(client, f"/payments/{row.id}/pay", "approve")
    answers = []

    def follow():
        with app.test_client() as own:
            with client.session_transaction() as theirs:
                session = dict(theirs)
            with own.session_transaction() as mine:
                mine.update(session)
            answers.append(own.get(back).headers.get("Location"))
    threads = [threading.Thread(target=follow) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [f"/orders/{Order.get().number}"] * 3
    assert fresh(row).state == State.SUCCEEDED
    assert OrderEvent.select().where(OrderEvent.kind == "payment").count() == 1


def test_the_order_page_leads_back_to_a_payment_left_waiting(client, filled):
    place(client, filled)
    row, order = the_authorisation(), Order.get()
    page = client.get(f"/orders/{order.number}").get_data(as_text=True)
    assert "Awaiting payment" in page and f'href="/payments/{row.id}/pay"' in page
    client.get(answer(client, f"/payments/{row.id}/pay", "approve"))
    assert "/pay" not in client.get(f"/orders/{order.number}").get_data(as_text=True)


def test_a_reload_of_place_sends_the_buyer_back_to_the_wallet(client, filled):
    form = place_form(to_review(client, filled, WALLET))
    first = client.post(url(filled, "place"), data=form)
    again = client.post(url(filled, "place"), data=form)
    assert first.headers["Location"] == again.headers["Location"]
    assert Order.select().count() == 1 and PaymentTransaction.select().count() == 1


def test_the_settings_form_names_the_wallet_and_refuses_a_long_name(client, filled):
    enable(filled, "wallet", display_name="Pocket Pay")
    page = to_review(client, filled, WALLET)
    assert "Pocket Pay" in page
    with pytest.raises(shop_plugins.SettingsRefused):
        enable(filled, "wallet", display_name="x" * 41)
    with pytest.raises(shop_plugins.SettingsRefused):
        enable(filled, "wallet", display_name="")


def test_a_shop_without_the_wallets_secret_declines_at_once(client, filled, shirt):
    PluginConfig.update(webhook_secret="").where(PluginConfig.plugin == "wallet").execute()
    response = place(client, filled)
    assert response.headers["Location"] == f"/checkout/{filled.slug}?step=payment"
    assert the_authorisation().message == wallet.NOT_SET_UP
    assert CartLine.get().quantity == 2


def test_enabling_the_wallet_makes_the_shops_secret(filled):
    assert shop_plugins.needs_secret("wallet") and not shop_plugins.needs_secret("card")
    assert PluginConfig.get(PluginConfig.plugin == "wallet").webhook_secret.startswith("whsec_")


# -- the hooks, for any plugin -----------------------------------------------------------

def test_payment_page_is_asked_with_the_payment_and_the_buttons_action(filled):
    prompt = PaymentPrompt("key-1", 8300, "USD", "Northwind Threads", "AAAAA-BBBBB")
    shown = pluginmanager.call("wallet", "payment_page", method_code="wallet", payment=prompt,
                               action="", secret="s3cret", settings={}).value
    assert isinstance(shown, PaymentPage) and shown.title == "Demo Wallet"
    assert [b.action for b in shown.buttons] == ["approve", "cancel"]
    assert "Northwind Threads" in shown.text and not shown.answer
    pressed = pluginmanager.call("wallet", "payment_page", method_code="wallet", payment=prompt,
                                 action="approve", secret="s3cret", settings={}).value
    assert wallet.verify("s3cret", pressed.answer, "key-1", 8300, "USD") == "approve"
    assert pluginmanager.call("wallet", "payment_page", method_code="card", payment=prompt,
                              action="", secret="s", settings={}).value is None


class Offsite:
    """A wallet on its own site: sends the buyer there over https, takes "ok-<key>" back."""

    @hookimpl
    def payment_methods(self, currency):
        return [PaymentOption("offsite", "Offsite Pay", 0, currency)]

    @hookimpl
    def payment_authorise(self, method_code, amount, currency, token, idempotency_key,
                          return_url):
        if method_code != "offsite":
            return None
        if token == f"ok-{idempotency_key}":
            return PaymentResult(True, "off_1", amount, currency, "Offsite Pay")
        return PaymentResult(False, amount=amount, currency=currency,
                             redirect_url=f"https://pay.example/approve?back={return_url}")


def test_a_redirect_url_keeps_the_authorisation_pending_and_sends_the_buyer_there(
        client, filled, register_plugin):
    register_plugin(Offsite(), "offsite")
    enable(filled, "offsite")
    response = client.post(url(filled, "place"),
                           data=place_form(to_review(client, filled,
                                                     {"method": "offsite:offsite"})))
    row = the_authorisation()
    assert response.headers["Location"] == \
        f"https://pay.example/approve?back=/payments/{row.id}/return"
    assert row.state == State.PENDING and Order.get().payment_status == "awaiting"
    done = client.get(f"/payments/{row.id}/return",
                      query_string={"token": f"ok-{row.idempotency_key}"})
    assert done.headers["Location"] == f"/orders/{Order.get().number}"
    assert fresh(row).state == State.SUCCEEDED


class Unsafe:
    @hookimpl
    def payment_authorise(self, method_code, amount, currency):
        return PaymentResult(False, amount=amount, currency=currency,
                             redirect_url="javascript:alert(1)")


def test_a_redirect_to_an_unsafe_address_is_declined(filled, register_plugin):
    register_plugin(Unsafe(), "unsafe")
    row = _pending_row(filled, "unsafe", "unsafe")
    row = payments.run(row)
    assert row.state == State.FAILED and row.message == redirects.UNSAFE
    assert Order.get_by_id(row.order_id).status == "cancelled"


def test_a_redirect_url_is_ignored_outside_an_authorisation(filled, register_plugin):
    class Capturing:
        @hookimpl
        def payment_capture(self, amount, currency):
            return PaymentResult(False, amount=amount, currency=currency, message="no",
                                 redirect_url="/somewhere")
    register_plugin(Capturing(), "capturing")
    row = _pending_row(filled, "capturing", "capturing")
    PaymentTransaction.update(state="succeeded", reference="r").where(
        PaymentTransaction.id == row.id).execute()
    capture = PaymentTransaction.create(
        order=row.order_id, kind="capture", amount=100, currency="USD", method_code="capturing",
        plugin="capturing", idempotency_key="cap-1", next_attempt_at=utcnow())
    assert payments.run(capture).state == State.FAILED


# -- helpers ------------------------------------------------------------------------------

def _placed_directly(buyer, shop):
    """An order placed through the checkout's function with the wallet: its pending row."""
    variant = make_variant(shop, "Wool beanie", price=2400, stock=3)
    cart.add(buyer, variant.id, 1)
    outcome = checkout.place_and_pay(
        buyer, shop.id, checkout_token="tok-direct", address=dict(
            name="Bea", line1="1 Main St", city="Springfield", region="IL",
            postal_code="62701", country="US", phone=""),
        shipping_total=500, payment=PaymentChoice("wallet", "wallet", 0, "Demo Wallet"))
    assert outcome.redirect_url == f"/payments/{outcome.authorisation.id}/pay"
    return outcome.authorisation


def _pending_row(shop, plugin, method):
    """An order placed with ``plugin`` (by another buyer), its authorisation not asked yet."""
    buyer = make_user(f"{plugin}@example.com")
    variant = make_variant(shop, "Canvas tote", price=2200, stock=3)
    cart.add(buyer, variant.id, 1)
    placed = place_order(buyer, shop.id, checkout_token=f"tok-{plugin}", address=dict(
        name="Late", line1="1 Main St", city="Springfield", region="IL", postal_code="62701",
        country="US", phone=""), shipping_total=0,
        payment=PaymentChoice(plugin, method, 0, plugin))
    return placed.authorisation


def _waiting_row(shop, register_plugin, approve_late):
    class Late:
        asked = 0

        @hookimpl
        def payment_authorise(self, amount, currency, page_url):
            Late.asked += 1
            if approve_late and Late.asked > 1:
                return PaymentResult(True, "late_1", amount, currency, "Late Pay")
            return PaymentResult(False, amount=amount, currency=currency, redirect_url=page_url)
    register_plugin(Late(), "late")
    row = payments.run(_pending_row(shop, "late", "late"))
    assert row.state == State.PENDING and redirects.waiting_url(row) == f"/payments/{row.id}/pay"
    return row


def test_the_demo_shops_take_the_wallet_and_its_orders_move_money_through_it(app):
    """The demo seeds Demo Wallet orders with the wallet's own references: a shipped one
    is refunded by the wallet, and the demo buyer is offered the wallet at checkout."""
    from portal.demo import seed
    from portal.models import Shop, User
    with app.app_context():
        seed(60, with_requests=False, in_background=False)
    paid = (Order.select().where((Order.payment_method == "Demo Wallet")
                                 & (Order.payment_status == "paid")).first())
    assert paid is not None
    seller = User.get_by_id(paid.shop.owner_id)
    refund = payments.refund(paid, 100, reason="a scratch", actor=seller)
    assert refund.state == State.SUCCEEDED and refund.reference.startswith("wal_refund_")
    shop = Shop.get(Shop.slug == "shop-1")
    assert shop_plugins.for_shop(shop).secret("wallet")
    assert "Demo Wallet" in [m.option.name for m in payments.methods(shop, "USD", 1000)]
