"""The storefront's reads: the shops, a shop's products page by page, one product.

Every list is a keyset page on ids (page 100 costs what page 1 costs) and every
function a fixed number of queries, however many products or variants there are.
No Flask here: the web layer (``portal.web.shop``) parses and renders.
"""

from dataclasses import dataclass, field

from peewee import fn

from portal.models import Product, Shop, Variant

LOW_STOCK = 5  # "Only 3 left" from here down
MAX_VARIANTS = 200  # shown on one product page


def stock_hint(stock: int) -> str:
    """What a shopper is told about how many are left ("" when there are plenty)."""
    if stock <= 0:
        return "Sold out"
    if stock <= LOW_STOCK:
        return f"Only {stock} left"
    return ""


@dataclass(frozen=True)
class IdPage:
    """One page of a list ordered by id: ``previous`` and ``next`` are the ids to
    continue from (``?before=`` and ``?after=``), None at either end."""

    rows: list
    previous: int | None = None
    next: int | None = None


def _id_page(query, model, *, after: int | None, before: int | None, limit: int) -> IdPage:
    if before is not None:
        rows = list(query.where(model.id < before).order_by(model.id.desc()).limit(limit + 1))
        more = len(rows) > limit
        rows = rows[:limit][::-1]
        return IdPage(rows, previous=rows[0].id if rows and more else None,
                      next=rows[-1].id if rows else None)
    if after is not None:
        query = query.where(model.id > after)
    rows = list(query.order_by(model.id).limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    return IdPage(rows, previous=rows[0].id if rows and after is not None else None,
                  next=rows[-1].id if rows and more else None)


@dataclass(frozen=True)
class ShopCard:
    id: int
    name: str
    slug: str
    product_count: int

    @property
    def initials(self) -> str:
        words = [w for w in self.name.split() if w[:1].isalnum()]
        return "".join(w[0] for w in words[:2]).upper() or "?"


def shops(*, after: int | None = None, before: int | None = None, limit: int = 24) -> IdPage:
    """A page of shops (oldest first) with how many products each has: two queries."""
    page = _id_page(Shop.select(Shop.id, Shop.name, Shop.slug), Shop,
                    after=after, before=before, limit=limit)
    counts = {}
    if page.rows:
        counts = dict(Product.select(Product.shop, fn.COUNT(Product.id))
                      .where(Product.shop.in_([s.id for s in page.rows]))
                      .group_by(Product.shop).tuples())
    cards = [ShopCard(s.id, s.name, s.slug, counts.get(s.id, 0)) for s in page.rows]
    return IdPage(cards, page.previous, page.next)


def shop_by_slug(slug: str) -> Shop | None:
    return Shop.get_or_none(Shop.slug == slug[:80]) if isinstance(slug, str) else None


@dataclass(frozen=True)
class ProductCard:
    """A product as a shop's grid shows it: its price range and what is left."""

    id: int
    name: str
    currency: str
    min_price: int | None  # None: no variants yet
    max_price: int | None
    stock: int  # all its variants together
    variant_count: int

    @property
    def price_varies(self) -> bool:  # shown as "from $X"
        return self.min_price != self.max_price

    @property
    def stock_hint(self) -> str:
        return stock_hint(self.stock)

    @property
    def sold_out(self) -> bool:
        return self.stock <= 0


def products(shop: Shop, *, after: int | None = None, before: int | None = None,
             limit: int = 24) -> IdPage:
    """A page of a shop's products as cards: two queries (the page, its variants' figures)."""
    page = _id_page(Product.select(Product.id, Product.name).where(Product.shop == shop.id),
                    Product, after=after, before=before, limit=limit)
    figures = {}
    if page.rows:
        figures = {row[0]: row[1:] for row in
                   Variant.select(Variant.product, fn.MIN(Variant.price), fn.MAX(Variant.price),
                                  fn.SUM(Variant.stock), fn.COUNT(Variant.id))
                   .where(Variant.product.in_([p.id for p in page.rows]))
                   .group_by(Variant.product).tuples()}
    cards = []
    for p in page.rows:
        low, high, stock, count = figures.get(p.id, (None, None, 0, 0))
        cards.append(ProductCard(p.id, p.name, shop.currency, low, high, max(int(stock or 0), 0),
                                 count))
    return IdPage(cards, page.previous, page.next)


@dataclass(frozen=True)
class VariantChoice:
    id: int
    size: str
    colour: str
    price: int
    stock: int

    @property
    def label(self) -> str:
        return " · ".join(part for part in (self.size, self.colour) if part) or "One size"

    @property
    def stock_hint(self) -> str:
        return stock_hint(self.stock) or "In stock"

    @property
    def sold_out(self) -> bool:
        return self.stock <= 0


@dataclass(frozen=True)
class ProductPage:
    product: Product  # with .shop loaded
    variants: list[VariantChoice] = field(default_factory=list)

    @property
    def shop(self) -> Shop:
        return self.product.shop

    @property
    def min_price(self) -> int | None:
        return min((v.price for v in self.variants), default=None)

    @property
    def max_price(self) -> int | None:
        return max((v.price for v in self.variants), default=None)

    @property
    def stock(self) -> int:
        return sum(max(v.stock, 0) for v in self.variants)

    @property
    def stock_hint(self) -> str:
        return stock_hint(self.stock)

    @property
    def sizes(self) -> list[str]:
        return list(dict.fromkeys(v.size for v in self.variants if v.size))

    @property
    def colours(self) -> list[str]:
        return list(dict.fromkeys(v.colour for v in self.variants if v.colour))


def product_page(slug: str, product_id: int) -> ProductPage | None:
    """One product of the shop at ``slug`` with its variants (two queries); None if the
    shop has no such product."""
    if not isinstance(slug, str):
        return None
    product = (Product.select(Product, Shop).join(Shop)
               .where(Product.id == product_id, Shop.slug == slug[:80]).first())
    if product is None:
        return None
    variants = [VariantChoice(v.id, v.size, v.colour, v.price, v.stock) for v in
                Variant.select(Variant.id, Variant.size, Variant.colour, Variant.price,
                               Variant.stock)
                .where(Variant.product == product.id).order_by(Variant.id).limit(MAX_VARIANTS)]
    return ProductPage(product, variants)
