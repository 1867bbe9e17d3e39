import dataclasses
import re

import pytest

from portal.models import Product, Shop
from portal.orders import shop_settings
from tests.factories import make_variant

VALID = {"ship_from_name": "Northwind Threads", "ship_from_line1": "1 Dock Road",
         "ship_from_line2": "", "ship_from_city": "Portland", "ship_from_region": "oregon",
         "ship_from_postal_code": "97205", "ship_from_country": "US", "handling_days": "3",
         "modification_window_hours": "24", "return_window_days": "14",
         "notify_by_email": "y", "flat_rate": "6.50", "flat_rate_days": "5",
         "timezone": "UTC"}


def test_settings_are_saved(client, auth, shop):
    shirt = make_variant(shop, "Linen shirt").product
    socks = make_variant(shop, "Running socks").product
    auth.login("seller@example.com")
    assert "Handling time (days to ship)" in client.get("/seller/settings").get_data(as_text=True)
    response = client.post("/seller/settings", data={**VALID, "non_returnable": [str(socks.id)]})
    assert response.status_code == 303
    saved = Shop.get_by_id(shop.id)
    assert (saved.handling_days, saved.modification_window_hours, saved.return_window_days) == \
        (3, 24, 14)
    assert saved.ship_from_region == "OR"  # normalised for its country
    assert saved.notify_by_email is True
    assert Product.get_by_id(socks.id).returnable is False
    assert Product.get_by_id(shirt.id).returnable is True
    html = client.get("/seller/settings").get_data(as_text=True)
    assert "Settings saved." in html
    ticked = re.findall(r'<input checked[^>]*value="(\d+)"', html)
    assert ticked == [str(socks.id)]


