"""The payment ledger and the built-in payment plugins: every money movement is a row
written before the plugin is asked, completed with its answer; refunds never exceed
what was captured; a card number is never stored or logged."""

import logging
import time
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from portal import hookimpl, payments
from portal.db import database, is_sqlite
from portal.hooks import pluginmanager
from portal.hooktypes import PaymentResult
from portal.models import Order, OrderEvent, PaymentTransaction, utcnow
from portal.orders import editing, fulfilment, ledger, requests
from portal.orders.errors import EditRefused, OrderRefused
from portal.orders.ledger import Kind, State
from portal.orders.lifecycle import lock
from portal.plugins import card, cod
from portal.testing import enable
from tests.factories import make_order, make_variant
from tests.test_races import race

NUMBER = "4242424242424242"


def fresh(order):
    return Order.get_by_id(order.id)


def unrecorded(order):
    """The order as checkout will leave it before authorising: no ledger rows."""
    PaymentTransaction.delete().where(PaymentTransaction.order == order.id).execute()
    return fresh(order)


def authorise(order, number=NUMBER, key=None, plugin="card", method="card"):
    """As checkout authorises: with the capture rule the plugin's option declares."""
    token = card.tokenize(number, "12/40", "123") if plugin == "card" else ""
    enable(order.shop, plugin)
    option = next(m.option for m in payments.methods(order.shop, order.currency, order.total)
                  if m.plugin == plugin and m.option.method_code == method)
    return payments.authorise(order, plugin=plugin, method_code=method, token=token,
                              amount=order.total, idempotency_key=key or f"{order.number}-a",
                              capture=option.capture)


def ship_all(order, seller):
    order = fresh(order)
    package = fulfilment.Package(fulfilment.remaining(order), "manual", "Manual", "TRACK1")
    fulfilment.ship(order, package, version=order.version, actor=seller)
    payments.settle(order.id)
    return fresh(order)


def timeline(order):
    return [e.message for e in OrderEvent.select().where(OrderEvent.order == order.id)
            .order_by(OrderEvent.id)]


@pytest.fixture
def processed(buyer, shop):
    shirt = make_variant(shop, "Linen shirt", price=3900, stock=10)
    return make_order(buyer, shop, status="processed", variants=(shirt,),
                      products=(("Linen shirt", 3900, 1),))


# -- the card test gateway -----------------------------------------------------------

def test_tokenize_checks_the_card_like_a_gateway_form_and_keeps_no_number():
    token = card.tokenize("4242 4242 4242 4242", "12/40", "123")
    assert token.startswith("tok_visa_4242_a_") and NUMBER not in token
    with pytest.raises(card.CardError) as bad:
        card.tokenize("4242 4242 4242 4241", "12/40", "123")
    assert bad.value.field == "number"
    with pytest.raises(card.CardError, match="expired"):
        card.tokenize(NUMBER, "01/20", "123", today=date(2026, 11, 1))
    with pytest.raises(card.CardError) as bad:
        card.tokenize(NUMBER, "12/40", "12")
    assert bad.value.field == "cvc"


def test_card_approved_is_authorised_on_the_record(processed):
    order = unrecorded(processed)
    row = authorise(order)
    assert row.state == State.SUCCEEDED and row.reference.startswith("tg_auth_")
    assert row.display == "Visa •••• 4242"
    assert fresh(order).payment_status == "authorised"
    assert any("Payment of $39.00 authorised" in m for m in timeline(order))


@pytest.mark.parametrize("number, message", [("4000000000000002", card.DECLINED),
                                             ("4000000000009995", card.INSUFFICIENT)])
def test_card_declined_is_data_with_the_reason(processed, number, message):
    order = unrecorded(processed)
    row = authorise(order, number)
    assert row.state == State.FAILED and row.message == message
    assert PaymentTransaction.select().where(PaymentTransaction.order == order.id).count() == 1


def test_a_processing_error_stays_pending_and_the_retry_with_the_same_key_approves(processed):
    order = unrecorded(processed)
    row = authorise(order, "4000000000000119")
    assert row.state == State.PENDING and row.attempts == 1 and "No answer yet" in row.message
    assert payments.reconcile(now=utcnow() + timedelta(minutes=5)) == 1
    row = PaymentTransaction.get_by_id(row.id)
    assert row.state == State.SUCCEEDED and row.attempts == 2
    assert row.idempotency_key == f"{order.number}-a"


