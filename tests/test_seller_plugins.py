"""/seller/plugins: a shop turns plugins on and off and fills in their settings."""

import json

import pytest

from portal import shop_plugins
from portal.models import PluginConfig
from tests.factories import make_shop, make_user


@pytest.fixture
def seller_in(client, auth, shop):
    auth.login("seller@example.com")
    return client


def test_the_page_lists_plugins_by_family(seller_in):
    html = seller_in.get("/seller/plugins/").get_data(as_text=True)
    assert "<h2" in html and "Carriers" in html
    for title in ("UPS", "USPS", "FedEx", "DHL Express", "Demo Parcel", "easypost",
                  "Other carrier (manual tracking)"):
        assert f"<h3>{title}</h3>" in html


def test_enabling_a_webhook_carrier_shows_its_url_and_secret(seller_in, shop):
    response = seller_in.post("/seller/plugins/easypost/enabled", data={"enabled": "1"})
    assert response.status_code == 303
    secret = shop_plugins.for_shop(shop).secret("easypost")
    assert secret.startswith("whsec_")
    html = seller_in.get("/seller/plugins/").get_data(as_text=True)
    assert f"/webhooks/carriers/easypost?shop={shop.slug}" in html
    assert secret in html
    seller_in.post("/seller/plugins/easypost/secret")
    assert shop_plugins.for_shop(shop).secret("easypost") not in ("", secret)


def test_settings_are_validated_by_the_plugins_form(seller_in, shop):
    # plugin_settings_form: the demo carrier supplies a WTForms form.
    bad = seller_in.post("/seller/plugins/demo/settings", data={"demo-minutes_per_step": "0"})
    assert bad.status_code == 422
    assert "Number must be between 1 and 1440" in bad.get_data(as_text=True)
    assert shop_plugins.for_shop(shop).settings("demo") == {}
    good = seller_in.post("/seller/plugins/demo/settings", data={"demo-minutes_per_step": "5"})
    assert good.status_code == 303
    assert shop_plugins.for_shop(shop).settings("demo") == {"minutes_per_step": 5}
    assert 'value="5"' in seller_in.get("/seller/plugins/").get_data(as_text=True)


def test_turning_off_and_unknown_plugins(seller_in, shop):
    seller_in.post("/seller/plugins/ups/enabled", data={"enabled": "1"})
    assert shop_plugins.for_shop(shop).is_enabled("ups")
    seller_in.post("/seller/plugins/ups/enabled", data={"enabled": "0"})
    assert not shop_plugins.for_shop(shop).is_enabled("ups")
    assert seller_in.post("/seller/plugins/nope/enabled", data={"enabled": "1"}).status_code == 404
    assert seller_in.post("/seller/plugins/ups/settings", data={}).status_code == 404  # no form


def test_one_shop_never_sees_or_changes_another_shops_settings(client, auth, shop):
    shop_plugins.set_enabled(shop, "easypost", True)
    shop_plugins.save_settings(shop, "demo", {"minutes_per_step": 7})
    secret = shop_plugins.for_shop(shop).secret("easypost")
    other = make_shop(make_user("seller2@example.com", role="seller"), "Second Shop")
    auth.login("seller2@example.com")
    html = client.get("/seller/plugins/").get_data(as_text=True)
    assert secret not in html and 'value="7"' not in html
    client.post("/seller/plugins/demo/settings", data={"demo-minutes_per_step": "9"})
    assert shop_plugins.for_shop(shop).settings("demo") == {"minutes_per_step": 7}
    assert shop_plugins.for_shop(other).settings("demo") == {"minutes_per_step": 9}


def test_buyers_and_visitors_get_nothing(client, auth, buyer):
    assert client.get("/seller/plugins/").status_code == 302  # to the login page
    auth.login()
    assert client.get("/seller/plugins/").status_code == 404
    assert client.post("/seller/plugins/demo/enabled", data={"enabled": "1"}).status_code == 404
    assert PluginConfig.select().count() == 0


def test_every_form_on_the_page_carries_a_csrf_token(csrf_app, shop):
    from portal.db import database
    with csrf_app.app_context():
        database.connect(reuse_if_open=True)
        client = csrf_app.test_client()
        login = client.get("/login").get_data(as_text=True)
        token = login.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        client.post("/login", data={"email": "seller@example.com", "password": "password-123",
                                    "csrf_token": token})
        html = client.get("/seller/plugins/").get_data(as_text=True)
        assert html.count("<form") == html.count('name="csrf_token"')
        assert client.post("/seller/plugins/demo/enabled", data={"enabled": "1"}).status_code == 400


def test_settings_are_stored_as_json(shop):
    shop_plugins.save_settings(shop, "demo", {"minutes_per_step": 3})
    assert json.loads(PluginConfig.get().settings) == {"minutes_per_step": 3}
