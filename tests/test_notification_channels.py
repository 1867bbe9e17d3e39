"""Notification channels from plugins (hooks ``notification_channels`` and
``notification_send``): the example SMS plugin (tests/sms_example.py) posts to a real
local HTTP gateway; only people who turned the channel on are texted; a failing gateway
is retried, and a raising or hanging plugin holds up nothing else. And /account's
preferences: kinds x channels, the phone number, CSRF, the unsubscribe links."""

import json
import re
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from portal import hookimpl, outbox
from portal.hooks import pluginmanager, shop_plugins
from portal.hooktypes import NotificationChannel
from portal.models import (Notification, NotificationPreference, OutboxDelivery, OutboxEvent,
                           Shop, User, utcnow)
from portal.notifications import channels, preferences
from portal.orders import lifecycle
from portal.orders.lifecycle import Status
from tests import sms_example
from tests.factories import PASSWORD, make_order
from tests.test_notifications import deliver, smtp  # noqa: F401 (a fixture)

PHONE = "+14155550123"


class Gateway(BaseHTTPRequestHandler):
    """An SMS gateway: keeps what is posted, or answers ``server.status`` (503: down)."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.server.status == 200:
            self.server.received.append(json.loads(body))
        self.send_response(self.server.status)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    server.received, server.status = [], 200
    server.url = f"http://127.0.0.1:{server.server_address[1]}/send"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def sms(app, shop, gateway, register_plugin):
    """The SMS plugin installed and enabled by the shop, sending to the gateway."""
    register_plugin(sms_example, "sms-example")
    enable(shop, "sms-example", gateway_url=gateway.url, sender="TestShop")
    return gateway


def enable(shop, name, **settings):
    shop_plugins.set_enabled(shop, name, True)
    shop_plugins.save_settings(shop, name, shop_plugins.validate_settings(name, settings))


def opt_in(user, *kinds, channel="sms", phone=PHONE):
    User.update(phone=phone).where(User.id == user.id).execute()
    preferences.save(user.id, {(channel, kind): True for kind in kinds})


def process(order, seller):
    lifecycle.transition(order, Status.PROCESSED, actor=seller, actor_role="seller")


# -- the hooks ---------------------------------------------------------------------------

def test_the_plugin_names_its_channel_and_sends_on_it(app, buyer, seller, shop, sms):
    assert [(c.plugin, c.code, c.needs) for c in channels.installed()] == [
        ("sms-example", "sms", "phone")]
    outcome = pluginmanager.call("sms-example", "notification_channels")
    assert outcome.value[0] == NotificationChannel(
        code="sms", name="Text message", needs="phone",
        description="To your phone number; standard rates apply.")
    order = make_order(buyer, shop)
    opt_in(buyer, "processed")
    process(order, seller)
    deliver(app)
    [text] = sms.received
    assert text["to"] == PHONE and text["from"] == "TestShop"
    assert text["text"] == (f"{shop.name}: Order {order.number} is processed: the shop is "
                            f"getting it ready to ship. {app.config['BASE_URL']}/orders/"
                            f"{order.number}")
    # notification_send got the whole message: the seller's side is told too when opted in.
    opt_in(seller, "message", phone="+442071838750")
    lifecycle.record(order, "message", "Can you gift-wrap it?", actor=buyer, actor_role="buyer")
    deliver(app)
    assert sms.received[-1]["to"] == "+442071838750"
    assert f"/seller/orders/{order.number}" in sms.received[-1]["text"]


def test_nobody_is_texted_without_opting_in_a_phone_or_the_shops_plugin(
        app, buyer, buyer2, seller, shop, seller2, shop2, sms):
    User.update(phone=PHONE).where(User.id == buyer.id).execute()
    process(make_order(buyer, shop), seller)  # a phone, but the channel is off by default
    deliver(app)
    preferences.save(buyer2.id, {("sms", "processed"): True})  # on, but no phone
    process(make_order(buyer2, shop), seller)
    deliver(app)
    opt_in(buyer, "delivered")  # on for another kind only does not count
    process(make_order(buyer, shop), seller)
    deliver(app)
    opt_in(buyer, "processed")  # on, but the other shop did not enable the plugin
    lifecycle.transition(make_order(buyer, shop2), Status.PROCESSED, actor=seller2,
                         actor_role="seller")
    deliver(app)
    assert sms.received == []
    assert Notification.select().where(Notification.kind == "processed").count() == 4
    assert not OutboxDelivery.select().where(OutboxDelivery.target.startswith("channel:")).exists()
    assert not OutboxEvent.select().where(OutboxEvent.delivered_at.is_null()).exists()


def test_a_failing_gateway_is_retried_and_the_rest_is_told_once(app, buyer, seller, shop, sms,
                                                                 smtp):  # noqa: F811
    order = make_order(buyer, shop)
    opt_in(buyer, "processed")
    sms.status = 503
    process(order, seller)
    report = deliver(app)
    assert report.retrying == 1 and sms.received == []
    event = OutboxEvent.get(OutboxEvent.kind == "status_changed")
    assert f"channel:sms-example:sms:{buyer.id}" in event.last_error
    assert "503" in event.last_error
    assert Notification.select().where(Notification.user == buyer.id).count() == 1
    assert len(smtp.messages) == 1  # e-mail went out regardless

    sms.status = 200
    assert deliver(app, now=utcnow() + timedelta(minutes=5)).delivered == 1
    assert len(sms.received) == 1 and "is processed" in sms.received[0]["text"]
    assert len(smtp.messages) == 1  # not sent twice
    assert Notification.select().where(Notification.user == buyer.id).count() == 1


def test_a_gateway_that_refuses_the_number_is_not_asked_again(app, buyer, seller, shop, sms):
    order = make_order(buyer, shop)
    opt_in(buyer, "processed")
    sms.status = 400
    process(order, seller)
    assert deliver(app).delivered == 1  # a refusal is an answer


class Broken:
    """A channel plugin that raises, and one that never answers."""

    def __init__(self, code, hang=False):
        self.code, self.hang, self.calls = code, hang, 0

    @hookimpl
    def notification_channels(self):
        return [NotificationChannel(code=self.code, name=self.code.title())]

    @hookimpl
    def notification_send(self, channel_code, message, settings):
        if channel_code != self.code:
            return None
        self.calls += 1
        if self.hang:
            time.sleep(3)
        raise RuntimeError("the push service is down")


@pytest.mark.parametrize("hang", [False, True], ids=["raising", "hanging"])
def test_a_raising_or_hanging_plugin_breaks_nothing_else(app, runner, buyer, seller, shop, sms,
                                                         smtp, register_plugin,  # noqa: F811
                                                         hang):
    broken = register_plugin(Broken("push", hang=hang), "push-example")
    enable(shop, "push-example")
    order = make_order(buyer, shop)
    opt_in(buyer, "processed")
    preferences.save(buyer.id, {("push", "processed"): True})
    process(order, seller)
    started = time.monotonic()
    report = deliver(app)
    assert time.monotonic() - started < 2.5  # the plugin's time budget (0.5 s), not its 3 s
    assert report.retrying == 1 and broken.calls == 1
    assert len(sms.received) == 1 and len(smtp.messages) == 1
    assert Notification.select().where(Notification.user == buyer.id).count() == 1
    event = OutboxEvent.get(OutboxEvent.kind == "status_changed")
    assert f"channel:push-example:push:{buyer.id}" in event.last_error
    listed = runner.invoke(args=["outbox"]).output
    assert "push-example" in listed
    deliver(app, now=utcnow() + timedelta(minutes=5))
    assert len(sms.received) == 1  # the others are not told again


def test_reserved_taken_and_overlong_codes_are_left_out(app, register_plugin):
    register_plugin(Broken("email"), "a-mail")
    register_plugin(Broken("sms"), "b-sms")
    register_plugin(Broken("sms"), "c-sms")
    register_plugin(Broken("x" * 21), "d-long")
    assert [(c.plugin, c.code) for c in channels.installed()] == [("b-sms", "sms")]


# -- /account ----------------------------------------------------------------------------

def cells(page: str) -> dict[str, bool]:
    return {m[1]: bool(m[2]) for m in
            re.finditer(r'<input type="checkbox" name="([^"]+)"[^>]*?( checked)?>', page)}


def test_the_preferences_table_has_the_users_kinds_and_the_offered_channels(
        app, client, auth, buyer, seller, shop, sms):
    auth.login()
    page = client.get("/account").get_data(as_text=True)
    assert "Text message" in page and "Phone number" in page
    shown = cells(page)
    assert shown["email:shipped"] and not shown["sms:shipped"]  # e-mail on, SMS off
    assert "email:placed" not in shown  # a seller's kind
    auth.logout()
    auth.login("seller@example.com")
    shown = cells(client.get("/account").get_data(as_text=True))
    assert {name.split(":")[1] for name in shown} == {"placed", "request", "message", "order_delayed",
                                                  "return_delivered"}


def test_saving_the_table_with_and_without_htmx(app, client, auth, buyer, seller, shop, sms):
    auth.login()
    response = client.post("/account/notifications", data={"sms:shipped": "on",
                                                            "email:delivered": "on",
                                                            "sms:nonsense": "on"})
    assert response.status_code == 303 and response.location.endswith("/account#notifications")
    stored = preferences.choices(buyer.id)
    assert stored[("sms", "shipped")] and not stored[("email", "shipped")]
    assert ("email", "delivered") not in stored  # left at its default: no row
    assert all(kind in preferences.KINDS for _, kind in stored)
    page = client.get("/account").get_data(as_text=True)
    assert "Your notification choices are saved." in page
    assert "nothing is\n    sent to a phone until you do" in page  # SMS on, no phone yet

    fragment = client.post("/account/notifications", data={"email:shipped": "on"},
                           headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.startswith('<section class="card" id="notifications"')
    assert "Your notification choices are saved." in fragment and "<html" not in fragment
    assert cells(fragment)["email:shipped"] and not cells(fragment)["sms:shipped"]


def test_an_unsubscribe_link_shows_as_off(app, client, auth, buyer):
    token = preferences.unsubscribe_token(app.config["SECRET_KEY"], buyer.id, "shipped")
    assert client.post(f"/notifications/unsubscribe/{token}").status_code == 303
    auth.login()
    shown = cells(client.get("/account").get_data(as_text=True))
    assert not shown["email:shipped"] and shown["email:delivered"]
    assert "Phone number" not in client.get("/account").get_data(as_text=True)  # no channel


def test_the_phone_number_is_kept_in_e164(app, client, auth, buyer, sms):
    auth.login()
    response = client.post("/account/phone", data={"phone": "+1 (415) 555-0123"})
    assert response.status_code == 303
    assert User.get_by_id(buyer.id).phone == PHONE
    for bad, says in (("555 0123", "with its country code"), ("+1 415 555", "not valid"),
                      ("x" * 50, "Field cannot be longer")):
        response = client.post("/account/phone", data={"phone": bad})
        assert response.status_code == 422 and says in response.get_data(as_text=True)
    assert User.get_by_id(buyer.id).phone == PHONE
    assert client.post("/account/phone", data={"phone": ""}).status_code == 303
    assert User.get_by_id(buyer.id).phone == ""


def test_the_forms_need_a_login_and_their_csrf_token(csrf_app, buyer):
    client = csrf_app.test_client()
    for url in ("/account/notifications", "/account/phone"):
        assert client.post(url).status_code in (302, 400), url  # not logged in
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"email": "buyer@example.com", "password": PASSWORD,
                                "csrf_token": token})
    assert client.post("/account/notifications", data={"email:shipped": ""}).status_code == 400
    assert client.post("/account/phone", data={"phone": PHONE}).status_code == 400
    assert NotificationPreference.select().count() == 0
    assert User.get_by_id(buyer.id).phone == ""


def test_the_account_page_costs_the_same_queries_with_more_choices(
        app, client, auth, buyer, sms, count_queries):
    auth.login()
    client.get("/account")
    before = len(count_queries)
    client.get("/account")
    few = len(count_queries) - before
    preferences.save(buyer.id, {("sms", kind): True for kind in preferences.KINDS})
    preferences.save(buyer.id, {("email", kind): False for kind in preferences.KINDS})
    before = len(count_queries)
    client.get("/account")
    assert len(count_queries) - before == few <= 8


def test_turning_a_channel_off_since_stops_a_pending_text(app, buyer, seller, shop, sms):
    order = make_order(buyer, shop)
    opt_in(buyer, "processed")
    process(order, seller)
    preferences.save(buyer.id, {("sms", "processed"): False})
    event = OutboxEvent.get(OutboxEvent.kind == "status_changed")
    # Delivered as the worker would once the target was chosen: nothing is sent.
    with app.app_context():
        channels.CHANNELS.deliver(event, f"sms-example:sms:{buyer.id}")
        assert sms.received == []
        shop_plugins.forget_carriers()
        assert outbox.deliver_due([channels.CHANNELS]).delivered == 1 and sms.received == []


def test_a_seller_is_told_when_the_shop_turned_its_emails_off(app, client, auth, seller, shop):
    auth.login("seller@example.com")
    assert "turn its\n    notification e-mails off" not in client.get("/account").get_data(
        as_text=True)
    Shop.update(notify_by_email=False).where(Shop.id == shop.id).execute()
    assert "turn its\n    notification e-mails off" in client.get("/account").get_data(
        as_text=True)


def test_the_seller_finds_the_channel_plugin_among_the_shops_plugins(app, client, auth, seller,
                                                                      shop, sms):
    auth.login("seller@example.com")
    page = client.get("/seller/plugins/").get_data(as_text=True)
    family = page.split("Notification channels", 1)[1]
    assert "Text messages" in family and "Gateway URL" in family
