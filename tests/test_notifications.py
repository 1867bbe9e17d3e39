"""Notifications: each order event tells its buyer or seller once, in the app and by e-mail
over real SMTP (an aiosmtpd server the tests start), and a down server loses nothing."""

import re
import socket
from datetime import date, timedelta
from email import message_from_bytes, policy
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller

from portal import outbox, payments
from portal.hooktypes import TrackingReport, TrackingStatus, TrackingUpdate
from portal.models import (Notification, Order, OrderLine, OrderRequest, OutboxDelivery,
                           OutboxEvent, Shop, utcnow)
from portal.orders import fulfilment, lifecycle, requests
from portal.orders.lifecycle import Status
from portal.shipping import tracking
from tests.factories import make_order, make_user


def deliver(app, now=None):
    """What the worker does after a change outside a request: deliver the outbox."""
    with app.app_context():
        return outbox.deliver_due(app.extensions["portal.outbox_consumers"], now=now)


def told(user) -> list[tuple[str, str]]:
    return [(n.kind, n.text) for n in Notification.select().where(Notification.user == user.id)
            .order_by(Notification.id)]


def kinds(user) -> list[str]:
    return [kind for kind, _ in told(user)]


def fresh(order) -> Order:
    return Order.get_by_id(order.id)


def ready_to_process(order) -> Order:
    OrderLine.update(picked=True).where(OrderLine.order == order.id).execute()
    Order.update(address_verified=True).where(Order.id == order.id).execute()
    return fresh(order)


class Inbox:
    """An aiosmtpd handler that keeps what it receives (or refuses it, when told to)."""

    def __init__(self):
        self.messages, self.refuse = [], False

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "451 Try again later"
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content,
                                                                    policy=policy.default)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(app):
    """A real SMTP server on loopback, and the app sending to it."""
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{controller.port}"
    yield handler
    controller.stop()


# -- who is told what ------------------------------------------------------------------

def test_each_buyer_event_becomes_one_notification(app, buyer, seller, shop):
    order = make_order(buyer, shop, status="processed")
    line = fulfilment.lines_of(order)[0]
    shipment = fulfilment.ship(order, fulfilment.Package(
        {line.id: 1}, "manual", "Manual", "TRACK1", tracking_url="https://track.example/TRACK1"),
        version=order.version, actor=seller)
    payments.settle(order.id)
    deliver(app)
    assert told(buyer)[-1] == ("shipped", f"Order {order.number}: Package 1 shipped with Manual, "
                                          "tracking TRACK1 (all items).")
    assert Notification.get(Notification.kind == "shipped").url == f"/orders/{order.number}"

    now = utcnow()
    tracking.apply(shipment, TrackingReport("TRACK1", (
        TrackingUpdate(now, TrackingStatus.OUT_FOR_DELIVERY, "On the van", "Portland"),)))
    deliver(app)
    assert told(buyer)[-1] == ("out_for_delivery", f"Order {order.number}: the package TRACK1 "
                                                   "is out for delivery today.")
    tracking.apply(shipment, TrackingReport("TRACK1", (
        TrackingUpdate(now + timedelta(hours=2), TrackingStatus.DELIVERED, "Delivered", ""),)))
    deliver(app)
    assert kinds(buyer) == ["shipped", "out_for_delivery", "delivered"]  # Delivered said once
    assert "How was it? Rate it" in told(buyer)[-1][1]  # the guide's ask for feedback

    payments.refund(fresh(order), 1000, reason="a scratch", actor=seller)
    deliver(app)
    assert kinds(buyer)[-1] == "refund" and "$10.00" in told(buyer)[-1][1]

    other = make_order(buyer, shop)
    lifecycle.transition(other, Status.PROCESSED, actor=seller, actor_role="seller")
    lifecycle.record(other, "balance_due", "Balance due: $5.00", actor=seller,
                     actor_role="seller", amount=500, currency="USD")
    lifecycle.record(other, "message", "Your parcel leaves tomorrow", actor=seller,
                     actor_role="seller")
    deliver(app)
    assert kinds(buyer)[-3:] == ["processed", "balance_due", "message"]
    assert "Your parcel leaves tomorrow" in told(buyer)[-1][1]
    assert told(seller) == []  # the seller did all this: nothing to tell them


def test_requests_tell_the_seller_and_their_answers_the_buyer(app, buyer, seller, shop):
    order = make_order(buyer, shop, status="processed")
    requests.buyer_cancel(order, buyer=buyer, reason="ordered twice", version=order.version)
    deliver(app)
    assert kinds(seller) == ["request"] and "ordered twice" in told(seller)[0][1]
    request = OrderRequest.get(OrderRequest.order == order.id)
    requests.decide(request, fresh(order), approve=False, seller=seller,
                    response="It is already packed")
    deliver(app)
    assert kinds(buyer) == ["request_answered"]
    assert "It is already packed" in told(buyer)[0][1]


