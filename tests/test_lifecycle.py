import itertools

import pytest

from portal.models import Order, OrderEvent
from portal.orders.lifecycle import (TRANSITIONS, StaleOrder, Status, TransitionRefused,
                                     can_transition, transition)
from tests.factories import make_order

ALLOWED = {
    (Status.PENDING, Status.PROCESSED), (Status.PENDING, Status.CANCELLED),
    (Status.PROCESSED, Status.SHIPPED), (Status.PROCESSED, Status.CANCELLED),
    (Status.SHIPPED, Status.DELIVERED), (Status.SHIPPED, Status.PROCESSED),
    (Status.DELIVERED, Status.RETURNED),
}
ALL_PAIRS = list(itertools.product(Status, Status))


def test_the_six_statuses_have_the_words_users_see():
    assert [s.label for s in Status] == [
        "Pending", "Processed", "Shipped", "Delivered", "Cancelled", "Returned"]


def test_transition_table_is_exactly_the_documented_one():
    table = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert table == ALLOWED
    assert set(TRANSITIONS) == set(Status)


@pytest.mark.parametrize("current,target", sorted(ALLOWED))
def test_allowed_transition_moves_the_order_and_writes_a_timeline_event(
        buyer, shop, current, target):
    order = make_order(buyer, shop, status=current.value)
    event = transition(order, target, actor=shop.owner, actor_role="seller", reason="checked")

    stored = Order.get_by_id(order.id)
    assert stored.status == target
    assert stored.version == 2 and order.version == 2
    assert event.before == current.value and event.after == target.value
    assert event.actor_id == shop.owner.id and event.actor_role == "seller"
    assert event.message == f"{current.label} → {target.label}: checked"
    assert OrderEvent.select().where(OrderEvent.order == order.id).count() == 2  # placed + this


@pytest.mark.parametrize("current,target",
                         [pair for pair in ALL_PAIRS if pair not in ALLOWED])
def test_refused_transition_raises_a_clear_error_and_writes_nothing(
        buyer, shop, current, target):
    order = make_order(buyer, shop, status=current.value)
    assert not can_transition(current, target)
    with pytest.raises(TransitionRefused) as refused:
        transition(order, target, actor=buyer, actor_role="buyer")

    assert f"Order {order.number} is {current.label} and cannot become {target.label}" \
        in str(refused.value)
    stored = Order.get_by_id(order.id)
    assert (stored.status, stored.version) == (current.value, 1)
    assert OrderEvent.select().where(OrderEvent.order == order.id).count() == 1


def test_a_stale_copy_cannot_overwrite_a_newer_change(buyer, shop):
    order = make_order(buyer, shop)
    stale = Order.get_by_id(order.id)
    transition(order, Status.CANCELLED, actor=buyer, actor_role="buyer")

    with pytest.raises(StaleOrder):
        transition(stale, Status.PROCESSED, actor=shop.owner, actor_role="seller")
    stored = Order.get_by_id(order.id)
    assert (stored.status, stored.version) == ("cancelled", 2)
    assert OrderEvent.select().where(OrderEvent.order == order.id).count() == 2
