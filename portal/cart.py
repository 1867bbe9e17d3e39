"""Carts: what a buyer is about to buy, one cart per shop.

A buyer holds at most one cart per shop (a unique index on buyer and shop) and a
variant at most once per cart (unique on cart and variant): adding a variant
already there adds to its quantity, in one upsert, so two "Add to cart" posts at
the same moment add up instead of making two lines or losing one. Quantities
are 1 to 99. Prices and stock are read afresh every time a cart is shown: a cart
reserves nothing, and a line whose stock ran out (or is below its quantity) says
so and keeps its cart from checkout until it is changed. Totals are integer
minor units in the shop's currency. A seller's own shop does not sell to itself.

No Flask here: ``portal.web.shop`` parses the forms and renders.
"""

from dataclasses import dataclass, field

from peewee import EXCLUDED, Case, IntegrityError, fn

from portal.db import database
from portal.models import Cart, CartLine, Product, Shop, User, Variant, utcnow

MAX_QUANTITY = 99
MAX_LINES_PER_CART = 50
MAX_CARTS = 20


class CartRefused(Exception):
    """The cart said no; nothing was written. ``code`` is stable (``cart.*``), the
    message is the sentence the pages show. ``cart.not_found`` is a 404. ``shop_id``
    says which shop's cart a refused change was about, when there is one."""

    def __init__(self, code: str, message: str, *, shop_id: int | None = None):
        super().__init__(message)
        self.code, self.message, self.shop_id = code, message, shop_id


def _checked_quantity(quantity: int | None) -> int:
    if quantity is None or not 1 <= quantity <= MAX_QUANTITY:
        raise CartRefused("cart.quantity",
                          f"Choose a whole quantity from 1 to {MAX_QUANTITY}.")
    return quantity


@dataclass(frozen=True)
class Added:
    """What :func:`add` put in the cart: the variant (with its product and shop) and
    the line's quantity now."""

    variant: Variant
    quantity: int

    @property
    def description(self) -> str:
        v = self.variant
        detail = ", ".join(part for part in (v.size, v.colour) if part)
        return v.product.name + (f" ({detail})" if detail else "")


def variant_for_sale(variant_id: int | None) -> Variant | None:
    """The variant with its product and shop (one query), or None."""
    if variant_id is None:
        return None
    return (Variant.select(Variant, Product, Shop).join(Product).join(Shop)
            .where(Variant.id == variant_id).first())


def add(buyer: User, variant_id: int | None, quantity: int | None) -> Added:
    """Put ``quantity`` of a variant in the buyer's cart of its shop (made if needed).

    Refused (:class:`CartRefused`): an unknown variant (``cart.not_found``), a quantity
    outside 1-99 in all (``cart.quantity``), more than is in stock (``cart.stock``),
    the buyer's own shop (``cart.own_shop``), too many lines or carts (``cart.full``).
    """
    variant = variant_for_sale(variant_id)
    if variant is None:
        raise CartRefused("cart.not_found", "That product is not for sale here.")
    quantity = _checked_quantity(quantity)
    shop = variant.product.shop
    if shop.owner_id == buyer.id:
        raise CartRefused("cart.own_shop", f"{shop.name} is your own shop: it doesn't sell "
                                           "to itself. Browse it as your buyers see it.")
    carts = {row.shop_id: row for row in
             Cart.select(Cart.id, Cart.shop, fn.COUNT(CartLine.id).alias("lines"),
                         fn.SUM(Case(CartLine.variant, [(variant.id, CartLine.quantity)], 0))
                         .alias("already"))
             .join(CartLine).where(Cart.buyer == buyer.id).group_by(Cart.id, Cart.shop)}
    mine = carts.get(shop.id)
    already = int(mine.already or 0) if mine else 0
    if variant.stock <= 0:
        raise CartRefused("cart.stock", "Sorry, that one is sold out.")
    if already + quantity > variant.stock:
        raise CartRefused("cart.stock", f"Only {variant.stock} left"
                          + (f", and {already} are in your cart already." if already else "."))
    if already + quantity > MAX_QUANTITY:
        raise CartRefused("cart.quantity", f"At most {MAX_QUANTITY} of one item per order "
                                           f"({already} are in your cart already).")
    if not already and mine and mine.lines >= MAX_LINES_PER_CART:
        raise CartRefused("cart.full", f"A cart holds up to {MAX_LINES_PER_CART} different "
                                       "items. Check out or remove some first.")
    if not mine and len(carts) >= MAX_CARTS:
        raise CartRefused("cart.full", f"You have carts in {MAX_CARTS} shops already. Check "
                                       "out or empty one first.")
    now = utcnow()
    with database.atomic():
        (Cart.insert(buyer=buyer.id, shop=shop.id, created_at=now, updated_at=now)
         .on_conflict(conflict_target=[Cart.buyer, Cart.shop], update={Cart.updated_at: now})
         .execute())
        cart_id = Cart.select(Cart.id).where(Cart.buyer == buyer.id, Cart.shop == shop.id).scalar()
        total = CartLine.quantity + EXCLUDED.quantity
        (CartLine.insert(cart=cart_id, variant=variant.id, quantity=quantity, created_at=now)
         .on_conflict(conflict_target=[CartLine.cart, CartLine.variant],
                      update={CartLine.quantity: Case(None, [(total > MAX_QUANTITY, MAX_QUANTITY)],
                                                      total)})
         .execute())
    return Added(variant, min(already + quantity, MAX_QUANTITY))


