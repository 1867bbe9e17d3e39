"""What may happen to an order: every status (and the states between) × buyer and seller,
what is open and what is refused with which code; the doing functions refuse the same."""

from datetime import timedelta

import pytest

from portal.models import Order, OrderRequest, Shipment, utcnow
from portal.orders import actions, editing, fulfilment, requests
from portal.orders.errors import (BadInput, EditRefused, FulfilmentError, OrderRefused,
                                  RequestRefused)
from portal.orders.lifecycle import StaleOrder, TransitionRefused
from tests.factories import make_order

EVERY_OTHER = object()


def _order(buyer, shop, status, *, shipped=0, placed_at=None):
    order = make_order(buyer, shop, status=status, products=(("Linen shirt", 3900, 2),),
                       placed_at=placed_at)
    if shipped:
        Order.update(shipped_count=shipped).where(Order.id == order.id).execute()
    return Order.get_by_id(order.id)


def _ask(order, kind, status="open"):
    OrderRequest.create(order=order.id, shop=order.shop_id, kind=kind, created_by=order.buyer_id,
                        status=status)


def build(state, buyer, shop):
    """An order in ``state``: a status, or one of the states between two statuses."""
    if state == "processed, an address change waits":
        order = _order(buyer, shop, "processed")
        _ask(order, "address_change")
        return order
    if state == "partially shipped":
        return _order(buyer, shop, "processed", shipped=1)
    if state == "delivered, a return approved":
        order = _order(buyer, shop, "delivered", shipped=2)
        _ask(order, "return", "approved")
        return order
    if state == "delivered long ago":
        order = _order(buyer, shop, "delivered", shipped=2,
                       placed_at=utcnow() - timedelta(days=90))
        Shipment.create(order=order, carrier_code="demo", carrier_name="Demo Parcel",
                        tracking_number="DP1", delivered_at=utcnow() - timedelta(days=60))
        return order
    shipped = 2 if state in ("shipped", "delivered", "returned") else 0
    placed_at = utcnow() - timedelta(days=1) if state == "processed, too late to modify" else None
    return _order(buyer, shop, state.split(",")[0], shipped=shipped, placed_at=placed_at)


# state: (open actions, {refused action: code})
SELLER = {
    "pending": ({"checklist", "process", "edit_address", "edit_lines", "cancel", "add_note"},
                {"ship": "ship.not_processed", "buy_label": "ship.not_processed",
                 "mark_delivered": "deliver.not_shipped",
                 "answer_request": "request.none_waiting",
                 "receive_return": "return.none_waiting"}),
    "processed": ({"ship", "buy_label", "edit_address", "edit_lines", "cancel", "add_note"},
                  {"checklist": "checklist.closed", "process": "process.not_pending",
                   "mark_delivered": "deliver.not_shipped",
                   "answer_request": "request.none_waiting",
                   "receive_return": "return.none_waiting"}),
    "processed, an address change waits": (
        {"edit_address", "edit_lines", "cancel", "add_note", "answer_request"},
        {"checklist": "checklist.closed", "process": "process.not_pending",
         "ship": "ship.held_by_request", "buy_label": "ship.held_by_request",
         "mark_delivered": "deliver.not_shipped", "receive_return": "return.none_waiting"}),
    "partially shipped": ({"ship", "buy_label", "add_note"},
                          {"checklist": "checklist.closed", "process": "process.not_pending",
                           "mark_delivered": "deliver.not_shipped",
                           "edit_address": "edit.shipping_started",
                           "edit_lines": "edit.shipping_started", "cancel": "cancel.shipped",
                           "answer_request": "request.none_waiting",
                           "receive_return": "return.none_waiting"}),
    "shipped": ({"mark_delivered", "add_note"},
                {"checklist": "checklist.closed", "process": "process.not_pending",
                 "ship": "ship.not_processed", "buy_label": "ship.not_processed",
                 "edit_address": "edit.shipping_started", "edit_lines": "edit.shipping_started",
                 "cancel": "cancel.shipped", "answer_request": "request.none_waiting",
                 "receive_return": "return.none_waiting"}),
    "delivered": ({"add_note"},
                  {"checklist": "checklist.closed", "process": "process.not_pending",
                   "ship": "ship.not_processed", "buy_label": "ship.not_processed",
                   "mark_delivered": "deliver.not_shipped",
                   "edit_address": "edit.shipping_started",
                   "edit_lines": "edit.shipping_started", "cancel": "cancel.shipped",
                   "answer_request": "request.none_waiting",
                   "receive_return": "return.none_waiting"}),
    "delivered, a return approved": ({"add_note", "receive_return"}, EVERY_OTHER),
    "cancelled": ({"add_note"},
                  {"checklist": "checklist.closed", "process": "process.not_pending",
                   "ship": "ship.not_processed", "buy_label": "ship.not_processed",
                   "mark_delivered": "deliver.not_shipped", "edit_address": "edit.closed",
                   "edit_lines": "edit.closed", "cancel": "cancel.closed",
                   "answer_request": "request.none_waiting",
                   "receive_return": "return.none_waiting"}),
    "returned": ({"add_note"},
                 {"checklist": "checklist.closed", "process": "process.not_pending",
                  "ship": "ship.not_processed", "buy_label": "ship.not_processed",
                  "mark_delivered": "deliver.not_shipped",
                  "edit_address": "edit.shipping_started",
                  "edit_lines": "edit.shipping_started", "cancel": "cancel.shipped",
                  "answer_request": "request.none_waiting",
                  "receive_return": "return.none_waiting"}),
}

