"""A plugin that raises or hangs is logged and shown as unavailable; the page still works."""

import logging
import threading
import time

import pytest

from portal import hookimpl, shipping
from portal.hooks import pluginmanager
from portal.hooktypes import CarrierInfo, Parcel, PluginRefusal, Rate
from portal.testing import enable
from tests.factories import make_order

release = threading.Event()


class Boom:
    @hookimpl
    def carrier_info(self):
        return CarrierInfo("boom", "Boom Express", labels=True)

    @hookimpl
    def carrier_tracking_url(self, carrier_code):
        raise RuntimeError("the carrier's API is down")

    @hookimpl
    def carrier_validate_tracking_number(self, carrier_code):
        raise RuntimeError("the carrier's API is down")

    carrier_rates_answers = False

    @hookimpl
    def carrier_rates(self, carrier_code):
        if self.carrier_rates_answers:
            return []
        raise RuntimeError("no rates today")


class Hang:
    @hookimpl
    def carrier_info(self):
        return CarrierInfo("hang", "Hanging Freight")

    @hookimpl
    def carrier_tracking_url(self, carrier_code):
        release.wait(10)  # far longer than the budget; the test lets it go at the end
        return "https://example.invalid/late"


@pytest.fixture
def faulty(shop, register_plugin):
    release.clear()
    register_plugin(Boom(), "boom")
    register_plugin(Hang(), "hang")
    enable(shop, "boom")
    enable(shop, "hang")
    yield
    release.set()


def test_order_page_renders_with_a_raising_and_a_hanging_carrier(client, auth, buyer, shop,
                                                                   faulty, caplog):
    order = make_order(buyer, shop, status="shipped")
    from portal.models import Shipment
    Shipment.create(order=order, carrier_code="boom", carrier_name="Boom Express",
                    tracking_number="BOOM-1", tracking_url="https://boom.example/BOOM-1")
    Shipment.create(order=order, carrier_code="hang", carrier_name="Hanging Freight",
                    tracking_number="HANG-1")
    auth.login()
    caplog.set_level(logging.ERROR, logger="portal.plugins")
    started = time.monotonic()
    response = client.get(f"/orders/{order.number}")
    elapsed = time.monotonic() - started
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Live details from Boom Express are unavailable right now." in html
    assert "Live details from Hanging Freight are unavailable right now." in html
    assert 'href="https://boom.example/BOOM-1"' in html  # the stored link still works
    assert elapsed < 3
    messages = [r.getMessage() for r in caplog.records]
    assert any("plugin boom: carrier_tracking_url raised RuntimeError" in m for m in messages)
    assert any("plugin hang: carrier_tracking_url took longer than" in m for m in messages)

    # The hung plugin rests: the next page does not wait for it again.
    started = time.monotonic()
    assert client.get(f"/orders/{order.number}").status_code == 200
    assert time.monotonic() - started < 0.4


def test_a_failing_carrier_is_a_message_not_an_exception(shop, buyer, faulty):
    check = shipping.check_tracking_number(shop, "boom", "BOOM-1")
    assert not check.valid and "cannot check tracking numbers right now" in check.message
    order = make_order(buyer, shop)
    quote = shipping.quote_rates(shop, order)
    assert quote.rates == [] and quote.unavailable == ["Boom Express"]


def test_the_boundary_reports_failures_as_outcomes(faulty):
    outcome = pluginmanager.call("boom", "carrier_rates", carrier_code="boom",
                                 parcel=Parcel("US", "", "US", "", 1, "USD"), settings={})
    assert not outcome.ok and "no rates today" in outcome.error
    assert pluginmanager.call("boom", "coupon_kinds").value is None  # not implemented: None


def test_a_plugin_that_fails_to_load_is_listed_as_broken(monkeypatch, client, auth, shop, seller):
    monkeypatch.setitem(pluginmanager.current().broken, "halfbaked", "halfbaked 0.1: ImportError: nope")
    auth.login("seller@example.com")
    html = client.get("/seller/plugins/").get_data(as_text=True)
    assert "This plugin is unavailable: it could not be loaded (halfbaked 0.1: ImportError: nope)" in html
    assert "restart it after installing or fixing one" in html  # an import error stays until then