def test_the_seller_hears_of_new_orders_and_buyer_messages(app, buyer, seller, shop):
    order = make_order(buyer, shop)
    lifecycle.record(order, "placed", "Order placed: $39.00", actor=buyer, actor_role="buyer")
    lifecycle.record(order, "message", "Can you gift-wrap it?", actor=buyer, actor_role="buyer")
    deliver(app)
    assert kinds(seller) == ["placed", "message"]
    assert Notification.get(Notification.kind == "placed").url == f"/seller/orders/{order.number}"
    assert "gift-wrap" in told(seller)[1][1]
    assert told(buyer) == []


def test_a_message_posted_on_the_order_tells_the_other_side(app, buyer, seller, shop):
    from portal.orders import messages
    order = make_order(buyer, shop)
    messages.post(order, buyer, "Can you gift-wrap it?")
    deliver(app)
    assert kinds(seller) == ["message"] and told(buyer) == []
    messages.post(Order.get_by_id(order.id), seller, "Of course.", shop=shop)
    deliver(app)
    assert kinds(buyer) == ["message"]
    assert "New message from the shop about order" in told(buyer)[0][1]


def test_a_cancellation_by_the_shop_tells_the_buyer_but_the_buyers_own_does_not(
        app, client, auth, buyer, seller, shop):
    mine = make_order(buyer, shop)
    auth.login()
    assert client.post(f"/orders/{mine.number}/cancel",
                       data={"version": mine.version}).status_code == 303
    assert told(buyer) == []
    theirs = make_order(buyer, shop)
    fulfilment.cancel(theirs, reason="out of stock", version=theirs.version, actor=seller,
                      actor_role="seller")
    deliver(app)
    assert told(buyer) == [("cancelled", f"Order {theirs.number} was cancelled: out of stock")]


def test_an_event_delivered_twice_is_told_once(app, buyer, seller, shop):
    order = make_order(buyer, shop)
    lifecycle.transition(order, Status.PROCESSED, actor=seller, actor_role="seller")
    deliver(app)
    # As if the worker died after notifying and before recording it: delivered again.
    OutboxDelivery.delete().execute()
    OutboxEvent.update(next_attempt_at=utcnow(), delivered_at=None).execute()
    assert deliver(app).delivered == 1
    assert kinds(buyer) == ["processed"]


# -- /notifications --------------------------------------------------------------------

def test_the_page_lists_ones_own_and_following_one_marks_it_read(app, client, auth, buyer,
                                                                 buyer2, seller, shop):
    order = make_order(buyer, shop)
    lifecycle.transition(order, Status.PROCESSED, actor=seller, actor_role="seller")
    theirs = make_order(buyer2, shop)
    lifecycle.transition(theirs, Status.PROCESSED, actor=seller, actor_role="seller")
    deliver(app)
    auth.login()
    page = client.get("/notifications").get_data(as_text=True)
    assert f"Order {order.number} is processed" in page and theirs.number not in page
    assert re.search(r'id="notification-badge" class="cart-badge">.*?1<', page)
    mine = Notification.get(Notification.user == buyer.id)
    other = Notification.get(Notification.user == buyer2.id)
    # Someone else's: 404 whichever way it is asked, and it stays unread.
    assert client.get(f"/notifications/{other.id}").status_code == 404
    assert client.post(f"/notifications/{other.id}/read").status_code == 404
    client.post("/notifications/read", data={"up_to": str(other.id + 1)})
    assert Notification.get_by_id(other.id).read_at is None
    # Following one's own leads to the order, and it is read.
    Notification.update(read_at=None).where(Notification.id == mine.id).execute()
    response = client.get(f"/notifications/{mine.id}")
    assert response.status_code == 303 and response.location == f"/orders/{order.number}"
    assert Notification.get_by_id(mine.id).read_at is not None
    assert "notification unread" not in client.get("/notifications").get_data(as_text=True)