def test_the_same_key_authorises_once(processed):
    order = unrecorded(processed)
    first, again = authorise(order, key="k-1"), authorise(order, key="k-1")
    assert first.id == again.id
    assert PaymentTransaction.select().where(PaymentTransaction.order == order.id).count() == 1


def test_shipping_captures_and_the_seller_refunds_in_parts(processed, seller):
    order = ship_all(processed, seller)
    assert order.payment_status == "paid"
    assert any("Payment of $39.00 captured" in m for m in timeline(order))
    first = payments.refund(order, 1000, reason="scratched", actor=seller)
    assert first.state == State.SUCCEEDED and fresh(order).payment_status == "partially_refunded"
    payments.refund(order, 2900, reason="all of it", actor=seller)
    assert fresh(order).payment_status == "refunded"
    with pytest.raises(OrderRefused) as refused:
        payments.refund(order, 1, reason="more", actor=seller)
    assert refused.value.code == "refund.all_refunded"
    assert ledger.totals_of(order.id).refunded == 3900


def test_a_refund_above_what_was_paid_is_refused(processed, seller):
    order = ship_all(processed, seller)
    payments.refund(order, 3000, reason="damaged", actor=seller)
    with pytest.raises(OrderRefused) as refused:
        payments.refund(order, 1000, reason="again", actor=seller)
    assert refused.value.code == "refund.too_much" and "$9.00" in refused.value.message


def test_an_order_without_a_ledger_says_no_payment_on_record(processed, seller):
    order = unrecorded(processed)
    with pytest.raises(OrderRefused) as refused:
        payments.refund(order, 100, reason="x", actor=seller)
    assert refused.value.code == "refund.no_payment"
    assert "no payment on record" in refused.value.message


def test_cancel_before_capture_voids(processed, seller):
    order = fresh(processed)
    fulfilment.cancel(order, reason="out of stock", version=order.version, actor=seller,
                      actor_role="seller")
    payments.settle(order.id)
    assert fresh(order).payment_status == "voided"
    void = PaymentTransaction.get((PaymentTransaction.order == order.id)
                                  & (PaymentTransaction.kind == "void"))
    assert void.state == State.SUCCEEDED and void.amount == 3900


def test_a_failed_capture_keeps_the_shipment_and_tells_the_seller(processed, seller, register_failing):
    PaymentTransaction.update(plugin="failing").where(
        PaymentTransaction.order == processed.id).execute()
    order = ship_all(processed, seller)
    assert order.status == "shipped" and order.payment_status == "authorised"
    capture = PaymentTransaction.get((PaymentTransaction.order == order.id)
                                     & (PaymentTransaction.kind == "capture"))
    assert capture.state == State.FAILED and capture.message == "Card expired since."
    event = OrderEvent.get((OrderEvent.order == order.id) & (OrderEvent.kind == "payment"))
    assert event.internal and "Capture of $39.00 failed (Visa •••• 4242): Card expired since." \
        == event.message


class Failing:
    @hookimpl
    def payment_capture(self, method_code, amount, currency):
        return PaymentResult(False, amount=amount, currency=currency,
                             message="Card expired since.")


@pytest.fixture
def register_failing(register_plugin):
    register_plugin(Failing(), "failing")


class Slow:
    """A gateway that answers after the time budget (0.5 s in tests) while ``slow``."""

    def __init__(self):
        self.slow, self.calls = True, []

    @hookimpl
    def payment_capture(self, method_code, amount, currency, idempotency_key):
        self.calls.append(idempotency_key)
        if self.slow:
            time.sleep(1)
        return PaymentResult(True, f"slow-{idempotency_key}", amount, currency)


