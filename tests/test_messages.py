"""An order's conversation: who may read and post, what is kept and shown, unread counts."""

import re

import pytest

from portal.models import Order, OrderEvent, OrderMessage, OutboxEvent
from portal.orders import messages
from portal.orders.errors import MessageRefused
from tests.factories import PASSWORD, make_order

HX = {"HX-Request": "true"}


def _text(html: str) -> str:
    """The page's words, as a screen reader reads them (tags out, spaces squeezed)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def _fresh(order) -> Order:
    return Order.get_by_id(order.id)


# --- the domain ---------------------------------------------------------------------------

def test_buyer_and_shop_post_and_each_side_counts_what_it_has_not_read(buyer, shop, seller):
    order = make_order(buyer, shop)
    messages.post(order, buyer, "  Can you gift-wrap it?  ")
    assert OrderMessage.get().body == "Can you gift-wrap it?"  # stripped
    assert (_fresh(order).seller_unread, _fresh(order).buyer_unread) == (1, 0)
    assert messages.unread_for_shop(shop.id) == 1
    assert messages.unread_for_user(seller) == 1
    assert messages.unread_for_buyer(buyer.id) == 0

    messages.post(_fresh(order), seller, "Yes, happily.")
    messages.post(_fresh(order), seller, "Done.")
    order = _fresh(order)
    assert (order.seller_unread, order.buyer_unread) == (0, 2)  # answering reads the thread
    assert messages.unread_for_user(buyer) == 2
    assert [m.body for m in messages.thread(order, buyer)] == [
        "Can you gift-wrap it?", "Yes, happily.", "Done."]
    assert messages.mark_read(order, buyer) is True
    assert messages.unread_for_buyer(buyer.id) == 0
    assert messages.mark_read(order, buyer) is False  # nothing left: no write


@pytest.mark.parametrize("body, code", [("", "message.empty"), ("   \n\t ", "message.empty"),
                                        (None, "message.empty"),
                                        ("x" * 2001, "message.too_long")])
def test_empty_or_too_long_messages_are_refused(buyer, shop, body, code):
    order = make_order(buyer, shop)
    with pytest.raises(MessageRefused) as refused:
        messages.post(order, buyer, body)
    assert refused.value.code == code
    assert OrderMessage.select().count() == 0 and _fresh(order).seller_unread == 0
    messages.post(order, buyer, "y" * 2000)  # the limit itself is fine


def test_nobody_else_reads_or_posts(buyer, buyer2, shop, seller2):
    order = make_order(buyer, shop)
    messages.post(order, buyer, "Hello")
    for stranger in (buyer2, seller2, None):
        with pytest.raises(MessageRefused) as refused:
            messages.post(order, stranger, "Me too")
        assert refused.value.code == "message.not_yours"
        with pytest.raises(MessageRefused):
            messages.thread(order, stranger)
        with pytest.raises(MessageRefused):
            messages.mark_read(order, stranger)
    assert OrderMessage.select().count() == 1


def test_a_message_is_an_outbox_event_not_a_timeline_entry(buyer, shop):
    order = make_order(buyer, shop)
    events_before = OrderEvent.select().where(OrderEvent.order == order.id).count()
    messages.post(order, buyer, "Where is my parcel? It is my secret birthday present.")
    assert OrderEvent.select().where(OrderEvent.order == order.id).count() == events_before
    event = OutboxEvent.select().where(OutboxEvent.kind == "message").get()
    assert event.order_id == order.id and event.shop_id == shop.id
    assert "Message from the buyer" in event.payload and "secret" not in event.payload


def test_a_message_leaves_the_orders_version_alone(buyer, shop):
    order = make_order(buyer, shop)
    version = order.version
    messages.post(order, buyer, "Hello")
    assert _fresh(order).version == version  # the seller's open forms stay valid


# --- the pages ----------------------------------------------------------------------------

def _login(client, email):
    client.post("/logout")
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 303


def test_buyer_posts_a_plain_form_and_comes_back_to_the_thread(client, auth, buyer, shop):
    order = make_order(buyer, shop)
    auth.login()
    page = client.get(f"/orders/{order.number}").get_data(as_text=True)
    assert 'id="messages"' in page and "Contact the shop" in page
    assert f'hx-post="/orders/{order.number}/messages"' in page
    response = client.post(f"/orders/{order.number}/messages", data={"body": "Hello shop"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/orders/{order.number}#messages")
    page = client.get(f"/orders/{order.number}").get_data(as_text=True)
    assert "Hello shop" in page
    assert OrderMessage.get().author_role == "buyer"


def test_htmx_post_swaps_the_thread_in_place(client, auth, buyer, shop):
    order = make_order(buyer, shop)
    auth.login()
    response = client.post(f"/orders/{order.number}/messages", data={"body": "Hi"}, headers=HX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith("{#") is False and '<section class="card messages" id="messages"' in html
    assert "<html" not in html and "Hi" in html
    assert "<textarea" in html and ">Hi</textarea>" not in html  # a fresh, empty form
    # the thread alone polls for news; the form (and what is being typed) is left alone
    assert (f'<div id="thread" hx-get="/orders/{order.number}/messages" '
            'hx-trigger="every 30s" hx-select="#thread"') in html
    fragment = client.get(f"/orders/{order.number}/messages", headers=HX)
    assert fragment.status_code == 200 and "Hi" in fragment.get_data(as_text=True)
    plain = client.get(f"/orders/{order.number}/messages")
    assert plain.status_code == 303 and plain.headers["Location"].endswith("#messages")


def test_an_empty_message_is_refused_on_both_paths(client, auth, buyer, shop):
    order = make_order(buyer, shop)
    auth.login()
    htmx = client.post(f"/orders/{order.number}/messages", data={"body": "  "}, headers=HX)
    assert htmx.status_code == 422 and "Write a message first." in htmx.get_data(as_text=True)
    plain = client.post(f"/orders/{order.number}/messages", data={"body": "z" * 2001})
    assert plain.status_code == 422
    text = plain.get_data(as_text=True)
    assert "at most 2,000 characters" in text and "<html" in text
    assert "z" * 2001 in text  # what was typed is kept
    assert OrderMessage.select().count() == 0


def test_messages_are_escaped_and_only_http_links_are_clickable(client, auth, buyer, shop,
                                                               seller):
    order = make_order(buyer, shop)
    messages.post(order, seller, '<script>alert(1)</script> see https://example.com/a?b=1&c=2. '
                  'or javascript:alert(2) or <a href="http://evil">x</a>')
    auth.login()
    html = client.get(f"/orders/{order.number}").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert ('<a href="https://example.com/a?b=1&amp;c=2" rel="nofollow noopener" '
            'target="_blank">https://example.com/a?b=1&amp;c=2</a>.') in html
    assert 'href="javascript' not in html and '<a href="http://evil">' not in html


def test_linkify_leaves_the_sentence_punctuation_out():
    from portal.web.messaging import linkify
    assert str(linkify("(see http://a.example/x), ok")) == (
        '(see <a href="http://a.example/x" rel="nofollow noopener" target="_blank">'
        'http://a.example/x</a>), ok')
    assert str(linkify("https:// nothing")) == "https:// nothing"
    assert str(linkify("a < b")) == "a &lt; b"


def test_seller_sees_the_unread_badge_answers_and_the_buyer_sees_it(client, auth, buyer, shop):
    order = make_order(buyer, shop)
    messages.post(order, buyer, "Is it in stock?")
    auth.login("seller@example.com")
    dashboard = client.get("/seller/").get_data(as_text=True)
    assert 'id="nav-unread"' in dashboard and "Order Management 1 unread message" in _text(dashboard)
    assert "Messages 1 unread message" in _text(dashboard)  # the dashboard's card
    assert f'href="/seller/orders/{order.number}#messages"' in dashboard
    listing = client.get("/seller/orders").get_data(as_text=True)
    assert f"{order.number} 1 unread message" in _text(listing)
    page = client.get(f"/seller/orders/{order.number}").get_data(as_text=True)
    assert "Is it in stock?" in page and 'id="nav-unread"' not in page  # read now
    assert _fresh(order).seller_unread == 0
    response = client.post(f"/seller/orders/{order.number}/messages", data={"body": "Yes!"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/seller/orders/{order.number}#messages")
    htmx = client.post(f"/seller/orders/{order.number}/messages", data={"body": "Ships today"},
                       headers=HX)
    assert htmx.status_code == 200 and "Ships today" in htmx.get_data(as_text=True)

    _login(client, "buyer@example.com")
    orders = client.get("/orders").get_data(as_text=True)
    assert "Orders 2 unread messages" in _text(orders)  # the nav
    assert _text(orders).count("2 unread messages") == 2  # and the order's row
    page = client.get(f"/orders/{order.number}").get_data(as_text=True)
    assert "Yes!" in page and "Ships today" in page
    assert page.index("Is it in stock?") < page.index("Yes!") < page.index("Ships today")
    assert _fresh(order).buyer_unread == 0


@pytest.mark.parametrize("who", [None, "buyer2@example.com", "seller2@example.com",
                                 "seller@example.com"])
def test_nobody_else_reads_or_posts_on_the_pages(client, buyer, buyer2, shop, shop2, who):
    order = make_order(buyer, shop)
    messages.post(order, buyer, "private words")
    if who:
        _login(client, who)
    urls = [f"/orders/{order.number}/messages"]
    if who != "seller@example.com":  # the order's own seller may use the seller's URLs
        urls.append(f"/seller/orders/{order.number}/messages")
    for url in urls:
        for headers in ({}, HX):
            got = client.get(url, headers=headers)
            posted = client.post(url, data={"body": "intruder"}, headers=headers)
            for response in (got, posted):
                if who is None:
                    assert response.status_code in (302, 303, 401)
                    assert "/login" in response.headers.get("Location", "/login")
                else:
                    assert response.status_code == 404
                assert "private words" not in response.get_data(as_text=True)
    assert OrderMessage.select().count() == 1
    assert _fresh(order).seller_unread == 1  # nobody else's visit read it


def test_message_forms_need_their_csrf_token(csrf_app, buyer, shop):
    from tests.test_auth import csrf_token
    order = make_order(buyer, shop)
    client = csrf_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"email": "buyer@example.com", "password": PASSWORD,
                                "csrf_token": csrf_token(page)})
    url = f"/orders/{order.number}/messages"
    assert client.post(url, data={"body": "no token"}).status_code == 400
    assert client.post(url, data={"body": "no token"}, headers=HX).status_code == 400
    assert OrderMessage.select().count() == 0
    token = csrf_token(client.get(f"/orders/{order.number}").get_data(as_text=True))
    assert client.post(url, data={"body": "with token", "csrf_token": token}).status_code == 303
    assert OrderMessage.get().body == "with token"


def test_unread_counts_cost_one_query_per_page_not_one_per_row(app, client, auth, buyer, shop,
                                                              seller, count_queries):
    from tests.test_query_counts import page_queries
    app.config["PAGE_SIZE"] = 50
    first = make_order(buyer, shop)
    messages.post(first, seller, "One")
    auth.login()
    one = {url: page_queries(client, count_queries, url)
           for url in ("/orders", f"/orders/{first.number}")}
    messages.post(first, seller, "Unread again")
    for k in range(20):
        order = make_order(buyer, shop)
        messages.post(order, seller, f"Hello {k}")
        messages.post(first, seller, f"More {k}")
    client.get("/")  # the request after the posts hands their outbox events on: not counted
    many = {url: page_queries(client, count_queries, url) for url in one}
    assert many == one

    _login(client, "seller@example.com")
    for k in range(20):
        messages.post(make_order(buyer, shop), buyer, f"Question {k}")
    client.get("/")
    seller_one = page_queries(client, count_queries, "/seller/orders")
    for k in range(20):
        messages.post(make_order(buyer, shop), buyer, f"Question {k}")
    client.get("/")
    assert page_queries(client, count_queries, "/seller/orders") == seller_one
    assert _text(client.get("/seller/orders").get_data(as_text=True)).count(
        " 1 unread message") >= 40


def test_a_refusal_that_says_message_the_shop_links_to_the_messages(client, auth, buyer, shop):
    from datetime import timedelta

    from portal.models import OrderLine, utcnow
    from tests.factories import make_variant
    shirt = make_variant(shop, "Linen shirt", size="M", colour="White", price=3900, stock=10)
    larger = make_variant(shop, shirt.product, size="L", colour="White", price=3900, stock=3)
    old = make_order(buyer, shop, placed_at=utcnow() - timedelta(hours=13),
                     products=(("Linen shirt", 3900, 1),), variants=(shirt,))
    line = OrderLine.get(OrderLine.order == old.id)
    auth.login()
    late = client.post(f"/orders/{old.number}/modification",
                       data={f"variant-{line.id}": str(larger.id), f"qty-{line.id}": "1",
                             "version": str(old.version)})
    assert late.status_code == 422
    html = late.get_data(as_text=True)
    assert f'<a href="/orders/{old.number}#messages">message the shop</a>' in html
    assert 'id="messages"' in html  # where the link leads, on the same page


def test_contact_link_escapes_and_links_only_on_a_buyers_order(app):
    from portal.web.messaging import contact_link
    with app.test_request_context("/orders/ABCDE-FGHJK/cancel"):
        from flask import request
        request.url_rule = next(r for r in app.url_map.iter_rules() if r.endpoint == "buyer.cancel")
        request.view_args = {"number": "ABCDE-FGHJK"}
        assert str(contact_link("<b> Message the shop")) == (
            '&lt;b&gt; <a href="/orders/ABCDE-FGHJK#messages">Message the shop</a>')
    with app.test_request_context("/cart"):
        assert str(contact_link("<b> message the shop")) == "&lt;b&gt; message the shop"


def test_a_request_and_its_refusal_appear_in_the_thread(client, auth, buyer, shop):
    from tests.test_requests import as_seller, decide, post
    order = make_order(buyer, shop, status="processed")
    auth.login()
    assert post(client, order, "cancel", reason="Ordered twice").status_code == 303
    assert _fresh(order).seller_unread == 1
    as_seller(client, auth)
    assert "Cancellation: Ordered twice" in client.get(
        f"/seller/orders/{order.number}").get_data(as_text=True)
    assert decide(client, order, "refuse", "Already packed <today>").status_code == 303
    auth.logout()
    auth.login()
    page = client.get(f"/orders/{order.number}").get_data(as_text=True)
    thread = page.split('id="thread"')[1].split("</ol>")[0]
    assert thread.index("Cancellation: Ordered twice") \
        < thread.index("Cancellation refused: Already packed &lt;today&gt;")
    # the request's own event announces it; the thread's copy is not announced again
    assert OutboxEvent.select().where(OutboxEvent.kind == "message").count() == 0


def test_unread_counts_read_the_partial_indexes(app, buyer, seller, shop, count_queries):
    from portal.db import is_sqlite
    from tests.test_query_plans import plan
    if not is_sqlite():
        pytest.skip("SQLite's query plans")
    messages.unread_for_buyer(buyer.id)
    messages.unread_for_shop(shop.id)
    messages.unread_for_user(seller)
    for_buyer, for_shop, for_seller = (plan(s) for s in count_queries.statements[-3:])
    assert "USING COVERING INDEX orders_buyer_unread" in for_buyer, for_buyer
    assert "USING COVERING INDEX orders_seller_unread" in for_shop, for_shop
    assert "orders_seller_unread" in for_seller, for_seller
    for text in (for_buyer, for_shop):
        assert "SCAN" not in text, text
