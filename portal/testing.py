"""Fixtures for testing a portal plugin, shipped with the portal.

pytest loads this module by itself wherever the portal is installed (entry
point ``pytest11``), so a plugin's tests simply ask for the fixtures by name;
``docs/plugins.md`` ("Test fixtures") documents each with an example. Sellers
made here log in with their e-mail and :data:`PASSWORD`.

The fixtures wrap plain functions of this module (``enable``,
``make_shipped_order``, ``make_processed_order``, ``signed_post``, ...), which
the portal's own tests import directly.
"""

import json
import os
from datetime import timedelta

import pytest

from portal.hooks import pluginmanager, shop_plugins
from portal.hooks.shop_plugins import SettingsRefused  # what enable_plugin raises

__all__ = ["SettingsRefused", "installed_plugins"]
from portal.models import Order, PluginConfig, Shipment, Shop, User, utcnow

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
    """A seller (``email``, :data:`PASSWORD`) and their shop."""
    seller = User.create(email=email, name="Test Seller", role="seller",
                         password_hash=password_hash())
    return Shop.create(owner=seller, name=name, slug=name.lower().replace(" ", "-"))


def make_shipped_order(shop: Shop, carrier_code: str, tracking_number: str, *,
                       buyer: User | None = None) -> Shipment:
    """A Shipped order of ``shop`` with one parcel; returns the parcel (``.order`` is the order)."""
    from portal.orders.bulk import Parcel, Times
    info = next((i for n in pluginmanager.plugin_names()
                 if (i := shop_plugins.carrier_info(n)) and i.code == carrier_code), None)
    now = utcnow()
    placed = now - timedelta(days=2)
    eta = (now + timedelta(days=3)).date()
    order = _place(shop, buyer, "shipped", (("Test item", 2500, 1),), "USD", "US", "97205",
                   placed, eta, Times(placed, placed + timedelta(hours=4),
                                      now - timedelta(days=1)),
                   Parcel(carrier_code, info.name if info else carrier_code, tracking_number,
                          "pre_transit", eta))
    return Shipment.get(Shipment.order == order.id)


def _buyer(buyer: User | None) -> User:
    if buyer is not None:
        return buyer
    return User.get_or_none(User.email == "buyer@example.com") or User.create(
        email="buyer@example.com", name="Test Buyer", password_hash=password_hash())


def make_processed_order(shop: Shop, *, buyer: User | None = None,
                         items=(("Test item", 2500, 1),), currency: str = "USD",
                         ship_country: str = "US", ship_postal_code: str = "97205") -> Order:
    """A Processed order of ``shop``, its checklist done: ready to ship or to buy a label for.

    ``items`` are (product name, unit price in minor units, quantity).
    """
    from portal.orders.bulk import Times
    now = utcnow()
    placed = now - timedelta(days=1)
    return _place(shop, buyer, "processed", items, currency, ship_country, ship_postal_code,
                  placed, (now + timedelta(days=4)).date(),
                  Times(placed, placed + timedelta(hours=4)))


def _place(shop, buyer, status, items, currency, country, postal_code, placed, eta, times,
           parcel=None) -> Order:
    """An order as checkout placed it and the seller moved it on (``times``), paid with the
    card plugin's test gateway, through the portal's bulk order path."""
    from portal.orders.bulk import PastOrder, place_past
    from portal.orders.placing import Line
    buyer = _buyer(buyer)
    lines = [Line(None, name, "", "", "", price, quantity, price * quantity)
             for name, price, quantity in items]
    address = dict(name=buyer.name, line1="1 Main Street", city="Portland", region="OR",
                   postal_code=postal_code, country=country)
    return place_past([PastOrder(buyer, shop, lines, address, placed, status, currency=currency,
                                 estimated_delivery=eta, times=times, parcel=parcel)])[0]


