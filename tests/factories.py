"""Small builders for test data: users, shops and orders with lines and a timeline."""

from datetime import datetime, timedelta

from argon2 import PasswordHasher

from portal.models import (Order, OrderEvent, OrderLine, PaymentTransaction, Product, Shipment,
                           Shop, TrackingEvent, User, Variant, utcnow)
from portal.orders import ledger
from portal.orders.numbers import new_order_number


PASSWORD = "password-123"


# A real argon2id hash of PASSWORD with the test suite's cheap parameters.
PASSWORD_HASH = PasswordHasher(time_cost=1, memory_cost=1024).hash(PASSWORD)


def make_user(email: str, *, name: str | None = None, role: str = "buyer",
              password_hash: str | None = None) -> User:
    return User.create(email=email, name=name or email.split("@")[0].title(), role=role,
                       password_hash=password_hash or PASSWORD_HASH)


def make_shop(owner: User, name: str = "Test Shop", *, handling_days: int = 2) -> Shop:
    return Shop.create(owner=owner, name=name, slug=name.lower().replace(" ", "-"),
                       handling_days=handling_days)


def make_variant(shop: Shop, product: str | Product = "Linen shirt", *, size: str = "M",
                 colour: str = "White", price: int = 3900, stock: int = 10) -> Variant:
    p = product if isinstance(product, Product) else Product.create(shop=shop, name=product)
    return Variant.create(product=p, sku=f"{p.name[:3].upper()}-{size}-{colour[:2].upper()}",
                          size=size, colour=colour, price=price, stock=stock)


def make_order(buyer: User, shop: Shop, *, status: str = "pending",
               placed_at: datetime | None = None, products=(("Linen shirt", 3900, 1),),
               currency: str = "USD", shipping: int = 0, number: str | None = None,
               ship_country: str = "US", variants=None) -> Order:
    """An order as checkout would leave it, already moved to ``status``.

    ``variants`` (one per product) links the lines to catalogue variants, which
    line edits and stock need; without them the lines are snapshots only.
    """
    placed_at = placed_at or utcnow()
    subtotal = sum(price * qty for _, price, qty in products)
    first = products[0][0]
    order = Order.create(
        number=number or new_order_number(), shop=shop, buyer=buyer, status=status,
        payment_method="Visa •••• 4242", currency=currency, subtotal=subtotal,
        shipping_total=shipping, total=subtotal + shipping,
        item_summary=first + (f" + {len(products) - 1} more" if len(products) > 1 else ""),
        item_count=sum(q for *_, q in products), ship_name=buyer.name,
        ship_line1="1 Main Street", ship_city="Portland", ship_region="OR",
        ship_postal_code="97205", ship_country=ship_country, placed_at=placed_at,
        estimated_delivery=(placed_at + timedelta(days=5)).date(), updated_at=placed_at)
    for k, (name, price, qty) in enumerate(products):
        variant = variants[k] if variants else None
        OrderLine.create(order=order, product_name=name, variant=variant,
                         size=variant.size if variant else "M",
                         colour=variant.colour if variant else "White",
                         sku=variant.sku if variant else "",
                         unit_price=price, quantity=qty, line_total=price * qty)
    OrderEvent.create(order=order, created_at=placed_at, actor=buyer, actor_role="buyer",
                      kind="placed", message="Order placed")
    record_payment(order)
    return order


def record_payment(order: Order) -> None:
    """The order's money on the record, as its status implies: authorised through the
    card test gateway ("Visa •••• 4242"), captured once shipped, voided if cancelled."""
    shipped = order.status in ("shipped", "delivered", "returned")
    rows = ledger.recorded_rows(order.id, order.number, order.total, order.currency,
                                order.placed_at, captured=order.total if shipped else 0,
                                voided=order.status == "cancelled")
    PaymentTransaction.insert_many(rows).execute()
    status = ledger.totals(PaymentTransaction(**r) for r in rows).status
    Order.update(payment_status=status.value).where(Order.id == order.id).execute()
    order.payment_status = status.value


def make_shipment(order: Order, *, tracking_number: str = "DP0000000001",
                  events=(("in_transit", "Picked up by carrier", "Portland, OR"),)) -> Shipment:
    shipment = Shipment.create(order=order, carrier_code="demo", carrier_name="Demo Parcel",
                               tracking_number=tracking_number)
    for k, (status, text, place) in enumerate(events):
        TrackingEvent.create(shipment=shipment, occurred_at=utcnow() + timedelta(minutes=k),
                             status=status, description=text, location=place,
                             external_id=f"{tracking_number}-{k}")
    return shipment