def test_settings_errors_appear_next_to_their_fields(client, auth, shop):
    auth.login("seller@example.com")
    response = client.post("/seller/settings", data={
        **VALID, "handling_days": "45", "return_window_days": "", "ship_from_postal_code": "ABC",
        "notify_by_email": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="handling_days-error">From 0 to 30 days.' in html
    assert 'id="return_window_days-error">How long may buyers return items?' in html
    assert Shop.get_by_id(shop.id).handling_days == 2  # nothing saved

    response = client.post("/seller/settings", data={**VALID, "ship_from_postal_code": "ABC"})
    assert 'id="ship_from_postal_code-error">This does not look right for an address in United States.' \
        in response.get_data(as_text=True)
    assert Shop.get_by_id(shop.id).ship_from_postal_code == "97201"  # the old address kept


def test_notifications_can_be_turned_off(client, auth, shop):
    auth.login("seller@example.com")
    client.post("/seller/settings", data={**VALID, "notify_by_email": ""})
    assert Shop.get_by_id(shop.id).notify_by_email is False


def test_the_settings_are_saved_by_the_domain_in_one_step(shop):
    """Without a request: what a JSON API or a CLI would call."""
    socks = make_variant(shop, "Running socks").product
    address = {"name": "Northwind", "line1": "1 Dock Road", "city": "Portland",
               "region": "oregon", "postal_code": "ABC", "country": "US"}
    wanted = shop_settings.ShopSettings(ship_from=address, handling_days=4,
                                        modification_window_hours=6, return_window_days=10,
                                        non_returnable={socks.id}, notify_by_email=False)
    with pytest.raises(shop_settings.ShipFromRefused) as refused:
        shop_settings.update(shop, wanted)
    assert refused.value.code == "settings.bad_ship_from"
    assert list(refused.value.errors) == ["postal_code"]
    stored = Shop.get_by_id(shop.id)
    assert (stored.handling_days, stored.ship_from_postal_code) == (2, "97201")  # nothing saved
    assert Product.get_by_id(socks.id).returnable is True

    shop_settings.update(shop, dataclasses.replace(
        wanted, ship_from={**address, "postal_code": "97205"}))
    stored = Shop.get_by_id(shop.id)
    assert (stored.handling_days, stored.modification_window_hours, stored.return_window_days,
            stored.notify_by_email, stored.ship_from_region) == (4, 6, 10, False, "OR")
    assert Product.get_by_id(socks.id).returnable is False
    # An empty ship-from address (but its country) is no address to check.
    shop_settings.update(shop, dataclasses.replace(wanted, ship_from={"country": "US"}))
    assert Shop.get_by_id(shop.id).ship_from_line1 == ""


def test_the_flat_rate_is_money_in_the_shops_currency(client, auth, shop):
    auth.login("seller@example.com")
    html = client.get("/seller/settings").get_data(as_text=True)
    assert "Flat shipping rate (USD)" in html and 'value="5.00"' in html  # the 500 it had
    assert client.post("/seller/settings", data={**VALID, "flat_rate": "1,250.5",
                                                 "flat_rate_days": "3"}).status_code == 303
    saved = Shop.get_by_id(shop.id)
    assert (saved.flat_rate_amount, saved.flat_rate_days) == (125050, 3)
    assert 'value="1250.50"' in client.get("/seller/settings").get_data(as_text=True)
    assert client.post("/seller/settings", data={**VALID, "flat_rate": "0"}).status_code == 303
    assert Shop.get_by_id(shop.id).flat_rate_amount == 0  # free shipping is a flat rate too
    Shop.update(currency="JPY").where(Shop.id == shop.id).execute()
    assert client.post("/seller/settings", data={**VALID, "flat_rate": "800"}).status_code == 303
    assert Shop.get_by_id(shop.id).flat_rate_amount == 800  # yen have no minor units


@pytest.mark.parametrize("typed,days,field,message", [
    ("-1", "5", "flat_rate", "An amount in USD, such as 5.00."),
    ("1.005", "5", "flat_rate", "An amount in USD, such as 5.00."),
    ("1e3", "5", "flat_rate", "An amount in USD, such as 5.00."),
    ("\u0661\u0662", "5", "flat_rate", "An amount in USD, such as 5.00."),
    ("", "5", "flat_rate", "What do you charge when no carrier quotes a rate? 0 ships free."),
    ("250000", "5", "flat_rate", "From $0.00 to $100,000.00."),
    ("5", "0", "flat_rate_days", "From 1 to 60 days."),
    ("5", "", "flat_rate_days", "How many days does flat-rate shipping take?"),
])
def test_a_bad_flat_rate_is_refused_beside_its_field(client, auth, shop, typed, days, field,
                                                      message):
    auth.login("seller@example.com")
    response = client.post("/seller/settings", data={**VALID, "flat_rate": typed,
                                                     "flat_rate_days": days})
    assert response.status_code == 422
    assert f'id="{field}-error">{message}' in response.get_data(as_text=True)
    stored = Shop.get_by_id(shop.id)
    assert (stored.flat_rate_amount, stored.flat_rate_days, stored.handling_days) == (500, 7, 2)


def test_the_domain_refuses_a_flat_rate_out_of_bounds(shop):
    settings = shop_settings.ShopSettings(ship_from={"country": "US"}, handling_days=2,
                                          modification_window_hours=12, return_window_days=30,
                                          flat_rate=-5, flat_rate_days=90)
    with pytest.raises(shop_settings.FlatRateRefused) as refused:
        shop_settings.update(shop, settings)
    assert set(refused.value.errors) == {"flat_rate", "flat_rate_days"}
    assert Shop.get_by_id(shop.id).flat_rate_amount == 500


def test_the_shops_time_zone_is_its_coupons_clock(client, auth, shop):
    from datetime import datetime
    from portal.models import Coupon
    auth.login("seller@example.com")
    refused = client.post("/seller/settings", data={**VALID, "timezone": "Mars/Olympus"})
    assert refused.status_code == 422 and "Not a valid choice" in refused.get_data(as_text=True)
    assert client.post("/seller/settings", data={**VALID, "timezone": "Asia/Tokyo"}) \
        .status_code == 303
    assert Shop.get_by_id(shop.id).timezone == "Asia/Tokyo"
    page = client.get("/seller/settings").get_data(as_text=True)
    assert '<option selected value="Asia/Tokyo">' in page
    created = client.post("/seller/coupons/new?kind=coupons:percentage", data={
        "name": "New year", "code": "NEWYEAR", "kind-percent": "10",
        "starts_at": "2027-01-01T00:00", "ends_at": "2027-01-08T00:00"})
    assert created.status_code == 303
    coupon = Coupon.get(Coupon.code == "NEWYEAR")  # Tokyo's midnight, stored in UTC
    assert (coupon.starts_at, coupon.timezone) == (datetime(2026, 12, 31, 15), "Asia/Tokyo")