def test_mark_read_one_and_all_with_and_without_htmx(app, client, auth, buyer, seller, shop):
    for _ in range(3):
        order = make_order(buyer, shop)
        lifecycle.transition(order, Status.PROCESSED, actor=seller, actor_role="seller")
    deliver(app)
    auth.login()
    first, second, third = Notification.select().order_by(Notification.id)
    response = client.post(f"/notifications/{first.id}/read", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.startswith(f'<li class="notification"')
    assert 'hx-swap-oob="true"' in body and "2<span" in body  # the badge, counted again
    unread = client.get("/notifications?show=unread", headers={"HX-Request": "true"})
    assert unread.get_data(as_text=True).count('class="notification unread"') == 2
    # "Mark all read" marks what the page showed: one that arrived since stays unread.
    response = client.post("/notifications/read", data={"up_to": str(second.id)})
    assert response.status_code == 303
    assert Notification.get_by_id(second.id).read_at is not None
    assert Notification.get_by_id(third.id).read_at is None
    response = client.post("/notifications/read", headers={"HX-Request": "true"})
    assert response.status_code == 200 and 'id="notification-list"' in response.get_data(True)
    assert Notification.select().where(Notification.read_at.is_null()).count() == 0


def test_pages_are_keyset_pages(app, client, auth, buyer, seller, shop):
    app.config["PAGE_SIZE"] = 2
    for _ in range(3):
        order = make_order(buyer, shop)
        lifecycle.transition(order, Status.PROCESSED, actor=seller, actor_role="seller")
    deliver(app)
    auth.login()
    rows = list(Notification.select().order_by(Notification.id.desc()))
    page = client.get("/notifications").get_data(as_text=True)
    assert page.count('class="notification unread"') == 2
    assert f"before={rows[1].id}" in page
    older = client.get(f"/notifications?before={rows[1].id}").get_data(as_text=True)
    assert older.count('class="notification unread"') == 1 and "Older" not in older
    assert 'name="up_to"' not in older  # from a later page, "mark all" marks them all
    assert f'name="up_to" value="{rows[0].id}"' in page
    assert client.get("/notifications?before=x").status_code == 400


def test_forms_need_their_csrf_token_and_pages_a_login(csrf_app, buyer, seller, shop):
    from tests.test_auth import csrf_token
    order = make_order(buyer, shop)
    lifecycle.transition(order, Status.PROCESSED, actor=seller, actor_role="seller")
    deliver(csrf_app)
    mine = Notification.get(Notification.user == buyer.id)
    client = csrf_app.test_client()
    assert client.get("/notifications").status_code == 302  # to the login page
    token = csrf_token(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": "buyer@example.com", "password": "password-123",
                                "csrf_token": token})
    page = client.get("/notifications").get_data(as_text=True)
    assert client.post(f"/notifications/{mine.id}/read").status_code == 400
    assert client.post("/notifications/read").status_code == 400
    assert Notification.get_by_id(mine.id).read_at is None
    assert client.post(f"/notifications/{mine.id}/read",
                       data={"csrf_token": csrf_token(page)}).status_code == 303
    assert Notification.get_by_id(mine.id).read_at is not None


# -- e-mail ----------------------------------------------------------------------------

def test_an_email_goes_over_smtp_with_both_parts_the_shops_name_and_unsubscribe(
        app, client, auth, buyer, seller, shop, smtp):
    order = ready_to_process(make_order(buyer, shop))
    auth.login("seller@example.com")
    response = client.post(f"/seller/orders/{order.number}/process",
                           data={"version": order.version})
    assert response.status_code == 303
    assert fresh(order).status == "processed"
    assert len(smtp.messages) == 1
    recipients, mail = smtp.messages[0]
    assert recipients == ["buyer@example.com"]
    assert mail["From"].addresses[0].display_name == shop.name
    assert mail["Subject"] == f"Order processed: order {order.number}"
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert f"http://127.0.0.1:5000/orders/{order.number}" in text
    assert f'href="http://127.0.0.1:5000/orders/{order.number}"' in html
    unsubscribe = mail["List-Unsubscribe"].strip("<>")
    assert unsubscribe in text and unsubscribe.startswith("http://127.0.0.1:5000/notifications/")


def test_unsubscribe_turns_that_kind_of_email_off(app, client, buyer, seller, shop, smtp):
    first = make_order(buyer, shop)
    lifecycle.transition(first, Status.PROCESSED, actor=seller, actor_role="seller")
    deliver(app)
    path = urlsplit(smtp.messages[0][1]["List-Unsubscribe"].strip("<>")).path
    assert "Turn them off" in client.get(path).get_data(as_text=True)  # asks; no log-in
    response = client.post(path)
    assert response.status_code == 303
    assert "no more e-mails" in client.get(response.location).get_data(as_text=True)
    second = make_order(buyer, shop)
    lifecycle.transition(second, Status.PROCESSED, actor=seller, actor_role="seller")
    lifecycle.record(second, "message", "Hello", actor=seller, actor_role="seller")
    deliver(app)
    # No e-mail of that kind any more; other kinds still come, and the app still tells all.
    assert [m["Subject"] for _, m in smtp.messages] == [
        f"Order processed: order {first.number}", f"New messages: order {second.number}"]
    assert kinds(buyer) == ["processed", "processed", "message"]
    assert client.get(path[:-3] + "xyz").status_code == 404  # a spoiled link does nothing


