"""Balance due: a seller's change that raises what the buyer pays waits for the buyer's
payment, then is made; money is taken only with the buyer, and given back when the
change can no longer be made."""

import uuid
from types import SimpleNamespace

import pytest
from hypothesis import given, settings, strategies as st

from portal import payments
from portal.db import database
from portal.models import Order, OrderEvent, PaymentTransaction, PendingChange, Variant
from portal.orders import actions, balance, editing, fulfilment, ledger, requests
from portal.orders.editing import Edited
from portal.orders.errors import OrderRefused
from portal.orders.ledger import Kind, State
from portal.orders.lifecycle import lock
from portal.plugins import card
from tests.factories import make_order, make_variant
from tests.test_payments import ship_all

NUMBER, DECLINED = "4242424242424242", "4000000000000002"


def fresh(order):
    return Order.get_by_id(order.id)


def timeline(order):
    return [e.message for e in OrderEvent.select().where(OrderEvent.order == order.id)
            .order_by(OrderEvent.id)]


def raise_to(order, seller, quantity):
    line = fulfilment.lines_of(order)[0]
    return editing.change_lines(order, {line.id: (line.variant_id, quantity)},
                                version=fresh(order).version, actor=seller)


def pay(order, buyer, number=NUMBER, form_token=None):
    # Keys are unique for real; here the ids start again in every test, and the test
    # gateway remembers a key's first card for the whole run.
    form_token = form_token or uuid.uuid4().hex
    row = balance.start_payment(fresh(order), buyer, plugin="card", method_code="card",
                                display="Visa •••• 4242", form_token=form_token)
    return payments.run(row, token=card.tokenize(number, "12/40", "123"))


@pytest.fixture
def shirt(shop):
    return make_variant(shop, "Linen shirt", price=3900, stock=10)


@pytest.fixture
def order(buyer, shop, shirt):
    """Processed, one shirt, $39.00 authorised through the card test gateway."""
    return make_order(buyer, shop, status="processed", variants=(shirt,),
                      products=(("Linen shirt", 3900, 1),))


def test_raising_an_authorised_total_waits_for_the_buyer_and_changes_nothing(order, seller,
                                                                             shirt):
    assert raise_to(order, seller, 3) == Edited.WAITING
    now = fresh(order)
    assert (now.total, now.balance_due, now.item_count) == (3900, 7800, 1)
    assert fulfilment.lines_of(now)[0].quantity == 1
    assert Variant.get_by_id(shirt.id).stock == 10  # nothing taken until it is paid
    assert any("Balance due: $78.00" in m for m in timeline(order))
    change = balance.waiting(now)
    assert (change.total_before, change.total_after, change.amount_due) == (3900, 11700, 7800)
    # While it waits: no shipping, no second edit; the buyer may pay or decline.
    seller_can = actions.for_seller(now)
    assert seller_can["ship"].code == "ship.balance_due"
    assert seller_can["edit_lines"].code == "edit.change_waiting"
    assert seller_can.can("cancel_change")
    assert actions.for_buyer(now, now.shop, now.placed_at).can("pay_balance")
    with pytest.raises(OrderRefused) as refused:
        raise_to(now, seller, 2)
    assert refused.value.code == "edit.change_waiting"


