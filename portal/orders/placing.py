"""Placing an order: one function, one transaction, from a buyer's cart for one shop.

:func:`place_order` re-reads the cart at today's prices and stock, refuses when the
total the buyer reviewed is no longer the total (``checkout.price_changed``) or a
line's stock ran out (``checkout.out_of_stock``), takes the stock with conditional
updates (``stock >= quantity``: never oversold, whatever runs at the same time),
writes the order, its lines, its "placed" timeline event (the outbox tells the
seller), the ledger's pending authorisation row, and empties the cart: all of it
or, when anything refuses, none of it (the cart stays as it was).

The design of the payment, and why. The order is placed *first*, "awaiting"
payment, with its pending authorisation row; the payment plugin is asked after
the commit (``portal.checkout`` through ``portal.payments``, the ledger's pattern:
row first, call after, answer in a second transaction). A decline then runs
:func:`payment_declined` in a transaction of its own: the order is Cancelled
(reason: the decline), its stock goes back, its lines go back into the buyer's
cart, so the buyer can retry with another card. Why this way round:

- stock cannot be lost: it is taken in the same transaction that writes the
  order, and given back in the same transaction that cancels it; a crash between
  the two leaves an order awaiting payment whose authorisation the reconciler
  keeps asking about (never stock taken by nothing);
- nobody is charged twice: the checkout token (``orders.checkout_token``, unique)
  makes every post of one checkout find the one order and its one authorisation
  row (the idempotency key is derived from the token), and the plugin is asked
  with that key, which a gateway answers once; authorising *before* placing would
  leave an authorisation with no order when the stock ran out in between.

Coupons: the checkout works out what they take off (``portal.coupons.discounts``)
and hands the :class:`~portal.coupons.records.Plan` here; the plan is refused
(``checkout.price_changed``) unless it was worked out on the lines placed now, its
uses are taken in this transaction (``records.take``: the limits checked again,
``checkout.coupon`` when one no longer holds) and each line keeps its share of the
discount (``order_line.discount``).

Concurrency: the buyer's cart row is locked first (so posts of the same checkout
queue up and the later ones find the order the first one made), then the
variants in id order (no deadlock between two carts sharing variants).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from peewee import IntegrityError

from portal.coupons import records as coupon_records
from portal.coupons.rules import CouponRefused
from portal.db import database
from portal.models import Cart, CartLine, Order, OrderLine, PaymentTransaction, Product, \
    Shop, User, Variant, utcnow
from portal.money import format_money
from portal.orders.editing import item_summary
from portal.orders.errors import OrderRefused
from portal.orders.ledger import CAPTURES
from portal.orders.lifecycle import PaymentStatus, Status, lock, record, transition
from portal.orders.numbers import new_order_number

ADDRESS_FIELDS = ("name", "line1", "line2", "city", "region", "postal_code", "country",
                  "phone")


class CheckoutRefused(OrderRefused):
    """The order could not be placed (``checkout.*``); nothing was written."""


@dataclass(frozen=True)
class PaymentChoice:
    """The way the buyer pays: the plugin, its method code, the fee it adds, and when
    its money is captured (one of :data:`CAPTURES`, as the plugin's option says)."""

    plugin: str
    method_code: str
    fee: int = 0
    display: str = ""
    capture: str = "on_shipping"


@dataclass(frozen=True)
class Placed:
    order: Order
    authorisation: PaymentTransaction
    created: bool  # False: this checkout token had placed the order already


def totals(subtotal: int, discount: int, shipping: int, fee: int) -> int:
    """What the buyer pays, in minor units: never below zero."""
    return max(subtotal - min(discount, subtotal) + shipping + fee, 0)


# -- what every placed order is made of (place_order here, and portal.orders.bulk) ----

class Line(NamedTuple):
    """An order line's values as it is placed, in :data:`LINE_FIELDS` order (a tuple, so
    the bulk path writes it as it is)."""

    variant: int | None
    product_name: str
    sku: str
    size: str
    colour: str
    unit_price: int
    quantity: int
    line_total: int
    discount: int = 0  # the line's share of the order's coupon discounts


LINE_FIELDS = Line._fields


def line(variant: Variant, product_name: str, quantity: int,
         unit_price: int | None = None) -> Line:
    """The line for ``quantity`` of ``variant``, at its price today unless ``unit_price``
    says what it was (an order placed in the past)."""
    price = variant.price if unit_price is None else unit_price
    return Line(variant.id, product_name, variant.sku, variant.size, variant.colour, price,
                quantity, price * quantity)


class Money(NamedTuple):
    """An order's money, in minor units, as the order row keeps it."""

    subtotal: int
    discount_total: int
    shipping_total: int
    fee_total: int
    total: int


def money(lines, *, discount: int = 0, shipping: int = 0, fee: int = 0) -> Money:
    """The order's money from its lines: no discount above the subtotal, no negative
    shipping or fee (:func:`totals`)."""
    subtotal = sum(item.line_total for item in lines)
    shipping, fee = max(shipping, 0), max(fee, 0)
    return Money(subtotal, min(discount, subtotal), shipping, fee,
                 totals(subtotal, discount, shipping, fee))


def check_total(total: int, expected: int | None, currency: str) -> None:
    """Refuse (``checkout.price_changed``) when the total someone saw is not the total."""
    if expected is not None and expected != total:
        raise CheckoutRefused(
            "checkout.price_changed",
            f"Prices changed since you reviewed your order: the total is now "
            f"{format_money(total, currency)}, not "
            f"{format_money(expected, currency)}. Check it and place it again.")


def take_stock(lines) -> None:
    """Take each line's quantity from its variant's stock, in the order given (variant
    order: no deadlock), only if it is there: never oversold, whatever runs at the same
    time. Refuses (``checkout.out_of_stock``) at the first line short of stock; call it
    inside the transaction that writes the order, so a refusal takes nothing."""
    for item in lines:
        taken = (Variant.update(stock=Variant.stock - item.quantity)
                 .where((Variant.id == item.variant) & (Variant.stock >= item.quantity))
                 .execute())
        if not taken:
            left = Variant.select(Variant.stock).where(Variant.id == item.variant).scalar()
            raise CheckoutRefused(
                "checkout.out_of_stock",
                f"{item.product_name} ({_detail(item)}): only {max(left or 0, 0)} "
                "left. Lower the quantity in your cart and check out again.")


def check_catalogue(lines, shop: Shop) -> None:
    """Refuse (``checkout.unknown_variant``) a line whose variant is not in ``shop``'s
    catalogue (lines without a variant are snapshots, and pass)."""
    wanted = {item.variant for item in lines if item.variant}
    if not wanted:
        return
    known = {row[0] for row in Variant.select(Variant.id).join(Product)
             .where(Variant.id.in_(list(wanted)) & (Product.shop == shop.id)).tuples()}
    if wanted - known:
        raise CheckoutRefused("checkout.unknown_variant",
                              f"No variant {', '.join(map(str, sorted(wanted - known)))} in "
                              f"the catalogue of {shop.name}.")


def ship_fields(address: dict) -> dict:
    """The order's ``ship_*`` columns from an address of :data:`ADDRESS_FIELDS`."""
    return dict(ship_name=address["name"][:120], ship_line1=address["line1"][:200],
                ship_line2=(address.get("line2") or "")[:200], ship_city=address["city"][:100],
                ship_region=(address.get("region") or "")[:100],
                ship_postal_code=(address.get("postal_code") or "")[:20],
                ship_country=address["country"][:2], ship_phone=(address.get("phone") or "")[:32])


def placed_message(total: int, currency: str, shipping_label: str = "",
                   coupons: Iterable[tuple[str, int]] = ()) -> str:
    """The "placed" timeline entry: "Order placed: $85.50 · shipping: Standard · coupon
    SUMMER-15 (−$15.00)", ``coupons`` being (code, discount) pairs."""
    how = f" · shipping: {shipping_label}" if shipping_label else ""
    coupons = list(coupons)
    if coupons:
        how += " · coupon " + ", ".join(f"{code} (−{format_money(amount, currency)})"
                                        for code, amount in coupons)
    return f"Order placed: {format_money(total, currency)}{how}"


def capture_of(payment: PaymentChoice) -> str:
    """When the payment's money is taken, as its authorisation row keeps it: the plugin's
    word when the ledger knows it (:data:`CAPTURES`), else on shipping."""
    return payment.capture if payment.capture in CAPTURES else "on_shipping"


def auth_key(checkout_token: str) -> str:
    return f"checkout-{checkout_token}-authorise"


def _existing(checkout_token: str, buyer_id: int) -> Placed | None:
    order = Order.get_or_none(Order.checkout_token == checkout_token)
    if order is None:
        return None
    if order.buyer_id != buyer_id:  # never someone else's order, whatever was posted
        raise CheckoutRefused("checkout.no_token", "This checkout has expired: start again.")
    auth = PaymentTransaction.get_or_none(PaymentTransaction.idempotency_key
                                          == auth_key(checkout_token))
    return Placed(order, auth, False)


def place_order(buyer: User, shop_id: int, *, checkout_token: str, address: dict,
                shipping_total: int, payment: PaymentChoice, expected_total: int | None = None,
                discount_total: int = 0, shipping_label: str = "",
                coupons: coupon_records.Plan | None = None, shipping_service: str = "") -> Placed:
    """Place the buyer's cart in shop ``shop_id`` as an order awaiting payment.

    ``address`` holds :data:`ADDRESS_FIELDS` (checked by the caller); money is minor
    units; ``expected_total`` is the total the buyer reviewed (refused when today's
    prices make another); ``coupons`` replaces ``discount_total`` with the plan's
    discount; ``shipping_service`` and ``shipping_label`` are the chosen shipping's key and
    name. The same ``checkout_token`` again returns the order it
    placed (``created`` False). Raises :class:`CheckoutRefused`.
    """
    if not checkout_token or len(checkout_token) > 64:
        raise CheckoutRefused("checkout.no_token", "This checkout has expired: start again.")
    done = _existing(checkout_token, buyer.id)
    if done:
        return done
    try:
        with database.atomic():
            return _place(buyer, shop_id, checkout_token, address, shipping_total, payment,
                          expected_total, discount_total, shipping_label, coupons,
                          shipping_service=shipping_service)
    except IntegrityError:  # the same token, placed at the same moment by another post
        done = _existing(checkout_token, buyer.id)
        if done:
            return done
        raise


def _place(buyer, shop_id, checkout_token, address, shipping_total, payment, expected_total,
           discount_total, shipping_label, coupons=None, *, shipping_service="") -> Placed:
    now = utcnow()
    # The cart's row first: the same buyer's posts queue here (SQLite: the write lock).
    locked = (Cart.update(updated_at=now)
              .where((Cart.buyer == buyer.id) & (Cart.shop == shop_id)).execute())
    done = _existing(checkout_token, buyer.id)
    if done:
        return done
    rows = []
    if locked:
        rows = list(CartLine.select(CartLine, Variant, Product).join(Variant).join(Product)
                    .switch(CartLine).join(Cart)
                    .where((Cart.buyer == buyer.id) & (Cart.shop == shop_id)
                           & (Product.shop == shop_id))
                    .order_by(Variant.id))
    if not rows:
        raise CheckoutRefused("checkout.empty", "Your cart in this shop is empty.")
    placed = _write(buyer, shop_id, [line(r.variant, r.variant.product.name, r.quantity)
                                     for r in rows],
                    checkout_token, address, shipping_total, payment, expected_total,
                    discount_total, shipping_label, now, coupons,
                    shipping_service=shipping_service)
    CartLine.delete().where(CartLine.id.in_([r.id for r in rows])).execute()
    return placed


def place_items(buyer: User, shop_id: int, items: list[tuple[Variant, int]], *,
                checkout_token: str, address: dict, shipping_total: int,
                payment: PaymentChoice, at=None) -> Placed:
    """Place ``items`` ((variant, quantity), each variant with its ``product`` loaded) as
    :func:`place_order` places a cart, by the same rules in one transaction, at ``at``
    (default now), for a caller that chooses the items itself (the running demo's
    buyers) and must leave the buyer's own cart alone. Raises :class:`CheckoutRefused`."""
    if not items:
        raise CheckoutRefused("checkout.empty", "There is nothing to order.")
    lines = [line(variant, variant.product.name, quantity)
             for variant, quantity in sorted(items, key=lambda item: item[0].id)]
    check_catalogue(lines, Shop.get_by_id(shop_id))
    with database.atomic():
        return _write(buyer, shop_id, lines, checkout_token, address, shipping_total, payment,
                      None, 0, "", at or utcnow())


def _write(buyer, shop_id, lines, checkout_token, address, shipping_total, payment,
           expected_total, discount_total, shipping_label, now, coupons=None, *,
           shipping_service="") -> Placed:
    """Everything place_order writes but the cart: in variant order (the stock)."""
    shop = Shop.get_by_id(shop_id)
    takings = ()
    if coupons is not None:
        if coupons.lines != {item.variant: (item.quantity, item.unit_price) for item in lines}:
            raise CheckoutRefused("checkout.price_changed", "Your cart changed since you "
                                  "reviewed your order. Check it and place it again.")
        discount_total, takings = coupons.discount, coupons.takings
        lines = [item._replace(discount=coupons.line_discounts.get(item.variant, 0))
                 for item in lines]
    sums = money(lines, discount=discount_total, shipping=shipping_total, fee=payment.fee)
    check_total(sums.total, expected_total, shop.currency)
    take_stock(lines)
    order = Order.create(
        number=new_order_number(), shop=shop_id, buyer=buyer.id, status=Status.PENDING.value,
        payment_status=PaymentStatus.AWAITING.value, payment_method=payment.display[:80],
        currency=shop.currency, **sums._asdict(), item_summary=item_summary(lines),
        item_count=sum(item.quantity for item in lines), **ship_fields(address),
        placed_at=now, updated_at=now, checkout_token=checkout_token,
        shipping_service=shipping_service[:64], shipping_name=shipping_label[:120])
    OrderLine.bulk_create([OrderLine(order=order.id, **item._asdict()) for item in lines])
    if takings:
        try:
            coupon_records.take(list(takings), order=order, buyer=buyer,
                                subtotal=sums.subtotal, now=now)
        except CouponRefused as refused:
            raise CheckoutRefused("checkout.coupon", refused.message) from None
    auth = PaymentTransaction.create(
        order=order.id, kind="authorise", amount=sums.total, currency=shop.currency,
        method_code=payment.method_code, plugin=payment.plugin,
        idempotency_key=auth_key(checkout_token), state="pending", display=payment.display[:80],
        capture=capture_of(payment), created_at=now, next_attempt_at=now)
    record(order, "placed", placed_message(sums.total, shop.currency, shipping_label,
                                           [(t.code, t.amount) for t in takings]),
           actor=buyer, actor_role="buyer", at=now, **placed_details(order))
    return Placed(order, auth, True)


def placed_details(order: Order) -> dict:
    """The order's figures as placed, carried by its "placed" outbox event (the
    ``order_placed`` hook tells plugins these, whatever happens to the order later)."""
    return dict(currency=order.currency, total=order.total, subtotal=order.subtotal,
                discount_total=order.discount_total, shipping_total=order.shipping_total,
                fee_total=order.fee_total, item_count=order.item_count,
                item_summary=order.item_summary, payment_method=order.payment_method,
                placed_at=order.placed_at.isoformat())


def _detail(item) -> str:
    return ", ".join(part for part in (item.size, item.colour) if part) or item.sku


def payment_declined(order_id: int, message: str) -> bool:
    """The authorisation was declined: cancel the order, put its stock back and its
    lines back into the buyer's cart, in one transaction, so the buyer can retry.
    Does nothing (False) when the order is no longer an untouched order awaiting
    payment (someone got there first)."""
    from portal.orders.fulfilment import lines_of, restock

    with database.atomic():
        order = lock(order_id)
        if order.status != Status.PENDING or order.payment_status != PaymentStatus.AWAITING:
            return False
        transition(order, Status.CANCELLED, actor_role="system",
                   reason=f"payment declined: {message}"[:300])
        lines = lines_of(order)
        restock(lines)
        now = utcnow()
        (Cart.insert(buyer=order.buyer_id, shop=order.shop_id, created_at=now, updated_at=now)
         .on_conflict(conflict_target=[Cart.buyer, Cart.shop], update={Cart.updated_at: now})
         .execute())
        cart_id = Cart.select(Cart.id).where((Cart.buyer == order.buyer_id)
                                             & (Cart.shop == order.shop_id)).scalar()
        for line in lines:
            if line.variant_id:
                (CartLine.insert(cart=cart_id, variant=line.variant_id, quantity=line.quantity,
                                 created_at=now)
                 .on_conflict(conflict_target=[CartLine.cart, CartLine.variant],
                              update={CartLine.quantity: line.quantity})
                 .execute())
    return True
