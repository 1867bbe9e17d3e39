"""/seller/plugins: a shop turns plugins on and off and fills in their settings."""

import json

import pytest
from wtforms import Form, PasswordField, StringField
from wtforms.validators import InputRequired, Length, Optional

from portal import hookimpl, shipping
from portal.hooks import shop_plugins
from portal.hooktypes import CarrierInfo, TrackingNumberCheck
from portal.models import PluginConfig
from tests.factories import make_shop, make_user


@pytest.fixture
def seller_in(client, auth, shop):
    auth.login("seller@example.com")
    return client


def test_the_page_lists_plugins_by_family(seller_in):
    html = seller_in.get("/seller/plugins/").get_data(as_text=True)
    assert "<h2" in html and "Carriers" in html
    for title in ("UPS", "USPS", "FedEx", "DHL Express", "Demo Parcel", "EasyPost tracking",
                  "Other carrier (manual tracking)"):
        assert f"<h3>{title}</h3>" in html


def test_enabling_a_webhook_carrier_shows_its_url_and_secret(seller_in, shop):
    response = seller_in.post("/seller/plugins/easypost/enabled", data={"enabled": "1"})
    assert response.status_code == 303
    secret = shop_plugins.for_shop(shop).secret("easypost")
    assert secret.startswith("whsec_")
    page = seller_in.get("/seller/plugins/")
    html = page.get_data(as_text=True)
    assert f"/webhooks/carriers/easypost?shop={shop.slug}" in html
    # Masked on the page; in full only when the seller asks for it (a POST, never cached).
    assert secret not in html and "whsec_••••••••" + secret[-4:] in html
    assert page.headers["Cache-Control"] == "no-store"
    shown = seller_in.post("/seller/plugins/easypost/secret/show")
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    assert f"<code>{secret}</code>" in shown.get_data(as_text=True)
    assert seller_in.post("/seller/plugins/ups/secret/show").status_code == 404  # no webhooks
    rotated = seller_in.post("/seller/plugins/easypost/secret", follow_redirects=True)
    assert "A new webhook secret was made for EasyPost tracking" in rotated.get_data(as_text=True)
    assert shop_plugins.for_shop(shop).secret("easypost") not in ("", secret)


def test_settings_are_validated_by_the_plugins_form(seller_in, shop):
    # plugin_settings_form: the demo carrier supplies a WTForms form.
    bad = seller_in.post("/seller/plugins/demo/settings", data={"demo-minutes_per_step": "0"})
    assert bad.status_code == 422
    assert "Number must be between 1 and 1440" in bad.get_data(as_text=True)
    assert shop_plugins.for_shop(shop).settings("demo") == {}
    good = seller_in.post("/seller/plugins/demo/settings", data={"demo-minutes_per_step": "5"})
    assert good.status_code == 303
    assert shop_plugins.for_shop(shop).settings("demo")["minutes_per_step"] == 5
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
    assert shop_plugins.for_shop(other).settings("demo")["minutes_per_step"] == 9


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


class KeyedSettings(Form):
    api_key = PasswordField("API key", validators=[InputRequired()],
                            description="On your Keyed Freight account page.")
    account = StringField("Account number", validators=[Optional(), Length(max=10)])


class KeyedFreight:
    """A carrier that cannot work without an API key."""

    @hookimpl
    def carrier_info(self):
        return CarrierInfo("keyed", "Keyed Freight")

    @hookimpl
    def plugin_settings_form(self, plugin_name):
        return KeyedSettings if plugin_name == "keyed" else None

    @hookimpl
    def carrier_validate_tracking_number(self, carrier_code, tracking_number, settings):
        if carrier_code != "keyed":
            return None
        assert settings["api_key"] == "sk_live_0123456789abcd"
        return TrackingNumberCheck(tracking_number.startswith("KF"), tracking_number, "keyed",
                                   "Keyed Freight", message="Not a Keyed Freight number.")


@pytest.fixture
def keyed(register_plugin):
    return register_plugin(KeyedFreight(), "keyed")