def test_the_buyer_pays_the_balance_and_the_change_is_made(order, buyer, seller, shirt):
    raise_to(order, seller, 3)
    row = pay(order, buyer)
    assert row.state == State.SUCCEEDED and row.amount == 7800
    now = fresh(order)
    assert (now.total, now.balance_due, now.item_count) == (11700, 0, 3)
    assert Variant.get_by_id(shirt.id).stock == 8
    assert PendingChange.get(PendingChange.order == order.id).state == "applied"
    assert any("Balance of $78.00 paid" in m for m in timeline(order))
    sums = ledger.totals_of(order.id)
    assert (sums.authorised, sums.captured) == (11700, 0)
    # Shipping captures the whole new total, from both authorisations, oldest first.
    now = ship_all(now, seller)
    captures = [(r.amount, r.authorisation_id) for r in ledger.rows_of(order.id)
                if r.kind == Kind.CAPTURE]
    auths = [r.id for r in ledger.rows_of(order.id) if r.kind == Kind.AUTHORISE]
    assert captures == [(3900, auths[0]), (7800, auths[1])]
    assert now.payment_status == "paid"
    # A full refund gives back from the newest capture first, each against its payment.
    payments.refund(now, 11700, reason="sorry", actor=seller)
    refunds = [(r.amount, r.authorisation_id, r.state) for r in ledger.rows_of(order.id)
               if r.kind == Kind.REFUND]
    assert refunds == [(7800, auths[1], State.SUCCEEDED), (3900, auths[0], State.SUCCEEDED)]
    assert fresh(order).payment_status == "refunded"
    with pytest.raises(OrderRefused):
        payments.refund(fresh(order), 1, reason="more", actor=seller)


def test_the_same_form_sent_twice_is_one_payment(order, buyer, seller):
    raise_to(order, seller, 2)
    same = uuid.uuid4().hex
    pay(order, buyer, form_token=same)
    again = balance.start_payment(fresh(order), buyer, plugin="card", method_code="card",
                                  display="", form_token=same)
    assert again.state == State.SUCCEEDED
    assert PaymentTransaction.select().where(
        (PaymentTransaction.order == order.id) & (PaymentTransaction.kind == "authorise")
    ).count() == 2
    assert fresh(order).total == 7800


def test_a_declined_balance_payment_keeps_the_change_waiting(order, buyer, seller):
    raise_to(order, seller, 3)
    row = pay(order, buyer, number=DECLINED)
    assert row.state == State.FAILED and "declined" in row.message
    now = fresh(order)
    assert (now.status, now.total, now.balance_due) == ("processed", 3900, 7800)
    pay(order, buyer)  # another try, another form: paid
    assert fresh(order).total == 11700


def test_the_seller_cancels_the_change_and_a_late_payment_is_given_back(order, buyer, seller):
    raise_to(order, seller, 3)
    row = balance.start_payment(fresh(order), buyer, plugin="card", method_code="card",
                                display="", form_token=uuid.uuid4().hex)  # the buyer is paying...
    assert balance.call_off(fresh(order), actor=seller, actor_role="seller",
                            reason="customer phoned")
    now = fresh(order)
    assert (now.total, now.balance_due) == (3900, 0)
    assert any("The shop cancelled the change of items" in m for m in timeline(order))
    assert actions.for_seller(now).can("ship")
    payments.run(row, token=card.tokenize(NUMBER, "12/40", "123"))  # ...and it arrives
    void = [r for r in ledger.rows_of(order.id) if r.kind == Kind.VOID]
    assert [(v.amount, v.authorisation_id, v.state) for v in void] == \
        [(7800, row.id, State.SUCCEEDED)]
    assert fresh(order).total == 3900
    assert ledger.totals_of(order.id).capturable == 3900


def test_stock_gone_before_the_payment_releases_it_and_calls_the_change_off(
        order, buyer, seller, shirt):
    raise_to(order, seller, 3)
    Variant.update(stock=0).where(Variant.id == shirt.id).execute()
    row = pay(order, buyer)
    assert row.state == State.SUCCEEDED  # the gateway said yes ...
    now = fresh(order)
    assert (now.total, now.balance_due) == (3900, 0)  # ... but the change could not be made
    change = PendingChange.get(PendingChange.order == order.id)
    assert change.state == "cancelled" and "in stock" in change.reason
    assert [r.amount for r in ledger.rows_of(order.id) if r.kind == Kind.VOID] == [7800]