def test_an_overrunning_capture_is_pending_and_the_task_reconciles_it(app, processed, seller,
                                                                      register_plugin):
    slow = Slow()
    register_plugin(slow, "slowpay")
    PaymentTransaction.update(plugin="slowpay").where(
        PaymentTransaction.order == processed.id).execute()
    order = ship_all(processed, seller)
    capture = PaymentTransaction.get((PaymentTransaction.order == order.id)
                                     & (PaymentTransaction.kind == "capture"))
    assert capture.state == State.PENDING and "within 0.5 s" in capture.message
    assert order.payment_status == "authorised"
    slow.slow = False
    pluginmanager.forgive_all()  # the plugin rested after overrunning; time passed
    with app.app_context():
        app.extensions["portal.tasks"]["reconcile_payments"].call_local()
    capture = PaymentTransaction.get_by_id(capture.id)
    assert capture.state == State.PENDING  # not due yet: asked again after a back-off
    with database.atomic():
        PaymentTransaction.update(next_attempt_at=utcnow() - timedelta(seconds=1)) \
            .where(PaymentTransaction.id == capture.id).execute()
    with app.app_context():
        app.extensions["portal.tasks"]["reconcile_payments"].call_local()
    capture = PaymentTransaction.get_by_id(capture.id)
    assert capture.state == State.SUCCEEDED and slow.calls == [capture.idempotency_key] * 2
    assert fresh(order).payment_status == "paid"


def test_a_received_return_refunds_the_returned_lines(buyer, shop, seller):
    shirt = make_variant(shop, "Linen shirt", price=3900, stock=10)
    mug = make_variant(shop, "Mug", price=1600, stock=10)
    order = make_order(buyer, shop, status="delivered", variants=(shirt, mug), shipping=500,
                       products=(("Linen shirt", 3900, 1), ("Mug", 1600, 1)))
    assert order.payment_status == "paid"
    line = fulfilment.lines_of(order)[1]
    request = requests.OrderRequest.create(order=order.id, shop=shop.id, kind="return",
                                           created_by=buyer, status="approved",
                                           details=f'{{"lines": [{line.id}]}}')
    requests.receive_return(request, order, seller=seller, version=fresh(order).version)
    payments.settle(order.id)
    refund = PaymentTransaction.get((PaymentTransaction.order == order.id)
                                    & (PaymentTransaction.kind == "refund"))
    assert refund.amount == 1600 and refund.state == State.SUCCEEDED
    assert fresh(order).payment_status == "partially_refunded"


# -- cash on delivery ------------------------------------------------------------------

def test_cash_on_delivery_offers_the_shops_fee_and_is_captured_when_delivered(processed, shop,
                                                                              seller):
    enable(shop, "cod", fee="2.50")
    offered = {m.option.method_code: m.option.fee for m in payments.methods(shop, "USD", 3900)}
    assert offered["cod"] == 250
    order = unrecorded(processed)
    auth = authorise(order, plugin="cod", method="cod")
    assert (auth.display, auth.capture) == ("Cash on delivery", "on_delivery")  # as cod says
    order = ship_all(order, seller)
    assert order.payment_status == "authorised"  # shipped: nothing collected yet
    fulfilment.mark_delivered(order, version=order.version, actor=seller)
    payments.settle(order.id)
    assert fresh(order).payment_status == "paid"
    assert ledger.totals_of(order.id).captured == 3900


def test_cod_settings_form_refuses_a_bad_fee():
    form = cod.CodSettings(data={"fee": "two"})
    assert not form.validate() and cod.fee_of({"fee": "0.75"}, "USD") == 75


# -- edits -------------------------------------------------------------------------------

@pytest.fixture
def paid_pending(buyer, shop):
    shirt = make_variant(shop, "Linen shirt", price=3900, stock=10)
    order = make_order(buyer, shop, variants=(shirt,), products=(("Linen shirt", 3900, 3),))
    with database.atomic():
        ledger.request(lock(order.id), Kind.CAPTURE, order.total)
    payments.settle(order.id)
    assert fresh(order).payment_status == "paid"
    return fresh(order)


def test_an_edit_that_lowers_a_paid_total_refunds_the_difference(paid_pending, seller):
    line = fulfilment.lines_of(paid_pending)[0]
    editing.change_lines(paid_pending, {line.id: (line.variant_id, 1)},
                         version=paid_pending.version, actor=seller)
    payments.settle(paid_pending.id)
    refund = PaymentTransaction.get((PaymentTransaction.order == paid_pending.id)
                                    & (PaymentTransaction.kind == "refund"))
    assert refund.amount == 7800 and refund.state == State.SUCCEEDED
    assert fresh(paid_pending).payment_status == "partially_refunded"
    assert ledger.totals_of(paid_pending.id).captured - 7800 == fresh(paid_pending).total


# -- races -------------------------------------------------------------------------------