def test_a_plugin_that_keeps_raising_is_shown_unavailable_until_it_answers(
        client, auth, shop, buyer, faulty):
    order = make_order(buyer, shop)
    auth.login("seller@example.com")
    card = lambda: client.get("/seller/plugins/").get_data(as_text=True).split(
        'id="plugin-boom"')[1].split("</article>")[0]
    assert "Unavailable" not in card()
    for _ in range(3):
        assert shipping.quote_rates(shop, order).unavailable == ["Boom Express"]
    html = card()
    assert ">Unavailable</span>" in html
    assert ("This plugin is unavailable: its carrier_rates failed 3 times in a row "
            "(latest just now: RuntimeError: no rates today)") in html
    Boom.carrier_rates_answers = True
    try:
        assert shipping.quote_rates(shop, order).unavailable == []
    finally:
        Boom.carrier_rates_answers = False
    assert "Unavailable" not in card()


class Refuser:
    """A carrier that says no, with reasons, through PluginRefusal."""

    @hookimpl
    def carrier_info(self):
        return CarrierInfo("far", "Far Away Post", labels=True)

    @hookimpl
    def carrier_validate_tracking_number(self, carrier_code, tracking_number):
        if carrier_code == "far":
            raise PluginRefusal("Far Away Post numbers cannot be checked before noon")

    @hookimpl
    def carrier_rates(self, carrier_code, parcel):
        if carrier_code != "far":
            return None
        if parcel.to_country != "US":
            raise PluginRefusal("This address is outside our area.")
        return [Rate("far", "slow", "Far Slow", 700, parcel.currency, 9)]

    @hookimpl
    def carrier_buy_label(self, carrier_code):
        if carrier_code == "far":
            raise PluginRefusal("Your Far Away Post account is out of credit.")


def test_a_refusal_is_a_message_for_the_seller_not_a_crash(client, auth, shop, buyer,
                                                          register_plugin, caplog):
    register_plugin(Refuser(), "far")
    enable(shop, "far")
    caplog.set_level(logging.INFO, logger="portal.plugins")
    check = shipping.check_tracking_number(shop, "far", "FA1234567")
    assert not check.valid
    assert check.message == "Far Away Post: Far Away Post numbers cannot be checked before noon."
    abroad = make_order(buyer, shop, ship_country="DE")
    quote = shipping.quote_rates(shop, abroad)
    assert quote.rates == [] and quote.unavailable == []
    assert quote.refused == ["Far Away Post: This address is outside our area."]
    with pytest.raises(shipping.ShippingRefused, match="outside our area"):
        shipping.buy_label(shop, abroad, "far", "slow")
    home = make_order(buyer, shop)
    assert [r.service_code for r in shipping.quote_rates(shop, home).rates] == ["slow"]
    with pytest.raises(shipping.ShippingRefused) as refused:
        shipping.buy_label(shop, home, "far", "slow")
    assert str(refused.value) == ("Far Away Post: Your Far Away Post account is out of credit. "
                                  "Nothing was charged.")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # not a crash
    outcome = pluginmanager.call("far", "carrier_buy_label", carrier_code="far", rate=None,
                                 parcel=None, settings={})
    assert not outcome.ok and not outcome.error
    assert outcome.refused == "Your Far Away Post account is out of credit."
    auth.login("seller@example.com")
    html = client.get("/seller/plugins/").get_data(as_text=True)
    assert "Unavailable" not in html.split('id="plugin-far"')[1].split("</article>")[0]


def test_the_seller_reads_a_carriers_refusal_on_the_order_page(client, auth, shop, buyer,
                                                             register_plugin):
    register_plugin(Refuser(), "far")
    enable(shop, "far")
    abroad = make_order(buyer, shop, status="processed", ship_country="DE")
    auth.login("seller@example.com")
    html = client.get(f"/seller/orders/{abroad.number}").get_data(as_text=True)
    assert 'autocomplete="None"' not in html  # the form macro omits an unset autocomplete
    # The rates are their own fragment, loaded by the page (htmx) or its link (no JavaScript).
    assert f'href="/seller/orders/{abroad.number}/label#label-h"' in html
    fragment = client.get(f"/seller/orders/{abroad.number}/label",
                          headers={"HX-Request": "true"}).get_data(as_text=True)
    page = client.get(f"/seller/orders/{abroad.number}/label").get_data(as_text=True)
    for html in (fragment, page):
        assert "Far Away Post: This address is outside our area." in html
        assert "Unavailable right now" not in html
    assert "<html" not in fragment and "<html" in page


class RefusingReceiver:
    @hookimpl
    def carrier_info(self):
        return CarrierInfo("picky", "Picky Post", tracking="webhook")

    @hookimpl
    def carrier_parse_webhook(self, carrier_code):
        if carrier_code == "picky":
            raise PluginRefusal("Picky Post pushes are JSON objects")