def test_cancelling_the_order_calls_the_change_off(order, seller):
    raise_to(order, seller, 3)
    now = fresh(order)
    fulfilment.cancel(now, reason="out of business", version=now.version, actor=seller,
                      actor_role="seller")
    assert fresh(order).balance_due == 0
    assert PendingChange.get(PendingChange.order == order.id).state == "cancelled"


def test_the_buyer_may_decline_and_another_buyer_may_not_pay(order, buyer, buyer2, seller):
    raise_to(order, seller, 2)
    with pytest.raises(OrderRefused) as refused:
        balance.start_payment(fresh(order), buyer2, plugin="card", method_code="card",
                              display="", form_token="x")
    assert refused.value.code == "balance.not_yours"
    assert balance.call_off(fresh(order), actor=buyer, actor_role="buyer",
                            reason="I'll keep one")
    assert any("The buyer declined the change" in m for m in timeline(order))
    with pytest.raises(OrderRefused) as refused:
        balance.start_payment(fresh(order), buyer, plugin="card", method_code="card",
                              display="", form_token="y")
    assert refused.value.code == "balance.none_due"


def test_a_paid_order_raised_is_captured_as_soon_as_the_balance_is_paid(buyer, shop, seller,
                                                                         shirt):
    order = make_order(buyer, shop, variants=(shirt,), products=(("Linen shirt", 3900, 1),))
    with database.atomic():
        ledger.request(lock(order.id), Kind.CAPTURE, 3900)
    payments.settle(order.id)
    raise_to(order, seller, 2)
    assert fresh(order).balance_due == 3900
    pay(order, buyer)
    sums = ledger.totals_of(order.id)
    assert (sums.captured, fresh(order).total, fresh(order).payment_status) == \
        (7800, 7800, "paid")


def test_changes_within_what_was_authorised_need_no_payment(order, seller):
    assert raise_to(order, seller, 1) == Edited.UNCHANGED
    line = fulfilment.lines_of(order)[0]
    editing.change_lines(fresh(order), {line.id: (line.variant_id, 2)},
                         version=fresh(order).version, actor=seller)  # waits: 7800 > 3900
    balance.call_off(fresh(order), actor=seller, actor_role="seller", reason="no")
    # An order lowered first may rise again up to what the buyer's payment reserved.
    two = make_order(fresh(order).buyer, fresh(order).shop, status="processed",
                     variants=(line.variant,), products=(("Linen shirt", 3900, 2),))
    assert raise_to(two, seller, 1) == Edited.CHANGED
    assert raise_to(two, seller, 2) == Edited.CHANGED
    assert fresh(two).total == 7800 and not ledger.still_pending(two.id)


def test_an_approved_modification_that_raises_the_total_waits_for_the_payment(
        order, buyer, seller):
    line = fulfilment.lines_of(order)[0]
    now = fresh(order)
    requests.buyer_modify(now, now.shop, {line.id: (line.variant_id, 2)}, buyer=buyer,
                          reason="one more", now=now.placed_at)
    asked = requests.requests_of(now)[0]
    requests.decide(asked, fresh(order), approve=True, seller=seller, response="sure")
    change = balance.waiting(fresh(order))
    assert change is not None and change.request_id == asked.id
    pay(order, buyer)
    assert fresh(order).total == 7800


# -- the pages: plain forms, no JavaScript needed --------------------------------------

def _post_lines(client, order, quantity):
    line = fulfilment.lines_of(order)[0]
    return client.post(f"/seller/orders/{order.number}/lines",
                       data={"version": fresh(order).version,
                             f"variant-{line.id}": line.variant_id,
                             f"qty-{line.id}": quantity})


@pytest.fixture
def pages(app, client, auth, order, shop, seller):
    from portal.testing import enable
    enable(shop, "card")
    seller_client = app.test_client()
    seller_client.post("/login", data={"email": seller.email, "password": "password-123"})
    auth.login()
    return client, seller_client