# state: (open actions, {refused action: code}, how the open ones happen: at once or asked)
BUYER = {
    "pending": ({"cancel", "change_address", "ask_modification"},
                {"request_return": "return.not_delivered"},
                {"cancel": True, "change_address": True, "ask_modification": False}),
    "processed": ({"cancel", "change_address", "ask_modification"},
                  {"request_return": "return.not_delivered"},
                  {"cancel": False, "change_address": False, "ask_modification": False}),
    "processed, too late to modify": ({"cancel", "change_address"},
                                      {"ask_modification": "modify.window_closed",
                                       "request_return": "return.not_delivered"}, {}),
    "processed, an address change waits": ({"cancel", "ask_modification"},
                                           {"change_address": "request.already_asked",
                                            "request_return": "return.not_delivered"}, {}),
    "partially shipped": (set(), {"cancel": "cancel.shipped", "change_address": "address.shipped",
                                  "ask_modification": "modify.window_closed",
                                  "request_return": "return.not_delivered"}, {}),
    "shipped": (set(), {"cancel": "cancel.shipped", "change_address": "address.shipped",
                        "ask_modification": "modify.window_closed",
                        "request_return": "return.not_delivered"}, {}),
    "delivered": ({"request_return"}, {"cancel": "cancel.shipped",
                                       "change_address": "address.shipped",
                                       "ask_modification": "modify.window_closed"},
                  {"request_return": False}),
    "delivered, a return approved": (set(), {"cancel": "cancel.shipped",
                                             "change_address": "address.shipped",
                                             "ask_modification": "modify.window_closed",
                                             "request_return": "request.already_asked"}, {}),
    "delivered long ago": (set(), {"cancel": "cancel.shipped", "change_address": "address.shipped",
                                   "ask_modification": "modify.window_closed",
                                   "request_return": "return.window_closed"}, {}),
    "cancelled": (set(), {"cancel": "cancel.closed", "change_address": "address.closed",
                          "ask_modification": "modify.window_closed",
                          "request_return": "return.not_delivered"}, {}),
    "returned": (set(), {"cancel": "cancel.closed", "change_address": "address.closed",
                         "ask_modification": "modify.window_closed",
                         "request_return": "return.not_delivered"}, {}),
}


def _refusals(acts) -> dict[str, str]:
    return {name: verdict.code for name, verdict in acts.refused.items()}


@pytest.mark.parametrize("state", sorted(SELLER))
def test_what_the_seller_may_do(app, state, buyer, shop, seller):
    order = build(state, buyer, shop)
    acts = actions.for_user(order, seller, utcnow())
    opened, refused = SELLER[state]
    assert acts.role == "seller" and set(acts.verdicts) == set(actions.SELLER_ACTIONS)
    assert set(acts.open) == opened
    if refused is not EVERY_OTHER:  # no change waits for a balance in these states
        assert _refusals(acts) == {**refused, "cancel_change": "balance.none_due"}
    for verdict in acts.refused.values():
        assert verdict.message and verdict.code.count(".") == 1
        with pytest.raises(OrderRefused) as raised:
            verdict.check()
        assert (raised.value.code, str(raised.value)) == (verdict.code, verdict.message)


@pytest.mark.parametrize("state", sorted(BUYER))
def test_what_the_buyer_may_do(app, state, buyer, shop):
    order = build(state, buyer, shop)
    acts = actions.for_user(order, buyer, utcnow())
    opened, refused, at_once = BUYER[state]
    assert acts.role == "buyer" and set(acts.verdicts) == set(actions.BUYER_ACTIONS)
    assert set(acts.open) == opened
    assert _refusals(acts) == {**refused, "pay_balance": "balance.none_due"}
    assert {name: acts[name].at_once for name in at_once} == at_once
    for verdict in acts.refused.values():
        with pytest.raises(RequestRefused, match=verdict.message[:20]):
            verdict.check()


