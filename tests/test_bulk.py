"""The bulk order path (portal.orders.bulk): orders that arrive already placed are written
by place_order's rules: the same rows for the same cart, the same refusals, all or none."""

import uuid
from datetime import datetime, timedelta

import pytest

from portal import cart
from portal.models import CartLine, Order, OrderEvent, OrderLine, OutboxEvent, \
    PaymentTransaction, Shipment, ShipmentLine, TrackingEvent, Variant
from portal.orders import ledger
from portal.orders.bulk import Parcel, PastOrder, Times, place_past
from portal.orders.lifecycle import Status
from portal.orders.placing import CheckoutRefused, Line, PaymentChoice, line, place_order
from tests.factories import make_variant

ADDRESS = dict(name="Ada Buyer", line1="1 Main St", line2="Apt 4", city="Springfield",
               region="IL", postal_code="62701", country="US", phone="+12175550100")
COD = PaymentChoice("cod", "cod", 250, "Cash on delivery", capture="on_delivery")
PLACED = datetime(2026, 3, 1, 12, 0)


def past(buyer, shop, lines, **kw) -> PastOrder:
    return PastOrder(buyer, shop, lines, ADDRESS, kw.pop("placed_at", PLACED), **kw)


def written() -> list:
    return [list(m.select().tuples()) for m in (Order, OrderLine, OrderEvent,
                                                PaymentTransaction, Shipment)]


def test_the_same_cart_makes_the_same_rows_as_place_order(buyer, shop):
    shirt = make_variant(shop, "Linen shirt", price=3900, stock=9)
    mug = make_variant(shop, "Ceramic mug", size="", colour="Sand", price=1600, stock=9)
    cart.add(buyer, mug.id, 1)
    cart.add(buyer, shirt.id, 2)
    placed = place_order(buyer, shop.id, checkout_token=uuid.uuid4().hex, address=ADDRESS,
                         shipping_total=500, payment=COD, discount_total=300).order
    lines = [line(v, v.product.name, q) for v, q in ((shirt, 2), (mug, 1))]
    bulk, = place_past([past(buyer, shop, lines, payment=COD, shipping_total=500,
                             discount_total=300, total=7800 + 1600 - 300 + 500 + 250)],
                       take_stock=True)
    a, b = Order.get_by_id(placed.id), Order.get_by_id(bulk.id)
    same = ["shop", "buyer", "status", "payment_method", "currency", "subtotal",
            "discount_total", "shipping_total", "fee_total", "total", "item_summary",
            "item_count", "ship_name", "ship_line1", "ship_line2", "ship_city", "ship_region",
            "ship_postal_code", "ship_country", "ship_phone", "shipped_count", "version"]
    assert [getattr(a, f) for f in same] == [getattr(b, f) for f in same]
    assert (a.total, a.item_summary) == (9850, "Linen shirt (M, White) × 2 + 1 more")
    assert a.number != b.number and len(b.number) == 11

    def lines_of(order):
        return list(OrderLine.select(OrderLine.variant, OrderLine.product_name, OrderLine.sku,
                                     OrderLine.size, OrderLine.colour, OrderLine.unit_price,
                                     OrderLine.quantity, OrderLine.line_total)
                    .where(OrderLine.order == order.id).order_by(OrderLine.id).tuples())
    assert lines_of(a) == lines_of(b)

    def placed_event(order):
        return OrderEvent.select(OrderEvent.kind, OrderEvent.actor, OrderEvent.actor_role,
                                 OrderEvent.message).where(OrderEvent.order == order.id).tuples()
    assert list(placed_event(a)) == list(placed_event(b)) == \
        [("placed", buyer.id, "buyer", "Order placed: $98.50")]

    def authorisation(order):
        return PaymentTransaction.select(
            PaymentTransaction.kind, PaymentTransaction.amount, PaymentTransaction.currency,
            PaymentTransaction.method_code, PaymentTransaction.plugin,
            PaymentTransaction.display, PaymentTransaction.capture,
            PaymentTransaction.authorisation).where(PaymentTransaction.order == order.id).tuples()
    assert list(authorisation(a)) == list(authorisation(b))
    assert list(authorisation(b))[0][-2:] == ("on_delivery", None)  # the plugin's word
    # What differs is what "already placed" means: its authorisation was answered.
    assert (a.payment_status, b.payment_status) == ("awaiting", "authorised")
    assert PaymentTransaction.get(PaymentTransaction.order == b.id).state == "succeeded"
    # Stock: taken twice by the same rule; the seller was told of the new one only.
    assert (Variant.get_by_id(shirt.id).stock, Variant.get_by_id(mug.id).stock) == (5, 7)
    assert OutboxEvent.select().where(OutboxEvent.order == b.id).count() == 0