def test_the_seller_raises_the_total_and_the_buyer_sees_a_balance_due(pages, order):
    buyer_client, seller_client = pages
    response = _post_lines(seller_client, order, 3)
    assert response.status_code == 303
    page = seller_client.get(response.location, follow_redirects=True).get_data(as_text=True)
    assert "waits for them to pay the balance of $78.00" in page
    assert "Waiting for the buyer&#39;s payment: $78.00" in page or "Waiting for the buyer's payment: $78.00" in page and "Cancel the change" in page
    mine = buyer_client.get(f"/orders/{order.number}").get_data(as_text=True)
    assert "Balance due: $78.00" in mine and f"/orders/{order.number}/balance" in mine
    pay_page = buyer_client.get(f"/orders/{order.number}/balance").get_data(as_text=True)
    assert "Linen shirt (M, White) × 1 → Linen shirt (M, White) × 3" in pay_page.replace(
        "&amp;", "&") or "× 3" in pay_page
    assert "Pay $78.00" in pay_page and 'name="form_token"' in pay_page


def _pay_form(client, order, number):
    page = client.get(f"/orders/{order.number}/balance").get_data(as_text=True)
    token = page.split('name="form_token" value="')[1].split('"')[0]
    return client.post(f"/orders/{order.number}/balance",
                       data={"form_token": token, "method": "card:card", "card_number": number,
                             "card_exp": "12/40", "card_cvc": "123"})


def test_the_buyer_pays_on_the_page_after_a_decline(pages, order):
    buyer_client, seller_client = pages
    _post_lines(seller_client, order, 3)
    declined = _pay_form(buyer_client, order, DECLINED)
    assert declined.status_code == 422
    assert "Your payment was declined: Your card was declined." in declined.get_data(as_text=True)
    mistyped = _pay_form(buyer_client, order, "4242 4242 4242 4241")
    assert mistyped.status_code == 422 and "incorrect" in mistyped.get_data(as_text=True)
    paid = _pay_form(buyer_client, order, NUMBER)
    assert paid.status_code == 303
    page = buyer_client.get(paid.location).get_data(as_text=True)
    assert "Paid $78.00: the shop&#39;s change is made" in page
    assert f'href="/orders/{order.number}/balance"' not in page
    assert fresh(order).total == 11700
    again = buyer_client.get(f"/orders/{order.number}/balance")
    assert again.status_code == 303  # nothing more to pay


def test_the_buyer_declines_and_the_seller_cancels(pages, order, seller):
    buyer_client, seller_client = pages
    _post_lines(seller_client, order, 2)
    assert buyer_client.post(f"/orders/{order.number}/balance/decline").status_code == 303
    assert fresh(order).balance_due == 0 and fresh(order).total == 3900
    _post_lines(seller_client, order, 2)
    stale = seller_client.post(f"/seller/orders/{order.number}/change/cancel",
                               data={"version": 1})
    assert stale.status_code == 409 and fresh(order).balance_due == 3900
    done = seller_client.post(f"/seller/orders/{order.number}/change/cancel",
                              data={"version": fresh(order).version})
    assert done.status_code == 303 and fresh(order).balance_due == 0


def test_no_one_else_sees_or_pays_the_balance(app, pages, order, buyer2, shop2, seller2):
    _, seller_client = pages
    _post_lines(seller_client, order, 2)
    other = app.test_client()
    other.post("/login", data={"email": buyer2.email, "password": "password-123"})
    assert other.get(f"/orders/{order.number}/balance").status_code == 404
    assert other.post(f"/orders/{order.number}/balance",
                      data={"method": "card:card"}).status_code == 404
    assert other.post(f"/orders/{order.number}/balance/decline").status_code == 404
    other_seller = app.test_client()
    other_seller.post("/login", data={"email": seller2.email, "password": "password-123"})
    assert other_seller.post(f"/seller/orders/{order.number}/change/cancel",
                             data={"version": fresh(order).version}).status_code == 404
    assert fresh(order).balance_due == 3900