def test_concurrent_refunds_never_add_up_to_more_than_was_captured(processed, seller):
    order = ship_all(processed, seller)
    results = race(8, lambda i: payments.refund(fresh(order), 1000, reason=f"r{i}",
                                                actor=seller))
    done = [r for r in results if isinstance(r, PaymentTransaction)]
    refused = [r for r in results if isinstance(r, OrderRefused)]
    assert len(done) == 3 and len(refused) == 5, results
    assert all(r.code == "refund.too_much" for r in refused)
    assert ledger.totals_of(order.id).refunded == 3000


# -- no card number anywhere ------------------------------------------------------------

def test_no_card_number_in_the_database_or_the_logs(processed, seller, caplog, database_url):
    caplog.set_level(logging.DEBUG)
    order = unrecorded(processed)
    authorise(order, "4000000000000119", key="k-retry")
    payments.reconcile(now=utcnow() + timedelta(minutes=5))
    order = ship_all(order, seller)
    payments.refund(order, 500, reason="sorry", actor=seller)
    other = make_order(order.buyer, order.shop)
    authorise(unrecorded(other), "4000000000000002", key="k-declined")
    numbers = ["4000000000000119", "4000000000000002", NUMBER]
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert not any(n in logged for n in numbers)
    stored = " ".join(f"{r.reference} {r.display} {r.message} {r.idempotency_key}"
                      for r in PaymentTransaction.select())
    assert not any(n in stored for n in numbers)
    if is_sqlite():
        raw = open(database_url.removeprefix("sqlite:///"), "rb").read()
        for n in numbers:
            assert n.encode() not in raw and n[-12:].encode() not in raw


# -- the arithmetic, property-based --------------------------------------------------------

operations = st.lists(st.tuples(st.sampled_from(["capture", "refund", "void", "fail"]),
                                st.integers(min_value=-100, max_value=20_000)), max_size=30)


@hsettings(max_examples=300, deadline=None)
@given(authorised=st.integers(min_value=1, max_value=20_000), ops=operations)
def test_the_ledger_never_refunds_more_than_was_captured(authorised, ops):
    rows = [SimpleNamespace(kind="authorise", state="succeeded", amount=authorised)]
    for op, amount in ops:
        sums = ledger.totals(rows)
        if op == "capture" and 0 < amount <= sums.capturable:
            rows.append(SimpleNamespace(kind="capture", state="succeeded", amount=amount))
        elif op == "refund" and 0 < amount <= sums.refundable:
            rows.append(SimpleNamespace(kind="refund", state="pending", amount=amount))
            rows[-1].state = "succeeded" if amount % 3 else "failed"
        elif op == "void" and not sums.captured and not sums.voided:
            rows.append(SimpleNamespace(kind="void", state="succeeded", amount=authorised))
        sums = ledger.totals(rows)
        assert 0 <= sums.refunded <= sums.captured <= authorised
        assert sums.refundable == sums.captured - sums.refunded >= 0
        assert sums.capturable >= 0
        expected = (None if sums.authorised == 0 else
                    "refunded" if sums.captured and sums.refunded == sums.captured else
                    "partially_refunded" if sums.refunded else
                    "paid" if sums.captured else
                    "voided" if sums.voided else "authorised")
        assert sums.status == expected


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=10**9))
def test_a_refund_request_is_checked_against_what_is_left(captured, refund):
    rows = [SimpleNamespace(kind="authorise", state="succeeded", amount=captured + 1),
            SimpleNamespace(kind="capture", state="succeeded", amount=captured)]
    assert (refund <= ledger.totals(rows).refundable) == (refund <= captured)


def test_the_card_plugins_payment_void_releases_an_authorisation():
    token = card.tokenize(NUMBER, "12/40", "123")
    auth = pluginmanager.call("card", "payment_authorise", method_code="card", amount=500,
                              currency="USD", token=token, idempotency_key="v-1",
                              settings={}).value
    void = pluginmanager.call("card", "payment_void", method_code="card", amount=500,
                              currency="USD", reference=auth.reference,
                              idempotency_key="v-2", settings={}).value
    assert void.succeeded and void.reference.startswith("tg_void_")
    assert pluginmanager.call("card", "payment_void", method_code="other", amount=1,
                              currency="USD", reference="", idempotency_key="v-3",
                              settings={}).value is None


