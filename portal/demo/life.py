"""The demo shop keeps living while ``make run`` runs.

Seeded parcels arrive within days, and nothing else would ever happen: after
about three days the demo buyer would have nothing Pending, Processed or
Shipped left. :func:`keep_going` (a background task every 10 minutes) does
what a small shop and its regular buyers do, through the same domain functions
as the seller's pages: the demo seller processes the oldest Pending order and
ships the oldest Processed one with the demo carrier (whose "mixed" journeys
take days for most parcels and minutes for a few), and the demo buyers place
new orders when they have few waiting. It keeps about :data:`KEEP` orders in
each open status per demo buyer at the demo seller's shop, and takes at most
one step of each kind per buyer and run.

Only on a demo database: the demo seller and buyers exist and the demo
seller's shop has the demo carrier on; anywhere else it does nothing.
"""

import logging
import random
import secrets
from datetime import datetime, timedelta

from peewee import SQL, Case, fn

from portal import shipping
from portal.db import database
from portal.demo.orders import CAPTURES, PAYMENT_PLUGINS, PAYMENTS, _payment_status, \
    reference_of
from portal.models import (Address, Order, OrderLine, OrderRequest, PaymentTransaction,
                           PluginConfig, Product, Shop, User, Variant, utcnow)
from portal.orders import fulfilment, holds, ledger
from portal.orders.lifecycle import StaleOrder, Status, TransitionRefused, record
from portal.orders.numbers import new_order_number

log = logging.getLogger("portal.demo.life")

SELLER = "seller@example.com"
# Per demo buyer: how many orders to keep in each of Pending, Processed and Shipped.
KEEP = {"buyer@example.com": 2, "buyer2@example.com": 1}
OPEN = (Status.PENDING, Status.PROCESSED, Status.SHIPPED)
# The shop's pace when nothing runs low: an order is processed about a day after it
# was placed and ships half a day later (its parcel then takes days, or minutes).
PROCESS_AFTER = timedelta(hours=24)
SHIP_AFTER = timedelta(hours=36)
RESTOCK_BELOW, RESTOCK_TO = 5, 50  # the demo seller reorders what runs low

_system_random = secrets.SystemRandom()


def keep_going(now: datetime | None = None, rng: random.Random | None = None) -> list[tuple]:
    """One run of the demo shop's life; returns what it did: (step, order number, buyer e-mail).

    A run with nothing to do costs three small queries; each step a bounded few more
    (the oldest order of one buyer and status, never a query per order).
    """
    now, rng = now or utcnow(), rng or _system_random
    found = _demo()
    if found is None:
        return []
    seller, shop, buyers = found
    # Per buyer and open status: how many, and since when the oldest that a buyer's
    # request does not hold has waited (held ones wait for the seller's answer).
    held = _held(shop)
    state: dict[tuple[int, str], tuple[int, datetime | None]] = {}
    for buyer_id, status, n, oldest in (
            Order.select(Order.buyer, Order.status, fn.COUNT(Order.id),
                         fn.MIN(Case(None, ((Order.id.in_(held), SQL("NULL")),), Order.placed_at)))
            .where(Order.buyer.in_([b.id for b in buyers])
                   & Order.status.in_([s.value for s in OPEN]) & (Order.shop == shop.id))
            .group_by(Order.buyer, Order.status).tuples()):
        if isinstance(oldest, str):  # SQLite hands aggregates back as text
            oldest = datetime.fromisoformat(oldest)
        state[buyer_id, status] = (n, oldest)
    done = []
    for buyer in buyers:
        keep = KEEP[buyer.email]
        have = {s: state.get((buyer.id, s.value), (0, None))[0] for s in OPEN}
        since = {s: state.get((buyer.id, s.value), (0, None))[1] for s in OPEN}
        # Downstream first, so that one run refills what the step before it emptied.
        ready = since[Status.PROCESSED]
        if ready and (have[Status.SHIPPED] < keep or ready <= now - SHIP_AFTER):
            shipped = _ship_oldest(seller, shop, buyer, rng, held)
            if shipped:
                have[Status.PROCESSED] -= 1
                done.append(("shipped", shipped.number, buyer.email))
        waiting = since[Status.PENDING]
        if waiting and (have[Status.PROCESSED] < keep or waiting <= now - PROCESS_AFTER):
            processed = _process_oldest(seller, shop, buyer)
            if processed:
                have[Status.PENDING] -= 1
                done.append(("processed", processed.number, buyer.email))
        if have[Status.PENDING] < keep:
            _restock(shop)
            placed = place_demo_order(buyer, shop, now, rng)
            if placed:
                done.append(("placed", placed.number, buyer.email))
    for step in done:
        log.info("demo: %s order %s (%s)", *step)
    return done


