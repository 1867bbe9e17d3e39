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

from dataclasses import dataclass

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
                coupons: coupon_records.Plan | None = None) -> Placed:
    """Place the buyer's cart in shop ``shop_id`` as an order awaiting payment.

    ``address`` holds :data:`ADDRESS_FIELDS` (checked by the caller); money is minor
    units; ``expected_total`` is the total the buyer reviewed (refused when today's
    prices make another); ``coupons`` replaces ``discount_total`` with the plan's
    discount. The same ``checkout_token`` again returns the order it
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
                          expected_total, discount_total, shipping_label, coupons)
    except IntegrityError:  # the same token, placed at the same moment by another post
        done = _existing(checkout_token, buyer.id)
        if done:
            return done
        raise


def _place(buyer, shop_id, checkout_token, address, shipping_total, payment, expected_total,
           discount_total, shipping_label, coupons=None) -> Placed:
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
    shop = Shop.get_by_id(shop_id)
    subtotal = sum(r.variant.price * r.quantity for r in rows)
    if coupons is not None:
        if coupons.lines != {r.variant.id: (r.quantity, r.variant.price) for r in rows}:
            raise CheckoutRefused("checkout.price_changed", "Your cart changed since you "
                                  "reviewed your order. Check it and place it again.")
        discount_total = coupons.discount
    fee = max(payment.fee, 0)
    total = totals(subtotal, discount_total, max(shipping_total, 0), fee)
    if expected_total is not None and expected_total != total:
        raise CheckoutRefused(
            "checkout.price_changed",
            f"Prices changed since you reviewed your order: the total is now "
            f"{format_money(total, shop.currency)}, not "
            f"{format_money(expected_total, shop.currency)}. Check it and place it again.")
    for r in rows:  # the stock, in variant order, only if it is there
        taken = (Variant.update(stock=Variant.stock - r.quantity)
                 .where((Variant.id == r.variant.id) & (Variant.stock >= r.quantity)).execute())
        if not taken:
            left = Variant.select(Variant.stock).where(Variant.id == r.variant.id).scalar()
            raise CheckoutRefused(
                "checkout.out_of_stock",
                f"{r.variant.product.name} ({_detail(r.variant)}): only {max(left or 0, 0)} "
                "left. Lower the quantity in your cart and check out again.")
    lines = [OrderLine(product_name=r.variant.product.name, sku=r.variant.sku,
                       size=r.variant.size, colour=r.variant.colour, unit_price=r.variant.price,
                       quantity=r.quantity, line_total=r.variant.price * r.quantity,
                       variant=r.variant.id,
                       discount=coupons.line_discounts.get(r.variant.id, 0) if coupons else 0)
             for r in rows]
    order = Order.create(
        number=new_order_number(), shop=shop_id, buyer=buyer.id, status=Status.PENDING.value,
        payment_status=PaymentStatus.AWAITING.value, payment_method=payment.display[:80],
        currency=shop.currency, subtotal=subtotal, discount_total=min(discount_total, subtotal),
        shipping_total=max(shipping_total, 0), fee_total=fee, total=total,
        item_summary=item_summary(lines), item_count=sum(r.quantity for r in rows),
        ship_name=address["name"][:120], ship_line1=address["line1"][:200],
        ship_line2=(address.get("line2") or "")[:200], ship_city=address["city"][:100],
        ship_region=(address.get("region") or "")[:100],
        ship_postal_code=(address.get("postal_code") or "")[:20],
        ship_country=address["country"][:2], ship_phone=(address.get("phone") or "")[:32],
        placed_at=now, updated_at=now, checkout_token=checkout_token)
    for line in lines:
        line.order = order.id
    OrderLine.bulk_create(lines)
    if coupons is not None:
        try:
            coupon_records.take(list(coupons.takings), order=order, buyer=buyer,
                                subtotal=subtotal, now=now)
        except CouponRefused as refused:
            raise CheckoutRefused("checkout.coupon", refused.message) from None
    auth = PaymentTransaction.create(
        order=order.id, kind="authorise", amount=total, currency=shop.currency,
        method_code=payment.method_code, plugin=payment.plugin,
        idempotency_key=auth_key(checkout_token), state="pending", display=payment.display[:80],
        capture=payment.capture if payment.capture in CAPTURES else "on_shipping",
        next_attempt_at=now)
    how = f" · shipping: {shipping_label}" if shipping_label else ""
    if coupons is not None and coupons.takings:
        how += " · coupon " + ", ".join(
            f"{t.code} (−{format_money(t.amount, shop.currency)})" for t in coupons.takings)
    record(order, "placed", f"Order placed: {format_money(total, shop.currency)}{how}",
           actor=buyer, actor_role="buyer", at=now, **placed_details(order))
    CartLine.delete().where(CartLine.id.in_([r.id for r in rows])).execute()
    return Placed(order, auth, True)


def placed_details(order: Order) -> dict:
    """The order's figures as placed, carried by its "placed" outbox event (the
    ``order_placed`` hook tells plugins these, whatever happens to the order later)."""
    return dict(currency=order.currency, total=order.total, subtotal=order.subtotal,
                discount_total=order.discount_total, shipping_total=order.shipping_total,
                fee_total=order.fee_total, item_count=order.item_count,
                item_summary=order.item_summary, payment_method=order.payment_method,
                placed_at=order.placed_at.isoformat())


def _detail(variant: Variant) -> str:
    return ", ".join(part for part in (variant.size, variant.colour) if part) or variant.sku


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