# -- the seller's order page -------------------------------------------------------------

def test_the_seller_refunds_part_of_a_shipped_order_from_its_page(client, auth, processed,
                                                                  seller, buyer):
    order = ship_all(processed, seller)
    auth.login(seller.email)
    page = client.get(f"/seller/orders/{order.number}").get_data(as_text=True)
    assert 'action="/seller/orders/%s/refund"' % order.number in page
    assert "At most $39.00" in page
    response = client.post(f"/seller/orders/{order.number}/refund",
                           data={"amount": "12.50", "reason": "scratched"})
    assert response.status_code == 303
    assert fresh(order).payment_status == "partially_refunded"
    too_much = client.post(f"/seller/orders/{order.number}/refund",
                           data={"amount": "30", "reason": "again"})
    assert too_much.status_code == 422 and "more than was paid" in too_much.get_data(as_text=True)
    assert ledger.totals_of(order.id).refunded == 1250
    auth.logout()
    auth.login(buyer.email)
    buyer_page = client.get(f"/orders/{order.number}").get_data(as_text=True)
    assert "Refund of $12.50 issued" in buyer_page and "Payment of $39.00 captured" in buyer_page


def test_shipping_from_the_page_captures_at_once(client, auth, processed, seller):
    auth.login(seller.email)
    order = fresh(processed)
    response = client.post(f"/seller/orders/{order.number}/ship",
                           data={"version": order.version, "carrier": "manual",
                                 "tracking_number": "ABC123"})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    assert fresh(order).payment_status == "paid"


# -- the demo's orders ---------------------------------------------------------------------

def test_every_demo_order_has_its_money_on_the_record(app):
    from portal.demo import seed
    with app.app_context():  # demo passwords are hashed with the app's settings
        seed(120, with_requests=False, in_background=False)
        orders = list(Order.select())
        rows = {}
        for row in PaymentTransaction.select():
            rows.setdefault(row.order_id, []).append(row)
    assert len(orders) == 120
    for order in orders:
        sums = ledger.totals(rows[order.id])
        assert sums.authorised == order.total
        assert sums.status.value == order.payment_status, order.status
        assert rows[order.id][0].display == order.payment_method
    shipped = next(o for o in orders if o.status == "shipped"
                   and rows[o.id][0].method_code == "card")
    assert ledger.totals(rows[shipped.id]).refundable == shipped.total



def test_cash_on_delivery_is_captured_when_the_carrier_delivers(app, processed, seller):
    from portal import outbox
    from portal.orders.lifecycle import Status, transition
    order = unrecorded(processed)
    authorise(order, plugin="cod", method="cod")
    order = ship_all(order, seller)
    transition(fresh(order), Status.DELIVERED, actor_role="system",
               reason="the carrier delivered it")
    assert fresh(order).payment_status == "authorised"
    outbox.deliver_due(app.extensions["portal.outbox_consumers"])
    assert fresh(order).payment_status == "paid"
    assert ledger.totals_of(order.id).captured == 3900
    outbox.deliver_due(app.extensions["portal.outbox_consumers"])  # told again: taken once
    assert PaymentTransaction.select().where((PaymentTransaction.order == order.id)
                                             & (PaymentTransaction.kind == "capture")).count() == 1


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from(["USD", "JPY", "KWD", "EUR"]))
def test_amounts_typed_on_the_refund_form_round_trip_in_minor_units(minor, currency):
    """The refund form shows ``to_decimal`` and reads with ``from_decimal``: the same
    minor units come back, in currencies with 0, 2 and 3 decimals."""
    from portal.money import from_decimal, to_decimal
    assert from_decimal(str(to_decimal(minor, currency)), currency) == minor


@pytest.mark.parametrize("number, exp, cvc, field", [
    ("424242424242424²", "12/40", "123", "number"),   # passes str.isdigit(), not int()
    ("4242424242424242", "١٢/٤٠", "123", "exp"),      # Arabic-Indic digits
    ("4242424242424242", "12/40", "١٢٣", "cvc"),
])
def test_a_card_with_non_ascii_digits_is_a_message_not_a_crash(number, exp, cvc, field):
    with pytest.raises(card.CardError) as refused:
        card.tokenize(number, exp, cvc)
    assert refused.value.field == field