def enable(shop: Shop, name: str, **settings) -> PluginConfig:
    """Turn plugin ``name`` on for ``shop``; store ``settings`` as its settings form would.

    The settings go through the plugin's form, as the seller's page does:
    fields not given keep the stored value or the form's default, and
    :class:`portal.testing.SettingsRefused` (a ``ValueError``) says which
    field the form refuses and why. Without settings nothing is stored.
    """
    if name not in pluginmanager.plugin_names():
        raise LookupError(f"No plugin named {name!r} is registered; installed: "
                          f"{', '.join(pluginmanager.plugin_names())}")
    if settings:
        stored = shop_plugins.for_shop(shop).settings(name)
        settings = shop_plugins.validate_settings(name, settings, stored)
    row = shop_plugins.set_enabled(shop, name, True)
    if settings:
        row = shop_plugins.save_settings(shop, name, settings)
    return row


def login(client, email: str, password: str = PASSWORD):
    """Log ``client`` in through the login form; raises if the portal refuses."""
    response = client.post("/login", data={"email": email, "password": password})
    if response.status_code not in (302, 303):
        raise AssertionError(f"Logging in as {email} was refused ({response.status_code}).")
    return client


def buy_label_and_ship(shop: Shop, order: Order, carrier_code: str, service_code: str,
                       actor: User | None = None) -> Shipment:
    """What the seller's "Buy label" does: quote again, buy, ship what is left with the label.

    Raises :class:`portal.shipping.ShippingRefused` with the seller's message
    when the carrier refuses or fails.
    """
    from portal import shipping
    from portal.orders import fulfilment
    label = shipping.buy_label(shop, order, carrier_code, service_code)
    name = next((c.name for c in shipping.carriers_for_shop(shop) if c.code == carrier_code),
                carrier_code)
    package = fulfilment.Package(fulfilment.remaining(order), label.carrier_code, name,
                                 label.tracking_number, label.tracking_url,
                                 shipping.label_shipment_fields(label))
    return fulfilment.ship(order, package, version=order.version, actor=actor or shop.owner)


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


def installed_plugins() -> list[str]:
    """The names of the plugins the portal found (its own and installed packages)."""
    return pluginmanager.plugin_names()