def _demo() -> tuple[User, Shop, list[User]] | None:
    """The demo seller, their shop and the demo buyers; None if this is no demo database."""
    emails = [SELLER, *KEEP]
    users = {u.email: u for u in User.select().where(User.email.in_(emails))}
    if set(users) != set(emails):
        return None
    shop = (Shop.select().join(PluginConfig, on=(PluginConfig.shop == Shop.id))
            .where((Shop.owner == users[SELLER].id) & (PluginConfig.plugin == "demo")
                   & (PluginConfig.enabled == True))  # noqa: E712 (SQL, not Python)
            .order_by(Shop.id).first())
    if shop is None:
        return None
    return users[SELLER], shop, [users[email] for email in KEEP]


def _restock(shop: Shop) -> None:
    """The demo seller reorders what runs low, so the demo buyers can keep buying."""
    (Variant.update(stock=RESTOCK_TO)
     .where(Variant.product.in_(Product.select(Product.id).where(Product.shop == shop.id))
            & (Variant.stock < RESTOCK_BELOW))
     .execute())


def _process_oldest(seller: User, shop: Shop, buyer: User) -> Order | None:
    """Tick the whole checklist of the buyer's oldest Pending order and process it."""
    order = (Order.select()
             .where((Order.buyer == buyer.id) & (Order.status == Status.PENDING.value)
                    & (Order.shop == shop.id))
             .order_by(Order.placed_at, Order.id).first())
    if order is None:
        return None
    try:
        fulfilment.confirm_and_process(order, lines=fulfilment.lines_of(order), actor=seller)
    except (fulfilment.FulfilmentError, StaleOrder, TransitionRefused) as exc:
        log.info("demo: order %s not processed: %s", order.number, exc)
        return None
    return order


def _held(shop: Shop):
    """The ids of the shop's orders that a buyer's open request keeps from shipping."""
    return (OrderRequest.select(OrderRequest.order)
            .where((OrderRequest.shop == shop.id) & (OrderRequest.status == holds.OPEN)
                   & OrderRequest.kind.in_(list(holds.HOLD_SHIPPING))))


def _ship_oldest(seller: User, shop: Shop, buyer: User, rng, held) -> Order | None:
    """Ship what is left of the buyer's oldest Processed order that no request holds, in
    one package with the demo carrier."""
    order = (Order.select()
             .where((Order.buyer == buyer.id) & (Order.status == Status.PROCESSED.value)
                    & (Order.shop == shop.id) & Order.id.not_in(held))
             .order_by(Order.placed_at, Order.id).first())
    if order is None:
        return None
    check = shipping.check_tracking_number(shop, "demo", demo_tracking_number(rng))
    if not check.valid:  # the demo carrier is unavailable just now: next run
        log.info("demo: order %s not shipped: %s", order.number, check.message)
        return None
    package = fulfilment.Package(fulfilment.remaining(order), check.carrier_code,
                                 check.carrier_name, check.tracking_number, check.tracking_url)
    try:  # ship() checks the request holds again, in its transaction
        fulfilment.ship(order, package, version=order.version, actor=seller)
    except (fulfilment.FulfilmentError, StaleOrder, TransitionRefused) as exc:
        log.info("demo: order %s not shipped: %s", order.number, exc)
        return None
    return order


