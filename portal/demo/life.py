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

from portal import payments, shipping
from portal.catalogue import LOW_STOCK
from portal.demo.orders import PAYMENTS
from portal.demo.shops import shipping_for
from portal.models import (Address, Order, OrderRequest, PluginConfig, Product, Shop, User,
                           Variant, utcnow)
from portal.orders import fulfilment, holds, placing
from portal.orders.lifecycle import StaleOrder, Status, TransitionRefused
from portal.payments import redirects
from portal.plugins import card

log = logging.getLogger("portal.demo.life")

SELLER = "seller@example.com"
# Per demo buyer: how many orders to keep in each of Pending, Processed and Shipped.
KEEP = {"buyer@example.com": 2, "buyer2@example.com": 1}
OPEN = (Status.PENDING, Status.PROCESSED, Status.SHIPPED)
# The shop's pace when nothing runs low: an order is processed about a day after it
# was placed and ships half a day later (its parcel then takes days, or minutes).
PROCESS_AFTER = timedelta(hours=24)
SHIP_AFTER = timedelta(hours=36)
# The demo buyers buy only what is not scarce (above LOW_STOCK, never into it), and the
# demo seller reorders what they ran low, up to RESTOCK_TO; what is at LOW_STOCK or
# below stays so, for the storefront's "Only N left" and "Sold out" (demo/shops.py).
RESTOCK_BELOW, RESTOCK_TO = LOW_STOCK + 5, 50
# The test cards the demo buyers pay with (the card plugin's test gateway approves them).
DEMO_CARDS = {"Visa •••• 4242": "4242424242424242", "Mastercard •••• 4444": "5555555555554444"}

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
    """The demo seller reorders what the demo buyers ran low, so they can keep buying
    (what is scarce on purpose, at LOW_STOCK or below, stays so)."""
    (Variant.update(stock=RESTOCK_TO)
     .where(Variant.product.in_(Product.select(Product.id).where(Product.shop == shop.id))
            & (Variant.stock > LOW_STOCK) & (Variant.stock < RESTOCK_BELOW))
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
    """The buyer orders one to three of the shop's items that are not scarce, to their
    default address, as checkout places an order (``placing.place_items``: stock taken,
    "Order placed" on the timeline and in the outbox, the authorisation on the ledger),
    and pays as a buyer does: the payment plugin is asked (a test card, cash on
    delivery, or the Demo Wallet, approved on its page). The buyer's own cart is left alone. None if nothing is in stock, the
    buyer has no address, or someone bought the last ones first."""
    now, rng = now or utcnow(), rng or _system_random
    address = (Address.select().where(Address.user == buyer.id)
               .order_by(Address.is_default.desc(), Address.id).first())
    variants = list(Variant.select(Variant, Product).join(Product)
                    .where((Product.shop == shop.id) & (Variant.stock > LOW_STOCK))
                    .order_by(Variant.id).limit(200))
    if address is None or not variants:
        return None
    chosen = []
    for variant in rng.sample(variants, min(len(variants), rng.randint(1, 3))):
        quantity = 1 if rng.random() < .7 else rng.randint(2, 3)
        chosen.append((variant, min(quantity, variant.stock - LOW_STOCK)))
    payment = PAYMENTS[rng.randrange(len(PAYMENTS))]
    try:
        placed = placing.place_items(
            buyer, shop.id, chosen, checkout_token=f"demo-{secrets.token_hex(16)}",
            address=dict(name=address.full_name, line1=address.line1, line2=address.line2,
                         city=address.city, region=address.region,
                         postal_code=address.postal_code, country=address.country,
                         phone=address.phone),
            shipping_total=shipping_for(sum(v.price * q for v, q in chosen)),
            payment=payment, at=now)
    except placing.CheckoutRefused as refused:
        log.info("demo: no order placed: %s", refused)
        return None
    number = DEMO_CARDS.get(payment.display)
    token = card.tokenize(number, f"12/{(now.year + 3) % 100:02d}", "123", today=now.date()) \
        if number else ""
    row = payments.run(placed.authorisation, token=token, now=now)
    if redirects.waiting_url(row):  # the wallet: its page waits for the buyer
        _answer_page(row, now)
    return Order.get_by_id(placed.order.id)


def _answer_page(row, now: datetime) -> None:
    """The demo buyer answers a payment page as a buyer would: its main button (the
    wallet's Approve), then back to the portal with the plugin's answer."""
    shown = redirects.page(row)
    button = next((b for b in shown.buttons if b.primary), None) if shown else None
    answered = redirects.page(row, button.action) if button else None
    if answered is not None and answered.answer:
        payments.run(row, token=answered.answer, now=now)