@pytest.fixture
def portal_app(tmp_path):
    """The portal (a Flask app) on an empty database, inside an app context for the test.

    The database is a temporary SQLite file, or the one ``PORTAL_TEST_DATABASE_URL``
    names (its tables are dropped and made anew). Background tasks run at once,
    CSRF checks are off, a hook has 1 s to answer. Every other fixture uses it.
    """
    from portal import create_app
    from portal.db import database, drop_schema, upgrade_schema
    url = os.environ.get("PORTAL_TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'portal.sqlite3'}"
    app = create_app({**TEST_CONFIG, "DATABASE_URL": url})
    with app.app_context():
        drop_schema()
        upgrade_schema()  # the tables as a real database gets them: through the migrations
        database.connect(reuse_if_open=True)
        yield app
        if not database.is_closed():
            database.close()
    pluginmanager.forgive_all()
    own = app.extensions["portal.database"]
    if hasattr(own, "close_all"):  # the pool's connections, not left for the GC to close
        own.close_all()


@pytest.fixture
def portal_client(portal_app):
    """A test client of ``portal_app`` (``get``, ``post``, ...), not logged in."""
    return portal_app.test_client()


@pytest.fixture
def portal_shop(portal_app):
    """A shop, "Test Shop" (slug ``test-shop``); its seller logs in as ``seller@example.com``
    with :data:`portal.testing.PASSWORD`. No plugin is on but the always-on manual carrier."""
    return make_seller_shop()


@pytest.fixture
def seller_client(portal_client, portal_shop):
    """``portal_client`` logged in as ``portal_shop``'s seller: open ``/seller/...`` pages."""
    return login(portal_client, portal_shop.owner.email)


@pytest.fixture
def enable_plugin(portal_app):
    """``enable_plugin(shop, name, **settings)``: turn a plugin on for a shop, with settings.

    The settings are checked by the plugin's settings form as the seller's page
    checks them (fields not given keep their default) and stored as the form
    gives them; a value the form refuses raises
    ``portal.testing.SettingsRefused`` naming the field and the form's
    message. A plugin that takes webhooks gets the shop's secret. Returns the
    shop's ``PluginConfig`` row of the plugin.
    """
    return enable


@pytest.fixture
def processed_order(portal_app):
    """``processed_order(shop, *, buyer=None, items=(("Test item", 2500, 1),), currency="USD",
    ship_country="US", ship_postal_code="97205")``: a Processed order, its checklist done,
    ready to ship or to buy a label for. Items are (name, unit price in cents, quantity).
    Returns the ``portal.models.Order``.
    """
    return make_processed_order


@pytest.fixture
def shipped_order(portal_app):
    """``shipped_order(shop, carrier_code, tracking_number, *, buyer=None)``: a Shipped order
    with one parcel of that carrier. Returns the parcel (a ``portal.models.Shipment``;
    ``.order`` is the order, ``.status`` its latest tracking status)."""
    return make_shipped_order


@pytest.fixture
def quote_rates(portal_app):
    """``quote_rates(shop, order, carrier_code=None)``: the rates the seller is offered for an
    order, as the order page asks for them (``carrier_rates`` of each label-selling carrier the
    shop has on and configured). Returns a ``RateQuote``: ``.rates`` (``Rate``, cheapest
    first), ``.unavailable`` (names of carriers that failed), ``.refused`` ("Name: why" of
    carriers that raised ``PluginRefusal``)."""
    from portal import shipping
    return shipping.quote_rates


@pytest.fixture
def buy_label(portal_app):
    """``buy_label(shop, order, carrier_code, service_code)``: what the seller's "Buy label"
    does: quote again, call ``carrier_buy_label``, ship everything left with the label. Returns
    the parcel (``Shipment``: ``tracking_number``, ``label_id``, ``label_amount``, ...); raises
    ``portal.shipping.ShippingRefused`` with the message the seller would read."""
    return buy_label_and_ship


@pytest.fixture
def poll_tracking(portal_app):
    """``poll_tracking(now=None)``: one run of the background worker's tracking poll. Every
    undelivered parcel of a ``"polling"`` carrier is passed to its ``carrier_track`` (with
    ``now``, default the current time, naive UTC); new scans are stored and a fully delivered
    order becomes Delivered. Returns how many scans were new."""
    from portal.shipping import tracking
    return tracking.poll_shipments


@pytest.fixture
def post_webhook(portal_client):
    """``post_webhook(code, shop, payload, *, secret=None, signer=None, header="X-Hmac-Signature",
    headers=None)``: POST ``payload`` (a dict, sent as JSON, or raw bytes) to
    ``/webhooks/carriers/<code>?shop=<slug>``, signed with the shop's secret for the plugin
    (or ``secret``). ``signer(secret, body)`` makes the ``header`` value (EasyPost's scheme
    by default). Returns the response."""
    def post(code, shop, payload, **kwargs):
        return signed_post(portal_client, code, shop, payload, **kwargs)
    return post


@pytest.fixture
def register_plugin():
    """``register_plugin(plugin, name)``: register an object (or module) whose methods are
    decorated with ``portal.hookimpl`` as plugin ``name``, for this test only. Returns it."""
    registered = []  # (the app's plugins it went to, name)

    def register(plugin, name: str):
        pluginmanager.register(plugin, name)
        shop_plugins.forget_carriers()
        registered.append((pluginmanager.current(), name))
        return plugin

    yield register
    for plugins, name in registered:
        token = pluginmanager.use(plugins)
        try:
            pluginmanager.unregister(name)
            shop_plugins.forget_carriers()
            pluginmanager.forgive_all()
        finally:
            pluginmanager.release(token)