def test_a_seller_who_turned_emails_off_gets_none(app, buyer, seller, shop, smtp):
    Shop.update(notify_by_email=False).where(Shop.id == shop.id).execute()
    order = make_order(buyer, shop)
    lifecycle.record(order, "placed", "Order placed", actor=buyer, actor_role="buyer")
    deliver(app)
    assert kinds(seller) == ["placed"] and smtp.messages == []
    Shop.update(notify_by_email=True).where(Shop.id == shop.id).execute()
    lifecycle.record(order, "message", "Hi", actor=buyer, actor_role="buyer")
    deliver(app)
    assert [r for r, _ in smtp.messages] == [["seller@example.com"]]


def test_a_down_smtp_server_keeps_the_change_and_is_retried(app, client, auth, runner, buyer,
                                                            seller, shop, smtp):
    address = app.config["SMTP_URL"]
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"  # nobody listens there
    order = ready_to_process(make_order(buyer, shop))
    auth.login("seller@example.com")
    response = client.post(f"/seller/orders/{order.number}/process",
                           data={"version": order.version})
    assert response.status_code == 303 and fresh(order).status == "processed"
    assert kinds(buyer) == ["processed"]  # the app's own notification does not wait for mail
    event = OutboxEvent.get((OutboxEvent.kind == "status_changed")
                            & (OutboxEvent.order == order.id))
    assert event.delivered_at is None and f"email:{buyer.id}" in event.last_error
    assert "email:" in runner.invoke(args=["outbox"]).output  # the operator sees it
    # The next e-mails do not each wait for the dead server: they fail at once, for later.
    second = make_order(buyer, shop)
    lifecycle.transition(second, Status.PROCESSED, actor=seller, actor_role="seller")
    deliver(app)
    assert "unreachable moments ago" in OutboxEvent.get(
        (OutboxEvent.order == second.id) & (OutboxEvent.kind == "status_changed")).last_error
    # A server that refuses for now: still failing, backed off further.
    app.config["SMTP_URL"] = address
    smtp.refuse = True
    deliver(app, now=event.next_attempt_at + timedelta(seconds=1))
    event = OutboxEvent.get_by_id(event.id)
    assert event.attempts == 2 and event.delivered_at is None and smtp.messages == []
    smtp.refuse = False
    deliver(app, now=event.next_attempt_at + timedelta(seconds=1))
    assert OutboxEvent.get_by_id(event.id).delivered_at is not None
    assert f"Order processed: order {order.number}" in [m["Subject"] for _, m in smtp.messages]
    assert kinds(buyer) == ["processed", "processed"]  # each told once in the app


def test_without_an_smtp_url_emails_go_to_the_log(app, buyer, seller, shop, caplog):
    order = make_order(buyer, shop)
    lifecycle.transition(order, Status.PROCESSED, actor=seller, actor_role="seller")
    with caplog.at_level("INFO", logger="portal.notifications.email"):
        assert deliver(app).delivered == 1
    assert f"Subject: Order processed: order {order.number}" in caplog.text


def test_the_dev_mail_catcher_logs_what_it_receives(app, buyer, seller, shop, tmp_path):
    from portal.notifications import catcher
    log_file = tmp_path / "mail.log"
    controller = catcher.start("127.0.0.1", free_port(), log_file)
    try:
        app.config["SMTP_URL"] = f"smtp://127.0.0.1:{controller.port}"
        order = make_order(buyer, shop)
        lifecycle.transition(order, Status.PROCESSED, actor=seller, actor_role="seller")
        deliver(app)
    finally:
        controller.stop()
    written = log_file.read_text()
    assert f"Order processed: order {order.number}" in written
    assert f"/orders/{order.number}" in written and "To: " in written


def test_the_badge_and_the_lists_read_indexes(app, buyer, count_queries):
    from portal.db import database, is_sqlite
    from portal.notifications import inbox
    if not is_sqlite():
        pytest.skip("SQLite's query plans")
    inbox.unread_count(buyer.id)
    inbox.page(buyer.id, unread_only=True)
    inbox.page(buyer.id, before=1000)
    plans = [" | ".join(row[3] for row in database.execute_sql(f"EXPLAIN QUERY PLAN {sql}", p))
             for sql, p in count_queries.statements[-3:]]
    badge, unread, everything = plans
    assert "INDEX notification_unread (user_id=?)" in badge  # at most 100 rows of it
    assert "USING INDEX notification_unread" in unread
    assert "USING INDEX notification_user_id_id" in everything
    for text in plans:
        assert "TEMP B-TREE" not in text and "SCAN t1" not in text, text