def test_the_seller_and_buyer_tables_cover_every_status():
    def statuses(table):
        return {state.split(",")[0].split(" ")[0] for state in table} - {"partially"}
    assert statuses(SELLER) == {s.value for s in actions.Status} == statuses(BUYER)


def test_someone_else_has_no_actions_on_the_order(app, buyer, buyer2, shop):
    order = make_order(buyer, shop)
    with pytest.raises(LookupError):
        actions.for_user(order, buyer2, utcnow())


def test_the_doing_functions_refuse_with_the_same_codes(app, buyer, shop, seller):
    """What the pages read from the actions is what the domain raises when asked anyway."""
    def code_of(call):
        with pytest.raises(OrderRefused) as raised:
            call()
        return type(raised.value), raised.value.code

    shipped = build("shipped", buyer, shop)
    package = fulfilment.Package({1: 1}, "manual", "Manual", "PKG-1")
    v = shipped.version
    assert code_of(lambda: fulfilment.ship(shipped, package, version=v, actor=seller)) == \
        (FulfilmentError, "ship.not_processed")
    assert code_of(lambda: fulfilment.cancel(shipped, reason="x", version=v, actor=seller,
                                             actor_role="seller")) == \
        (FulfilmentError, "cancel.shipped")
    assert code_of(lambda: editing.add_note(shipped, "  ", actor=seller)) == \
        (BadInput, "form.empty_note")
    assert code_of(lambda: editing.change_lines(shipped, {}, version=v, actor=seller)) == \
        (EditRefused, "edit.shipping_started")
    assert code_of(lambda: requests.buyer_cancel(shipped, buyer=buyer, reason="", version=v)) \
        == (RequestRefused, "cancel.shipped")
    assert code_of(lambda: fulfilment.process(shipped, version=v, actor=seller)) == \
        (FulfilmentError, "process.not_pending")

    held = build("processed, an address change waits", buyer, shop)
    line_id = fulfilment.lines_of(held)[0].id
    assert code_of(lambda: fulfilment.ship(held, fulfilment.Package({line_id: 1}, "manual",
                                                                    "Manual", "PKG-2"),
                                           version=held.version, actor=seller)) == \
        (FulfilmentError, "ship.held_by_request")
    request = OrderRequest.get(OrderRequest.order == held.id)
    assert code_of(lambda: requests.decide(request, held, approve=False, seller=seller)) == \
        (BadInput, "form.no_reason")
    requests.decide(request, held, approve=False, seller=seller, response="No")
    again = OrderRequest.get_by_id(request.id)
    assert code_of(lambda: requests.decide(again, Order.get_by_id(held.id), approve=True,
                                           seller=seller)) == \
        (RequestRefused, "request.already_answered")

    delivered = build("delivered", buyer, shop)
    assert code_of(lambda: requests.receive_return(OrderRequest(kind="return", status="open"),
                                                   delivered, seller=seller,
                                                   version=delivered.version)) == \
        (RequestRefused, "return.none_waiting")
    pending = build("pending", buyer, shop)
    assert code_of(lambda: fulfilment.cancel(pending, reason="x", version=pending.version - 1,
                                             actor=seller, actor_role="seller")) == \
        (StaleOrder, "order.stale")


def test_errors_keep_their_old_names_and_meet_in_one_base():
    assert fulfilment.FulfilmentError is FulfilmentError
    for error in (FulfilmentError, EditRefused, RequestRefused, BadInput, StaleOrder,
                  TransitionRefused):
        assert issubclass(error, OrderRefused)
    refused = FulfilmentError("ship.not_processed", "Order 1 is Pending: only Processed orders "
                              "can ship.")
    assert refused.reason == refused.message == str(refused)


def test_bulk_processing_says_why_each_order_was_skipped(app, buyer, shop, seller):
    ready, shipped = build("pending", buyer, shop), build("shipped", buyer, shop)
    stale = build("pending", buyer, shop)
    Order.update(version=Order.version + 1).where(Order.id == stale.id).execute()
    done, skipped = fulfilment.process_many([shipped, stale, ready], actor=seller)
    assert done == [ready.number]
    assert dict(skipped) == {shipped.number: "it is Shipped",
                             stale.number: "changed by someone else in the meantime"}