def demo_tracking_number(rng=_system_random) -> str:
    """A Demo Parcel number as the demo carrier makes them (DP and 10 digits)."""
    return f"DP{rng.randrange(10**10):010d}"


def place_demo_order(buyer: User, shop: Shop, now: datetime | None = None,
                     rng: random.Random | None = None) -> Order | None:
    """The buyer orders one to three in-stock items of the shop's catalogue, as the seeder's
    orders are made: to the buyer's default address, totals in minor units, stock taken,
    "Order placed" on the timeline (and so in the outbox). None if nothing is in stock or
    the buyer has no address."""
    now, rng = now or utcnow(), rng or _system_random
    address = (Address.select().where(Address.user == buyer.id)
               .order_by(Address.is_default.desc(), Address.id).first())
    variants = list(Variant.select(Variant, Product.name.alias("product_name")).join(Product)
                    .where((Product.shop == shop.id) & (Variant.stock > 0))
                    .order_by(Variant.id).limit(200).objects())
    if address is None or not variants:
        return None
    chosen = []
    for variant in rng.sample(variants, min(len(variants), rng.randint(1, 3))):
        quantity = 1 if rng.random() < .7 else rng.randint(2, 3)
        chosen.append((variant, min(quantity, variant.stock)))
    method, fee = PAYMENTS[rng.randrange(len(PAYMENTS))]
    names = [f"{v.product_name} ({v.size}, {v.colour})" + (f" × {q}" if q > 1 else "")
             for v, q in chosen]
    summary = names[0] + (f" + {len(names) - 1} more" if len(names) > 1 else "")
    try:
        with database.atomic():
            return _place(buyer, shop, now, chosen, address, method, fee, summary)
    except _SoldOut:
        return None


class _SoldOut(Exception):
    """Someone bought the last one first; nothing was written."""


def _place(buyer, shop, now, chosen, address, method, fee, summary) -> Order:
    subtotal = sum(v.price * q for v, q in chosen)
    shipping_total = 0 if subtotal >= 5000 else 499  # as the seeder's baskets
    for variant, quantity in chosen:  # taken only if still there (no oversell)
        if not (Variant.update(stock=Variant.stock - quantity)
                .where((Variant.id == variant.id) & (Variant.stock >= quantity)).execute()):
            raise _SoldOut()
    order = Order.create(
        number=new_order_number(), shop=shop.id, buyer=buyer.id,
        status=Status.PENDING.value,
        payment_status=_payment_status(Status.PENDING, method).value, payment_method=method,
        currency=shop.currency, subtotal=subtotal, shipping_total=shipping_total,
        fee_total=fee, total=subtotal + shipping_total + fee, item_summary=summary[:200],
        item_count=sum(q for _, q in chosen), ship_name=address.full_name,
        ship_line1=address.line1, ship_line2=address.line2, ship_city=address.city,
        ship_region=address.region, ship_postal_code=address.postal_code,
        ship_country=address.country, ship_phone=address.phone, placed_at=now,
        updated_at=now,
        estimated_delivery=(now + timedelta(days=shop.handling_days + 4)).date())
    OrderLine.insert_many([
        {"order": order.id, "variant": v.id, "product_name": v.product_name, "sku": v.sku,
         "size": v.size, "colour": v.colour, "unit_price": v.price, "quantity": q,
         "line_total": v.price * q} for v, q in chosen]).execute()
    record(order, "placed", "Order placed", actor=buyer, actor_role="buyer", at=now)
    # Its payment on the record, authorised as the seeder's are (there is no checkout yet).
    code, plugin = PAYMENT_PLUGINS[method]
    rows = ledger.recorded_rows(order.id, order.number, order.total, order.currency, now,
                                display=method, method_code=code, plugin=plugin,
                                capture=CAPTURES[method])
    for row in rows:  # its plugin's own references, so that it takes the capture later
        row["reference"] = reference_of(plugin, row["kind"], order.number)
    PaymentTransaction.insert_many(rows).execute()
    return order
