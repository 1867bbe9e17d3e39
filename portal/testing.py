"""Fixtures for testing a portal plugin, shipped with the portal.

pytest loads this module by itself wherever the portal is installed (entry
point ``pytest11``), so a plugin's tests can simply ask for:

- ``portal_app``: the portal on a temporary SQLite database (or on
  ``PORTAL_TEST_DATABASE_URL``), background tasks run at once, CSRF off;
- ``portal_client``: a test client of that app;
- ``portal_shop``: a seller's shop (the seller logs in with ``seller@example.com``
  and :data:`PASSWORD`);
- ``enable_plugin(shop, name, **settings)``: turn a plugin on for a shop, with settings;
- ``shipped_order(shop, carrier_code, tracking_number)``: a Shipped order with one parcel;
- ``post_webhook(code, shop, payload, secret=..., signer=...)``: post a signed push
  to ``/webhooks/carriers/<code>``;
- ``register_plugin(obj, name)``: register a plugin object for one test.
"""

import json
import os
from datetime import timedelta

import pytest

from portal import pluginmanager, shop_plugins
from portal.models import (ALL_MODELS, Order, OrderEvent, OrderLine, PluginConfig, Shipment,
                           Shop, User, utcnow)

PASSWORD = "password-123"
_PASSWORD_HASH = None


def password_hash() -> str:
    """A real argon2id hash of :data:`PASSWORD`, with cheap parameters, made once."""
    global _PASSWORD_HASH
    if _PASSWORD_HASH is None:
        from argon2 import PasswordHasher
        _PASSWORD_HASH = PasswordHasher(time_cost=1, memory_cost=1024).hash(PASSWORD)
    return _PASSWORD_HASH
TEST_CONFIG = {"TESTING": True, "SECRET_KEY": "portal-testing", "WTF_CSRF_ENABLED": False,
               "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024, "HUEY_IMMEDIATE": True,
               "PLUGIN_TIME_BUDGET": 1.0}


def make_seller_shop(email: str = "seller@example.com", name: str = "Test Shop") -> Shop:
    seller = User.create(email=email, name="Test Seller", role="seller",
                         password_hash=password_hash())
    return Shop.create(owner=seller, name=name, slug=name.lower().replace(" ", "-"))


def make_shipped_order(shop: Shop, carrier_code: str, tracking_number: str, *,
                       buyer: User | None = None) -> Shipment:
    """A Shipped order of ``shop`` with one parcel; returns the parcel (``.order`` is the order)."""
    from portal.orders.numbers import new_order_number
    if buyer is None:
        buyer = User.get_or_none(User.email == "buyer@example.com") or User.create(
            email="buyer@example.com", name="Test Buyer", password_hash=password_hash())
    now = utcnow()
    order = Order.create(
        number=new_order_number(), shop=shop, buyer=buyer, status="shipped", currency="USD",
        subtotal=2500, total=2500, item_summary="Test item", item_count=1, ship_name=buyer.name,
        ship_line1="1 Main Street", ship_city="Portland", ship_region="OR",
        ship_postal_code="97205", ship_country="US", placed_at=now - timedelta(days=2),
        estimated_delivery=(now + timedelta(days=3)).date())
    OrderLine.create(order=order, product_name="Test item", unit_price=2500, quantity=1,
                     line_total=2500)
    OrderEvent.create(order=order, actor=buyer, actor_role="buyer", kind="placed",
                      message="Order placed")
    info = next((i for n in pluginmanager.plugin_names()
                 if (i := shop_plugins.carrier_info(n)) and i.code == carrier_code), None)
    return Shipment.create(order=order, carrier_code=carrier_code,
                           carrier_name=info.name if info else carrier_code,
                           tracking_number=tracking_number, shipped_at=now - timedelta(days=1))


def enable(shop: Shop, name: str, **settings) -> PluginConfig:
    row = shop_plugins.set_enabled(shop, name, True)
    if settings:
        row = shop_plugins.save_settings(shop, name, settings)
    return row


def signed_post(client, code: str, shop: Shop, payload, *, secret: str | None = None,
                signer=None, header: str = "X-Hmac-Signature", headers: dict | None = None):
    """POST ``payload`` (a dict, or raw bytes) to the shop's webhook URL for ``code``.

    ``secret`` defaults to the shop's secret for the plugin; ``signer(secret, body)``
    makes the signature header (EasyPost's scheme unless told otherwise).
    """
    from portal.plugins import easypost
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    if secret is None:
        secret = shop_plugins.for_shop(shop).secret(code)
    signature = (signer or easypost.sign)(secret, body)
    return client.post(f"/webhooks/carriers/{code}?shop={shop.slug}", data=body,
                       content_type="application/json",
                       headers={header: signature, **(headers or {})})


def easypost_event(tracking_code: str, details: list[tuple[str, str]], *,
                   event_id: str = "evt_1", created_at=None, est_delivery_date: str | None = None,
                   carrier: str = "USPS") -> dict:
    """An EasyPost ``tracker.updated`` Event with one scan per (status, message), an hour apart."""
    created_at = created_at or utcnow()
    start = created_at - timedelta(hours=len(details))
    return {
        "id": event_id, "object": "Event", "mode": "test", "description": "tracker.updated",
        "created_at": created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "result": {
            "id": "trk_test", "object": "Tracker", "mode": "test",
            "tracking_code": tracking_code, "carrier": carrier,
            "status": details[-1][0] if details else "unknown",
            "est_delivery_date": est_delivery_date,
            "tracking_details": [
                {"object": "TrackingDetail", "status": status, "message": message,
                 "status_detail": "", "source": carrier,
                 "datetime": (start + timedelta(hours=k)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "tracking_location": {"object": "TrackingLocation", "city": "Portland",
                                       "state": "OR", "country": "US", "zip": "97205"}}
                for k, (status, message) in enumerate(details)],
        },
        "previous_attributes": {}, "pending_urls": [], "completed_urls": [],
    }


@pytest.fixture
def portal_app(tmp_path):
    from portal import create_app
    from portal.db import database
    url = os.environ.get("PORTAL_TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'portal.sqlite3'}"
    app = create_app({**TEST_CONFIG, "DATABASE_URL": url})
    with app.app_context():
        database.connect(reuse_if_open=True)
        database.drop_tables(ALL_MODELS, safe=True)
        database.create_tables(ALL_MODELS)
        yield app
        if not database.is_closed():
            database.close()
    pluginmanager.forgive_all()


@pytest.fixture
def portal_client(portal_app):
    return portal_app.test_client()


@pytest.fixture
def portal_shop(portal_app):
    return make_seller_shop()


@pytest.fixture
def enable_plugin(portal_app):
    return enable


@pytest.fixture
def shipped_order(portal_app):
    return make_shipped_order


@pytest.fixture
def post_webhook(portal_client):
    def post(code, shop, payload, **kwargs):
        return signed_post(portal_client, code, shop, payload, **kwargs)
    return post


@pytest.fixture
def register_plugin():
    names = []

    def register(plugin, name: str):
        pluginmanager.register(plugin, name)
        shop_plugins.forget_carriers()
        names.append(name)
        return plugin

    yield register
    for name in names:
        pluginmanager.unregister(name)
    shop_plugins.forget_carriers()
    pluginmanager.forgive_all()
