"""A plugin that raises or hangs is logged and shown as unavailable; the page still works."""

import logging
import threading
import time

import pytest

from portal import hookimpl, pluginmanager, shipping
from portal.hooktypes import CarrierInfo, Parcel
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

    @hookimpl
    def carrier_rates(self, carrier_code):
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
    monkeypatch.setitem(pluginmanager._broken, "halfbaked", "halfbaked 0.1: ImportError: nope")
    auth.login("seller@example.com")
    html = client.get("/seller/plugins/").get_data(as_text=True)
    assert "This plugin is unavailable: halfbaked 0.1: ImportError: nope" in html
