"""An order's conversation: who may read and post, what is kept and shown, unread counts."""

import pytest

from portal.models import Order, OrderEvent, OrderMessage, OutboxEvent
from portal.orders import messages
from portal.orders.errors import MessageRefused
from tests.factories import PASSWORD, make_order

HX = {"HX-Request": "true"}


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