def test_it_refuses_what_place_order_refuses_and_writes_nothing(buyer, shop, shop2):
    shirt = make_variant(shop, "Linen shirt", price=3900, stock=1)
    theirs = make_variant(shop2, "Wool beanie", price=2400, stock=5)
    good = past(buyer, shop, [line(shirt, "Linen shirt", 1)])
    refusals = {
        "checkout.price_changed": past(buyer, shop, [line(shirt, "Linen shirt", 1)],
                                       total=3899),
        "checkout.unknown_variant": past(buyer, shop, [line(theirs, "Wool beanie", 1)]),
        "checkout.empty": past(buyer, shop, []),
        "checkout.bad_line": past(buyer, shop, [Line(shirt.id, "Linen shirt", "", "M", "",
                                                     3900, 2, 3900)]),
        "checkout.out_of_stock": past(buyer, shop, [line(shirt, "Linen shirt", 2)]),
    }
    before = written()
    for code, order in refusals.items():
        with pytest.raises(CheckoutRefused) as refused:
            place_past([good, order], take_stock=True)  # all or none
        assert refused.value.code == code
        assert written() == before and Variant.get_by_id(shirt.id).stock == 1, code
    with pytest.raises(CheckoutRefused) as refused:
        place_past([past(buyer, shop, [line(shirt, "Linen shirt", 2)])], take_stock=True)
    assert "only 1 left" in refused.value.message  # place_order's words
    with pytest.raises(ValueError):
        place_past([past(buyer, shop, [line(shirt, "Linen shirt", 1)], status="lost")])


def test_history_does_not_take_stock_unless_asked(buyer, shop):
    shirt = make_variant(shop, stock=0)
    order, = place_past([past(buyer, shop, [line(shirt, "Linen shirt", 3)])])
    assert order.item_count == 3 and Variant.get_by_id(shirt.id).stock == 0


@pytest.mark.parametrize("status,payment,kinds,payment_status", [
    (Status.PENDING, None, ["authorise"], "authorised"),
    (Status.PROCESSED, None, ["authorise"], "authorised"),
    (Status.SHIPPED, None, ["authorise", "capture"], "paid"),
    (Status.SHIPPED, COD, ["authorise"], "authorised"),  # cash is taken on delivery
    (Status.DELIVERED, COD, ["authorise", "capture"], "paid"),
    (Status.CANCELLED, None, ["authorise", "void"], "voided"),
    (Status.RETURNED, None, ["authorise", "capture", "refund"], "refunded"),
])
def test_the_payment_on_the_ledger_is_what_the_status_implies(buyer, shop, status, payment,
                                                              kinds, payment_status):
    kw = {"payment": payment} if payment else {}
    order, = place_past([past(buyer, shop, [Line(None, "Tote", "", "", "", 2200, 1, 2200)],
                              status=status, **kw)])
    rows = ledger.rows_of(order.id)
    assert [r.kind for r in rows] == kinds and {r.amount for r in rows} == {order.total}
    start = "cod_" if payment is COD else "tg_"  # each plugin's own references
    assert all(r.state == "succeeded" and r.reference.startswith(f"{start}{r.kind[:4]}")
               for r in rows)
    assert rows[0].capture == ("on_delivery" if payment is COD else "on_shipping")
    assert order.payment_status == payment_status == ledger.totals(rows).status
    assert order.item_summary == "Tote" and order.address_verified is (
        status in (Status.PROCESSED, Status.SHIPPED, Status.DELIVERED, Status.RETURNED))


