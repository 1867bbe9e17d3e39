"""Demo data: shops, products, buyers and orders in every status, with timelines.

``flask --app portal seed-demo [--orders N]`` fills an empty database. The three
demo logins are fixed (README.md lists them); larger ``--orders`` values add
more shops (up to 100) and buyers (up to 100,000) so benchmarks see realistic
spreads. Rows go in with bulk inserts and explicit ids, a chunk of orders at a time.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import click

from portal.bulk import insert_rows, next_id, reset_sequences
from portal.db import create_schema, database
from portal.models import (ALL_MODELS, Address, Order, OrderEvent, OrderLine,
                           Product, Shipment, Shop, TrackingEvent, User, Variant,
                           utcnow)
from portal.orders.lifecycle import PaymentStatus, Status
from portal.orders.numbers import new_order_number
from portal.security import hash_password

DEMO_LOGINS = [
    ("buyer@example.com", "buyer-demo", "Bea Buyer", "buyer"),
    ("buyer2@example.com", "buyer-demo", "Ben Buyer", "buyer"),
    ("seller@example.com", "seller-demo", "Sam Seller", "seller"),
    ("seller2@example.com", "seller-demo", "Sofia Seller", "seller"),
]
SHOP_NAMES = ["Northwind Threads", "Harbour & Pine", "Lumen Home", "Kettle Kitchenware",
              "Fjord Outdoor", "Pebble Kids", "Juniper Beauty", "Atlas Sneakers"]
PRODUCTS = [("Linen shirt", 3900), ("Everyday tee", 1800), ("Wool beanie", 2400),
            ("Canvas tote", 2200), ("Denim jacket", 8900), ("Running socks", 1200),
            ("Rain shell", 11900), ("Cotton hoodie", 5400), ("Ceramic mug", 1600),
            ("Desk lamp", 4900), ("Yoga mat", 3500), ("Travel bottle", 2700)]
SIZES = ["S", "M", "L", "XL"]
COLOURS = ["Black", "White", "Sage", "Navy", "Sand"]
CITIES = [("Portland", "OR", "97205"), ("Austin", "TX", "78701"), ("Denver", "CO", "80202"),
          ("Boston", "MA", "02108"), ("Chicago", "IL", "60601"), ("Seattle", "WA", "98101")]
PAYMENTS = [("Visa •••• 4242", 0), ("Mastercard •••• 4444", 0), ("Digital wallet", 0),
            ("Cash on delivery", 150)]
CANCEL_REASONS = ["Ordered by mistake", "Found a better price", "Out of stock", "Delivery too slow"]
TRACKING_STEPS = [("pre_transit", "Label created", "Portland, OR"),
                  ("in_transit", "Picked up by carrier", "Portland, OR"),
                  ("in_transit", "Arrived at sorting centre", "Sacramento, CA"),
                  ("out_for_delivery", "Out for delivery", ""),
                  ("delivered", "Delivered, left at front door", "")]
CHUNK = 5000


@dataclass
class Catalogue:
    shop_id: int
    owner_id: int
    handling_days: int
    variants: list  # (variant id, product name, sku, size, colour, price)


def _status_for(age_days: float, rng: random.Random) -> Status:
    """Older orders have moved further along, as in a real shop."""
    roll = rng.random()
    if age_days < 2:
        return Status.PENDING if roll < .7 else Status.PROCESSED if roll < .9 else Status.CANCELLED
    if age_days < 5:
        return Status.PROCESSED if roll < .3 else Status.SHIPPED if roll < .9 else Status.CANCELLED
    if age_days < 10:
        return Status.SHIPPED if roll < .4 else Status.DELIVERED if roll < .95 else Status.CANCELLED
    return Status.DELIVERED if roll < .85 else Status.RETURNED if roll < .93 else Status.CANCELLED


class Seeder:
    def __init__(self, n_orders: int, rng: random.Random, now: datetime):
        self.n, self.rng, self.now = n_orders, rng, now
        self.numbers: set[str] = set()
        self.ids = {m: next_id(m) for m in (Order, OrderLine, Shipment, TrackingEvent, OrderEvent)}

    def _take(self, model) -> int:
        value = self.ids[model]
        self.ids[model] = value + 1
        return value

    # -- people, shops and products -----------------------------------------
    def people(self) -> tuple[list[int], list[int]]:
        """Create the demo logins and extra buyers and sellers; return their ids."""
        hashes = {pw: hash_password(pw) for pw in {"buyer-demo", "seller-demo"}}
        created = {}
        for email, password, name, role in DEMO_LOGINS:
            created[email] = User.create(email=email, name=name, role=role,
                                         password_hash=hashes[password]).id
        demo_sellers = [created[email] for email, *_, role in DEMO_LOGINS if role == "seller"]
        n_extra_shops = max(3, min(100, self.n // 10_000)) - len(demo_sellers)
        n_buyers = max(0, min(100_000, self.n // 10) - 2)
        first = next_id(User)
        rows = [(first + i, f"seller{i + 3}@example.test", f"Seller {i + 3}", "seller",
                 hashes["seller-demo"], self.now) for i in range(n_extra_shops)]
        rows += [(first + n_extra_shops + i, f"buyer{i + 3}@example.test", f"Buyer {i + 3}",
                  "buyer", hashes["buyer-demo"], self.now) for i in range(n_buyers)]
        insert_rows(User, ["id", "email", "name", "role", "password_hash", "created_at"], rows)
        seller_ids = demo_sellers + [r[0] for r in rows[:n_extra_shops]]
        buyer_ids = [created["buyer@example.com"], created["buyer2@example.com"]] + \
                    [r[0] for r in rows[n_extra_shops:]]
        self._addresses(buyer_ids)
        reset_sequences(User)
        return seller_ids, buyer_ids

    def _addresses(self, buyer_ids: list[int]) -> None:
        rows = []
        for i, buyer_id in enumerate(buyer_ids):
            city, region, postcode = CITIES[i % len(CITIES)]
            name = ["Bea Buyer", "Ben Buyer"][i] if i < 2 else f"Buyer {i + 1}"
            rows.append((buyer_id, name, f"{100 + i % 900} Market Street", "", city, region,
                         postcode, "US", "+1 555 0100", True))
        insert_rows(Address, ["user", "full_name", "line1", "line2", "city", "region",
                              "postal_code", "country", "phone", "is_default"], rows)
        self.addresses = {row[0]: row for row in rows}

    def catalogues(self, seller_ids: list[int]) -> list[Catalogue]:
        result = []
        for i, owner in enumerate(seller_ids):
            name = SHOP_NAMES[i] if i < len(SHOP_NAMES) else f"{SHOP_NAMES[i % 8]} {i // 8 + 1}"
            shop = Shop.create(owner=owner, name=name, slug=f"shop-{i + 1}",
                               handling_days=2 + i % 3)
            variants = []
            for j in range(6):
                pname, price = PRODUCTS[(i + j) % len(PRODUCTS)]
                product = Product.create(shop=shop, name=pname)
                for size in SIZES[:2 + j % 3]:
                    colour = COLOURS[(i + j) % len(COLOURS)]
                    sku = f"S{shop.id}-P{product.id}-{size}"
                    v = Variant.create(product=product, sku=sku, size=size, colour=colour,
                                       price=price, stock=50 + (i * j) % 40)
                    variants.append((v.id, pname, sku, size, colour, price))
            result.append(Catalogue(shop.id, owner, shop.handling_days, variants))
        return result

    # -- orders ---------------------------------------------------------------
    def buyer_for(self, i: int, buyer_ids: list[int]) -> int:
        """The demo buyers get a good share (enough to page through); others the rest."""
        if i < 2 * len(Status):  # six each, one in every status (see order())
            return buyer_ids[0] if i < len(Status) else buyer_ids[1]
        if len(buyer_ids) == 2 or i < 100:
            return buyer_ids[0] if i % 5 < 3 else buyer_ids[1]
        return buyer_ids[2 + (i * 7919) % (len(buyer_ids) - 2)]

    def order(self, i: int, buyer_id: int, shop: Catalogue, out: dict) -> None:
        rng = self.rng
        if i < 2 * len(Status):  # the demo buyers' first orders: one in every status
            status = list(Status)[i % len(Status)]
            age = {Status.PENDING: .3, Status.PROCESSED: 1.5, Status.SHIPPED: 4}.get(status, 30)
            age += rng.random()
        else:
            age = rng.random() ** 2 * 365
            status = _status_for(age, rng)
        placed = self.now - timedelta(days=age)
        order_id = self._take(Order)
        number = new_order_number(rng.getrandbits)
        while number in self.numbers:
            number = new_order_number(rng.getrandbits)
        self.numbers.add(number)

        lines, names = [], []
        for v_id, pname, sku, size, colour, price in rng.sample(shop.variants, rng.randint(1, 3)):
            qty = 1 if rng.random() < .7 else rng.randint(2, 3)
            lines.append((self._take(OrderLine), order_id, v_id, pname, sku, size, colour,
                          price, qty, price * qty))
            names.append(f"{pname} ({size}, {colour})" + (f" × {qty}" if qty > 1 else ""))
        out["lines"].extend(lines)
        subtotal = sum(line[-1] for line in lines)
        shipping = 0 if subtotal >= 5000 else 499
        method, fee = PAYMENTS[order_id % len(PAYMENTS)]
        payment = self._payment_status(status, method)
        eta = (placed + timedelta(days=shop.handling_days + 4)).date()
        summary = names[0] + (f" + {len(names) - 1} more" if len(names) > 1 else "")
        a = self.addresses[buyer_id]
        out["orders"].append((
            order_id, number, shop.shop_id, buyer_id, status.value, payment.value, method, "USD",
            subtotal, 0, shipping, fee, subtotal + shipping + fee, summary[:200],
            sum(line[8] for line in lines), a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8],
            placed, eta, placed, 1))
        self._history(order_id, status, placed, buyer_id, shop, eta, out)

    @staticmethod
    def _payment_status(status: Status, method: str) -> PaymentStatus:
        if status is Status.CANCELLED:
            return PaymentStatus.VOIDED if method == "Cash on delivery" else PaymentStatus.REFUNDED
        if status is Status.RETURNED:
            return PaymentStatus.REFUNDED
        if method == "Cash on delivery" and status is not Status.DELIVERED:
            return PaymentStatus.AUTHORISED
        return PaymentStatus.PAID

    def _history(self, order_id, status, placed, buyer_id, shop, eta, out) -> None:
        """The timeline (and, once shipped, the parcel's tracking) that led to ``status``."""
        rng, events = self.rng, out["events"]

        def event(at, actor, role, kind, message, before=None, after=None):
            events.append((self._take(OrderEvent), order_id, min(at, self.now), actor, role,
                           kind, message, before, after))

        event(placed, buyer_id, "buyer", "placed", "Order placed")
        if status is Status.CANCELLED:
            reason = rng.choice(CANCEL_REASONS)
            event(placed + timedelta(hours=3), buyer_id, "buyer", "status_changed",
                  f"Pending → Cancelled: {reason}", "pending", "cancelled")
            return
        if status is Status.PENDING:
            return
        step = placed + timedelta(hours=rng.randint(4, 30))
        event(step, shop.owner_id, "seller", "status_changed", "Pending → Processed",
              "pending", "processed")
        if status is Status.PROCESSED:
            return
        shipped = step + timedelta(hours=rng.randint(2, 24))
        event(shipped, shop.owner_id, "seller", "status_changed", "Processed → Shipped",
              "processed", "shipped")
        delivered = status in (Status.DELIVERED, Status.RETURNED)
        shipment_id = self._take(Shipment)
        tracking = f"DP{rng.randrange(10**10):010d}"
        out["shipments"].append((shipment_id, order_id, "demo", "Demo Parcel", tracking, "",
                                 "delivered" if delivered else "in_transit",
                                 shipped, eta, shipped + timedelta(days=3) if delivered else None))
        steps = TRACKING_STEPS if delivered else TRACKING_STEPS[:2 + rng.randint(0, 2)]
        for k, (t_status, text, place) in enumerate(steps):
            at = shipped + timedelta(hours=k * 15 + 1)
            if at <= self.now:
                out["tracking"].append((self._take(TrackingEvent), shipment_id, at, t_status,
                                        text, place, f"demo-{shipment_id}-{k}"))
        if not delivered:
            return
        event(shipped + timedelta(days=3), None, "system", "status_changed",
              "Shipped → Delivered", "shipped", "delivered")
        if status is Status.RETURNED:
            event(shipped + timedelta(days=9), shop.owner_id, "seller", "status_changed",
                  "Delivered → Returned: return received, refund issued", "delivered", "returned")

    def flush(self, out: dict) -> None:
        insert_rows(Order, ORDER_FIELDS, out["orders"])
        insert_rows(OrderLine, ["id", "order", "variant", "product_name", "sku", "size", "colour",
                                "unit_price", "quantity", "line_total"], out["lines"])
        insert_rows(Shipment, ["id", "order", "carrier_code", "carrier_name", "tracking_number",
                               "tracking_url", "status", "shipped_at", "estimated_delivery",
                               "delivered_at"], out["shipments"])
        insert_rows(TrackingEvent, ["id", "shipment", "occurred_at", "status", "description",
                                    "location", "external_id"], out["tracking"])
        insert_rows(OrderEvent, ["id", "order", "created_at", "actor", "actor_role", "kind",
                                 "message", "before", "after"], out["events"])
        for rows in out.values():
            rows.clear()


ORDER_FIELDS = ["id", "number", "shop", "buyer", "status", "payment_status", "payment_method",
                "currency", "subtotal", "discount_total", "shipping_total", "fee_total", "total",
                "item_summary", "item_count", "ship_name", "ship_line1", "ship_line2",
                "ship_city", "ship_region", "ship_postal_code", "ship_country", "ship_phone",
                "placed_at", "estimated_delivery", "updated_at", "version"]


def seed(n_orders: int, *, seed_value: int = 2026, now: datetime | None = None,
         progress=None) -> None:
    """Fill an empty database with demo data; ``progress(k)`` is told of each chunk."""
    rng = random.Random(seed_value)
    seeder = Seeder(n_orders, rng, now or utcnow())
    with database.atomic():
        seller_ids, buyer_ids = seeder.people()
        shops = seeder.catalogues(seller_ids)
    out = {"orders": [], "lines": [], "shipments": [], "tracking": [], "events": []}
    for start in range(0, n_orders, CHUNK):
        with database.atomic():
            for i in range(start, min(n_orders, start + CHUNK)):
                buyer_id = seeder.buyer_for(i, buyer_ids)
                # The demo seller's shop gets the demo buyers' first orders.
                shop = shops[0] if i < 2 * len(Status) else shops[rng.randrange(len(shops))]
                seeder.order(i, buyer_id, shop, out)
            seeder.flush(out)
        if progress:
            progress(min(CHUNK, n_orders - start))
    reset_sequences(Order, OrderLine, Shipment, TrackingEvent, OrderEvent)


def print_logins() -> None:
    click.echo("Demo logins:")
    for email, password, _, role in DEMO_LOGINS:
        click.echo(f"  {role:<7} {email:<22} password: {password}")


@click.command("seed-demo")
@click.option("--orders", "n_orders", default=300, show_default=True, type=click.IntRange(1),
              help="How many orders to create.")
@click.option("--reset", is_flag=True, help="Drop every table first.")
def seed_demo_command(n_orders: int, reset: bool):
    """Fill the database with demo shops, buyers and orders in every status."""
    with database.connection_context():
        if reset:
            database.drop_tables(ALL_MODELS, safe=True)
        create_schema()
        if User.select().where(User.email == DEMO_LOGINS[0][0]).exists():
            raise click.ClickException(
                "Demo data is already there. Run again with --reset to start over.")
        started = datetime.now()
        with click.progressbar(length=n_orders, label="Creating orders") as bar:
            seed(n_orders, progress=bar.update)
        seconds = (datetime.now() - started).total_seconds()
        click.echo(f"Created {n_orders:,} orders in {seconds:.1f} s "
                   f"({n_orders / max(seconds, 1e-6):,.0f} orders/s) in {database.obj.database}.")


@click.command("demo-logins")
def demo_logins_command():
    """Print the demo logins."""
    print_logins()