def _own_line(buyer: User, line_id: int | None) -> CartLine:
    line = None
    if line_id is not None:
        line = (CartLine.select(CartLine, Cart).join(Cart)
                .where(CartLine.id == line_id, Cart.buyer == buyer.id).first())
    if line is None:
        raise CartRefused("cart.not_found", "That line is not in your cart.")
    return line


def set_quantity(buyer: User, line_id: int | None, quantity: int | None) -> int:
    """Change one of the buyer's lines to ``quantity`` (1-99); returns its shop's id.
    Someone else's line, or none, is ``cart.not_found``."""
    line = _own_line(buyer, line_id)
    try:
        quantity = _checked_quantity(quantity)
    except CartRefused as refused:
        raise CartRefused(refused.code, refused.message, shop_id=line.cart.shop_id) from None
    with database.atomic():
        CartLine.update(quantity=quantity).where(CartLine.id == line.id).execute()
        Cart.update(updated_at=utcnow()).where(Cart.id == line.cart_id).execute()
    return line.cart.shop_id


def remove(buyer: User, line_id: int | None) -> int:
    """Take one of the buyer's lines out of its cart; returns its shop's id. An empty
    cart stays (no row to race with the next add) and is simply not shown."""
    line = _own_line(buyer, line_id)
    CartLine.delete().where(CartLine.id == line.id).execute()
    return line.cart.shop_id


@dataclass(frozen=True)
class LineView:
    id: int
    variant_id: int
    product_id: int
    product_name: str
    size: str
    colour: str
    unit_price: int  # the variant's price now
    quantity: int
    stock: int

    @property
    def line_total(self) -> int:
        return self.unit_price * self.quantity

    @property
    def detail(self) -> str:
        return " · ".join(part for part in (self.size, self.colour) if part)

    @property
    def problem(self) -> str:
        """Why this line cannot be checked out as it is ("" when it can)."""
        if self.stock <= 0:
            return "Sold out: remove it to check out."
        if self.stock < self.quantity:
            return f"Only {self.stock} left: lower the quantity to check out."
        return ""


@dataclass(frozen=True)
class CartView:
    """One shop's cart as the buyer sees it: lines at today's prices and stock."""

    id: int
    shop_id: int
    shop_name: str
    shop_slug: str
    currency: str
    lines: list[LineView] = field(default_factory=list)

    @property
    def subtotal(self) -> int:
        return sum(line.line_total for line in self.lines)

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def problems(self) -> list[LineView]:
        return [line for line in self.lines if line.problem]

    @property
    def can_check_out(self) -> bool:
        return bool(self.lines) and not self.problems


def carts_of(buyer_id: int) -> list[CartView]:
    """Every cart of the buyer that holds something, oldest first, lines in the order
    they were added: one query, however many carts and lines."""
    rows = (CartLine.select(CartLine.id, CartLine.quantity, CartLine.variant, Cart.id, Cart.shop,
                            Variant.id, Variant.size, Variant.colour, Variant.price, Variant.stock,
                            Product.id, Product.name, Shop.id, Shop.name, Shop.slug, Shop.currency)
            .join(Cart).switch(CartLine).join(Variant).join(Product)
            .switch(Cart).join(Shop)
            .where(Cart.buyer == buyer_id)
            .order_by(Cart.id, CartLine.id)
            .limit(MAX_CARTS * MAX_LINES_PER_CART))
    carts: dict[int, CartView] = {}
    for row in rows:
        cart = row.cart
        view = carts.get(cart.id)
        if view is None:
            view = carts[cart.id] = CartView(cart.id, cart.shop.id, cart.shop.name,
                                             cart.shop.slug, cart.shop.currency)
        v = row.variant
        view.lines.append(LineView(row.id, row.variant_id, v.product.id, v.product.name,
                                   v.size, v.colour, v.price, row.quantity, v.stock))
    return list(carts.values())


def item_count(buyer_id: int) -> int:
    """How many items the buyer's carts hold together (the nav badge): one query."""
    return int(CartLine.select(fn.SUM(CartLine.quantity)).join(Cart)
               .where(Cart.buyer == buyer_id).scalar() or 0)