def test_a_returned_order_s_history_is_on_its_timeline_and_in_its_parcel(buyer, shop, seller):
    tee = make_variant(shop, "Everyday tee", price=1800, stock=4)
    hours = [PLACED + timedelta(hours=h) for h in (0, 5, 20, 92, 236)]
    scans = ((hours[2] + timedelta(hours=1), "DP0000000042-0", "in_transit", "Picked up",
              "Portland, OR"), (hours[3], "DP0000000042-1", "delivered", "Delivered", ""))
    order, = place_past([past(
        buyer, shop, [line(tee, "Everyday tee", 2)], status=Status.RETURNED,
        times=Times(hours[0], hours[1], hours[2], hours[3], returned=hours[4]),
        parcel=Parcel("demo", "Demo Parcel", "DP0000000042", "delivered", None, scans))])
    events = list(OrderEvent.select().where(OrderEvent.order == order.id)
                  .order_by(OrderEvent.created_at))
    assert [(e.created_at, e.actor_id, e.message) for e in events] == [
        (hours[0], buyer.id, "Order placed: $36.00"),
        (hours[1], seller.id, "Pending → Processed"),
        (hours[2], seller.id, "Processed → Shipped"),
        (hours[3], None, "Shipped → Delivered"),
        (hours[4], seller.id, "Delivered → Returned: return received, refund issued")]
    shipment = Shipment.get(Shipment.order == order.id)
    assert (shipment.shipped_at, shipment.delivered_at) == (hours[2], hours[3])
    assert [s.external_id for s in TrackingEvent.select().order_by(TrackingEvent.id)] == \
        ["DP0000000042-0", "DP0000000042-1"]
    assert [(c.order_line_id, c.quantity) for c in ShipmentLine.select()] == \
        [(OrderLine.get(OrderLine.order == order.id).id, 2)]
    assert order.shipped_count == 2
    assert [(r.kind, r.created_at) for r in ledger.rows_of(order.id)] == [
        ("authorise", hours[0]), ("capture", hours[2]), ("refund", hours[4])]


def test_ids_follow_on_from_orders_placed_before_and_after(buyer, shop):
    shirt = make_variant(shop, stock=5)
    first, = place_past([past(buyer, shop, [line(shirt, "Linen shirt", 1)])])
    cart.add(buyer, shirt.id, 1)
    now = place_order(buyer, shop.id, checkout_token=uuid.uuid4().hex, address=ADDRESS,
                      shipping_total=0, payment=COD).order  # the sequence moved past them
    later, = place_past([past(buyer, shop, [line(shirt, "Linen shirt", 1)])])
    assert first.id < now.id < later.id


def test_place_items_places_chosen_items_by_the_same_rules_and_leaves_the_cart(buyer, shop,
                                                                                shop2):
    from portal.orders.placing import place_items
    shirt = make_variant(shop, "Linen shirt", price=3900, stock=2)
    theirs = make_variant(shop2, "Wool beanie", price=2400, stock=5)
    cart.add(buyer, shirt.id, 1)

    def place(*items, **kw):
        return place_items(buyer, shop.id, list(items), checkout_token=uuid.uuid4().hex,
                           address=ADDRESS, shipping_total=0, payment=COD, **kw)
    for items, code in [((), "checkout.empty"), (((theirs, 1),), "checkout.unknown_variant"),
                        (((shirt, 3),), "checkout.out_of_stock")]:
        with pytest.raises(CheckoutRefused) as refused:
            place(*items)
        assert refused.value.code == code
    assert Order.select().count() == 0 and Variant.get_by_id(shirt.id).stock == 2
    placed = place((shirt, 2), at=PLACED)
    assert (placed.order.placed_at, placed.order.total, placed.authorisation.state) == \
        (PLACED, 7800 + 250, "pending")
    assert Variant.get_by_id(shirt.id).stock == 0
    assert OutboxEvent.select().where(OutboxEvent.kind == "placed").count() == 1
    assert [c.quantity for c in CartLine.select()] == [1]  # the buyer's own cart, untouched