def test_a_plugin_turned_on_without_its_required_settings_is_not_configured(seller_in, shop, keyed):
    turned_on = seller_in.post("/seller/plugins/keyed/enabled", data={"enabled": "1"},
                               follow_redirects=True)
    html = turned_on.get_data(as_text=True)
    assert "Keyed Freight is on, but not configured yet: fill in API key" in html
    assert ">Not configured</span>" in html and ">On</span>" not in html.split('id="plugin-keyed"')[1]
    assert "keyed" not in [c.code for c in shipping.carriers_for_shop(shop)]
    assert not shipping.check_tracking_number(shop, "keyed", "KF123456").valid
    saved = seller_in.post("/seller/plugins/keyed/settings",
                           data={"keyed-api_key": "sk_live_0123456789abcd"}, follow_redirects=True)
    html = saved.get_data(as_text=True)
    assert "Settings of Keyed Freight saved." in html
    assert ">On</span>" in html.split('id="plugin-keyed"')[1].split("</article>")[0]
    assert "keyed" in [c.code for c in shipping.carriers_for_shop(shop)]
    assert shipping.check_tracking_number(shop, "keyed", "KF123456").valid


def test_secret_settings_are_masked_and_kept_when_left_empty(seller_in, shop, keyed):
    shop_plugins.set_enabled(shop, "keyed", True)
    seller_in.post("/seller/plugins/keyed/settings",
                   data={"keyed-api_key": "sk_live_0123456789abcd", "keyed-account": "A1"})
    html = seller_in.get("/seller/plugins/").get_data(as_text=True)
    assert "sk_live_0123456789abcd" not in html
    assert "Stored: <span class=\"mono\">••••••••abcd</span>" in html
    assert 'autocomplete="new-password"' in html and 'autocomplete="None"' not in html
    assert "On your Keyed Freight account page." in html  # the field's description
    assert 'aria-describedby="keyed-api_key-hint"' in html
    # Left empty: the stored key stays; typed: it is replaced.
    seller_in.post("/seller/plugins/keyed/settings", data={"keyed-api_key": "", "keyed-account": "B2"})
    assert shop_plugins.for_shop(shop).settings("keyed") == {
        "api_key": "sk_live_0123456789abcd", "account": "B2"}
    seller_in.post("/seller/plugins/keyed/settings", data={"keyed-api_key": "sk_new_999999999999"})
    assert shop_plugins.for_shop(shop).settings("keyed")["api_key"] == "sk_new_999999999999"
    # A refused form does not send the secret back either.
    bad = seller_in.post("/seller/plugins/keyed/settings",
                         data={"keyed-api_key": "", "keyed-account": "much too long"})
    assert bad.status_code == 422 and "sk_new_999999999999" not in bad.get_data(as_text=True)


def test_messages_use_the_plugins_display_name(seller_in, shop):
    html = seller_in.post("/seller/plugins/demo/enabled", data={"enabled": "1"},
                          follow_redirects=True).get_data(as_text=True)
    assert "Demo Parcel is on for your shop." in html
    html = seller_in.post("/seller/plugins/easypost/enabled", data={"enabled": "0"},
                          follow_redirects=True).get_data(as_text=True)
    assert "EasyPost tracking is off for your shop." in html
    assert "Scans of UPS, USPS, FedEx and DHL parcels" in html  # plugin_info's description


def test_no_input_on_the_page_says_autocomplete_none(seller_in):
    html = seller_in.get("/seller/plugins/").get_data(as_text=True)
    assert "<input" in html and 'autocomplete="None"' not in html


def test_a_freshly_installed_plugin_needs_a_restart_and_the_page_says_so(seller_in):
    assert "appears here after the portal restarts" in seller_in.get("/seller/plugins/").get_data(
        as_text=True)


def test_enable_plugin_checks_settings_through_the_plugins_form(shop):
    from portal.testing import enable
    with pytest.raises(shop_plugins.SettingsRefused,
                       match="'demo' refuses these settings: minutes_per_step: Number must be "
                             "between 1 and 1440"):
        enable(shop, "demo", minutes_per_step=0)
    with pytest.raises(shop_plugins.SettingsRefused, match="minutes: not a field of its settings "
                                                           "form \\(fields: .*minutes_per_step"):
        enable(shop, "demo", minutes=5)
    with pytest.raises(shop_plugins.SettingsRefused, match="ups.*has no settings form"):
        enable(shop, "ups", account="1")
    with pytest.raises(LookupError, match="No plugin named 'nope'"):
        enable(shop, "nope")
    assert PluginConfig.select().count() == 0  # nothing stored by a refused call
    enable(shop, "demo", minutes_per_step="7")
    assert shop_plugins.for_shop(shop).settings("demo")["minutes_per_step"] == 7  # an int, as the form stores it
    enable(shop, "easypost", tolerance_minutes=30)
    assert shop_plugins.for_shop(shop).settings("easypost") == {"tolerance_minutes": 30}