def test_a_webhook_refused_with_plugin_refusal_is_a_400_not_retry_later(client, shop,
                                                                        register_plugin):
    register_plugin(RefusingReceiver(), "picky")
    enable(shop, "picky")
    response = client.post(f"/webhooks/carriers/picky?shop={shop.slug}", data=b"[]",
                           content_type="application/json")
    assert response.status_code == 400
    assert "Picky Post pushes are JSON objects." in response.get_data(as_text=True)


# -- card data in a crash is redacted --------------------------------------------------

class LeakyGateway:
    """A payment plugin whose failures quote the card it was handed."""

    @hookimpl
    def payment_authorise(self, method_code, idempotency_key):
        if method_code == "refuse":
            raise PluginRefusal("Card 4242 4242 4242 4242 (CVC 321) is blocked")
        try:
            raise KeyError("4000000000000002")
        except KeyError as exc:  # chained: the traceback holds both messages
            raise ValueError("gateway rejected card 4000-0000-0000-0002 exp 12/40 "
                             "{'card_cvc': '123'}") from exc

    @hookimpl
    def order_placed(self, order):
        raise ConnectionError("analytics refused 4000 0000 0000 0002, cvv 1234")


def test_a_crashing_plugins_card_number_and_cvc_reach_neither_logs_nor_database(
        app, buyer, shop, register_plugin, caplog, database_url):
    import re

    from portal import outbox, payments
    from portal.db import database, is_sqlite
    from portal.hooks.order_events import PLUGINS
    from portal.models import OrderEvent, OutboxEvent, PaymentTransaction
    from portal.orders.lifecycle import record
    caplog.set_level(logging.DEBUG)
    register_plugin(LeakyGateway(), "leaky")
    enable(shop, "leaky")
    order = make_order(buyer, shop)
    PaymentTransaction.delete().execute()
    crashed = payments.authorise(order, plugin="leaky", method_code="leaky", token="",
                                 amount=order.total, idempotency_key="k-crash")
    refused = payments.authorise(make_order(buyer, shop), plugin="leaky", method_code="refuse",
                                 token="", amount=order.total, idempotency_key="k-refuse")
    record(order, "placed", "Order placed", actor=buyer, actor_role="buyer")
    outbox.deliver_due([PLUGINS])

    # What is kept still says what happened, without the card.
    crashed, refused = (PaymentTransaction.get_by_id(r.id) for r in (crashed, refused))
    assert crashed.state == "pending" and \
        "ValueError: gateway rejected card [card number redacted] exp 12/40" in crashed.message
    assert refused.state == "failed" and refused.message == \
        "Card [card number redacted] (CVC [redacted]) is blocked."
    failure = OutboxEvent.get(OutboxEvent.kind == "placed").last_error
    assert "ConnectionError: analytics refused [card number redacted], cvv [redacted]" in failure
    assert "[card number redacted]" in pluginmanager.problem("leaky")
    assert "ValueError: gateway rejected card [card number redacted]" in caplog.text
    assert "KeyError: '[card number redacted]'" in caplog.text  # the chained one too

    secrets = ["4000000000000002", "4242424242424242", "123'", "cvv 1234", "CVC 321"]
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    stored = " ".join([r.message for r in PaymentTransaction.select()]
                      + [e.last_error for e in OutboxEvent.select()]
                      + [e.message for e in OrderEvent.select()])
    for text in (logged, stored):
        digits = re.sub(r"(?<=\d)[ -](?=\d)", "", text)
        assert not [s for s in secrets if s in text or s in digits], text
    if is_sqlite():
        database.execute_sql("PRAGMA wal_checkpoint(FULL)")
        raw = open(database_url.removeprefix("sqlite:///"), "rb").read()
        assert not any(s.encode() in raw for s in ("4000000000000002", "4000-0000-0000-0002",
                                                   "4000 0000 0000 0002", "4242 4242"))


@pytest.mark.parametrize("text,kept", [
    ("declined: 4000 0000 0000 0002, cvc 123", "declined: [card number redacted], cvc [redacted]"),
    ("Amex 3782-822463-10005", "Amex [card number redacted]"),
    ("CVV2 code 1234; 987 (cvc)", "CVV2 code [redacted]; [redacted] (cvc)"),
    ("\u0664\u0660\u0660\u0660" * 4, "[card number redacted]"),
    # What is no card data stays readable: amounts, order numbers, years, keys, times.
    ("refund of 3900 on 7K3Q9-XWD2M (k-42) after 2.5 s", None),
    ("we decided in 2026 after an accident 1234", None),
    ("order 123456789012 has 12 digits", None),
])
def test_redact_takes_out_card_numbers_and_cvcs_only(text, kept):
    from portal.hooks.redact import redact
    assert redact(text) == (text if kept is None else kept)
