"""Small builders for test data: users, shops and orders with lines and a timeline."""

from datetime import datetime, timedelta

from argon2 import PasswordHasher

from portal.models import Order, Product, Shipment, Shop, TrackingEvent, User, Variant, utcnow
from portal.orders.bulk import PastOrder, place_past
from portal.orders.lifecycle import Status
from portal.orders.placing import Line, line


PASSWORD = "password-123"


# A real argon2id hash of PASSWORD with the test suite's cheap parameters.
PASSWORD_HASH = PasswordHasher(time_cost=1, memory_cost=1024).hash(PASSWORD)


def make_user(email: str, *, name: str | None = None, role: str = "buyer",
              password_hash: str | None = None) -> User:
    return User.create(email=email, name=name or email.split("@")[0].title(), role=role,
                       password_hash=password_hash or PASSWORD_HASH)


def make_shop(owner: User, name: str = "Test Shop", *, handling_days: int = 2) -> Shop:
    return Shop.create(owner=owner, name=name, slug=name.lower().replace(" ", "-"),
                       handling_days=handling_days, ship_from_name=name, ship_from_line1="1 Dock Road",
                       ship_from_city="Portland", ship_from_region="OR",
                       ship_from_postal_code="97201", ship_from_country="US")


def make_variant(shop: Shop, product: str | Product = "Linen shirt", *, size: str = "M",
                 colour: str = "White", price: int = 3900, stock: int = 10) -> Variant:
    p = product if isinstance(product, Product) else Product.create(shop=shop, name=product)
    return Variant.create(product=p, sku=f"{p.name[:3].upper()}-{size}-{colour[:2].upper()}",
                          size=size, colour=colour, price=price, stock=stock)


def make_order(buyer: User, shop: Shop, *, status: str = "pending",
               placed_at: datetime | None = None, products=(("Linen shirt", 3900, 1),),
               currency: str = "USD", shipping: int = 0, number: str | None = None,
               ship_country: str = "US", variants=None) -> Order:
    """An order as checkout would leave it, already moved to ``status``, written by the
    bulk order path (its lines, "placed" event and payment on the ledger: authorised,
    captured once shipped, voided if cancelled, refunded if returned). Only the "placed"
    event is on its timeline, and nothing was shipped in a package.

    ``products`` are (name, unit price, quantity); ``variants`` (one per product) links
    the lines to catalogue variants, which line edits and stock need (their stock is not
    taken); without them the lines are snapshots only.
    """
    placed_at = placed_at or utcnow()
    lines = [line(variants[k], name, qty, unit_price=price) if variants
             else Line(None, name, "", "M", "White", price, qty, price * qty)
             for k, (name, price, qty) in enumerate(products)]
    address = dict(name=buyer.name, line1="1 Main Street", city="Portland", region="OR",
                   postal_code="97205", country=ship_country)
    return place_past([PastOrder(buyer, shop, lines, address, placed_at, Status(status),
                                 shipping_total=shipping, currency=currency, number=number,
                                 estimated_delivery=(placed_at + timedelta(days=5)).date())])[0]


def make_shipment(order: Order, *, tracking_number: str = "DP0000000001",
                  events=(("in_transit", "Picked up by carrier", "Portland, OR"),)) -> Shipment:
    shipment = Shipment.create(order=order, carrier_code="demo", carrier_name="Demo Parcel",
                               tracking_number=tracking_number)
    for k, (status, text, place) in enumerate(events):
        TrackingEvent.create(shipment=shipment, occurred_at=utcnow() + timedelta(minutes=k),
                             status=status, description=text, location=place,
                             external_id=f"{tracking_number}-{k}")
    return shipment