# -- the arithmetic across several authorisations (property-based) ---------------------


def _rows(auths, captured):
    rows, next_id = [], 1
    for amount, taken in zip(auths, captured):
        auth = SimpleNamespace(id=next_id, kind="authorise", state="succeeded", amount=amount,
                               authorisation_id=None)
        rows.append(auth)
        next_id += 1
        if taken:
            rows.append(SimpleNamespace(id=next_id, kind="capture", state="succeeded",
                                        amount=min(taken, amount), authorisation_id=auth.id))
            next_id += 1
    return rows


@settings(deadline=None)  # arithmetic only, but CI shares its cores: no timing in the verdict
@given(st.lists(st.integers(1, 10**7), min_size=1, max_size=4), st.data())
def test_shares_add_up_and_never_exceed_any_authorisation(auths, data):
    captured = [data.draw(st.integers(0, a)) for a in auths]
    rows = _rows(auths, captured)
    parts = ledger.per_authorisation(rows)
    sums = ledger.totals(rows)
    assert sums.authorised == sum(auths) and sums.captured == sum(captured)
    for kind, room in ((Kind.CAPTURE, "capturable"), (Kind.REFUND, "refundable")):
        limit = getattr(sums, room)
        if not limit:
            continue
        amount = data.draw(st.integers(1, limit))
        shares = ledger._shares(kind, amount, parts)
        assert sum(share for _, share in shares) == amount
        own = {auth.id: getattr(t, room) for auth, t in parts}
        assert all(0 < share <= own[auth.id] for auth, share in shares)
        if kind == Kind.REFUND:  # the newest payment is given back first
            ids = [auth.id for auth, _ in shares]
            assert ids == sorted(ids, reverse=True)


def test_the_balance_paid_with_the_wallet_comes_back_to_the_changed_order(pages, order, shop):
    from portal.testing import enable
    enable(shop, "wallet")
    buyer_client, seller_client = pages
    _post_lines(seller_client, order, 2)
    page = buyer_client.get(f"/orders/{order.number}/balance").get_data(as_text=True)
    token = page.split('name="form_token" value="')[1].split('"')[0]
    to_wallet = buyer_client.post(f"/orders/{order.number}/balance",
                                  data={"form_token": token, "method": "wallet:wallet"})
    assert to_wallet.status_code == 303 and to_wallet.location.endswith("/pay")
    assert fresh(order).total == 3900  # nothing changes before the buyer approves
    back = buyer_client.post(to_wallet.location, data={"action": "approve"})
    done = buyer_client.get(back.headers["Location"])
    assert done.status_code == 303
    page = buyer_client.get(done.location).get_data(as_text=True)
    assert "change of your items is made" in page
    assert (fresh(order).total, fresh(order).balance_due) == (7800, 0)
    wallet_auth = [r for r in ledger.rows_of(order.id) if r.kind == Kind.AUTHORISE][-1]
    assert (wallet_auth.plugin, wallet_auth.amount, wallet_auth.state) == \
        ("wallet", 3900, State.SUCCEEDED)


def test_a_balance_paid_by_cash_on_delivery_is_captured_when_delivered(pages, order, shop):
    """The balance's authorisation keeps the method's capture rule, as checkout's does."""
    from portal.models import PaymentTransaction
    from portal.testing import enable
    buyer_client, seller_client = pages
    enable(shop, "cod")
    _post_lines(seller_client, order, 3)
    page = buyer_client.get(f"/orders/{order.number}/balance").get_data(as_text=True)
    token = page.split('name="form_token" value="')[1].split('"')[0]
    paid = buyer_client.post(f"/orders/{order.number}/balance",
                             data={"form_token": token, "method": "cod:cod"})
    assert paid.status_code == 303
    row = PaymentTransaction.get(PaymentTransaction.idempotency_key.startswith("balance-"))
    assert (row.plugin, row.state, row.capture) == ("cod", "succeeded", "on_delivery")
