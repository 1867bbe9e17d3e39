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
