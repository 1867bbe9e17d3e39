"""What the buyer's coupons take off a cart: the portal's rules, then the coupon plugins.

:func:`evaluate` is used by the checkout's review and again just before the order
is placed (``portal.checkout``), so the review shows the numbers the order gets.
Coupons are tried in a fixed order, the codes the buyer typed first (in the order
typed) and then the shop's automatic ones (bundle offers, loyalty rewards); each is
checked against the rules (``rules.check``), against the coupons already applied
(combining), then its plugin says how much comes off which lines. A typed code that
fails says why; an automatic one that fails is simply not shown.

Each discount is capped at what is left of its lines after the earlier ones, and
spread over them (``allocation``); free shipping takes the shipping price off.
The :class:`records.Plan` that comes out is what ``placing.place_order`` records.
"""

from dataclasses import dataclass, field
from datetime import datetime

from portal.coupons import allocation, records, rules
from portal.coupons.rules import CouponRefused
from portal.hooks import pluginmanager, shop_plugins
from portal.hooks.hooktypes import Cart, CartLine, Coupon as CouponArg, CouponKind, Discount
from portal.models import Coupon, Order, User, utcnow

BUILTIN = "coupons"  # the built-in kinds are part of the portal: on in every shop


@dataclass(frozen=True)
class Applied:
    """A coupon that applies, with what it takes off."""

    coupon: Coupon
    description: str
    amount: int  # off the lines
    shipping_off: int = 0  # off the shipping (free shipping)
    typed: str | None = None  # the code as the buyer typed it; None: applied by the shop


@dataclass
class Evaluation:
    applied: list[Applied] = field(default_factory=list)
    refused: dict[str, CouponRefused] = field(default_factory=dict)  # typed code -> why
    line_discounts: dict[int, int] = field(default_factory=dict)  # variant id -> share
    lines: dict[int, tuple[int, int]] = field(default_factory=dict)  # variant id -> (qty, price)

    @property
    def discount(self) -> int:
        """Off the lines (the order's ``discount_total``)."""
        return sum(self.line_discounts.values())

    @property
    def shipping_off(self) -> int:
        return sum(a.shipping_off for a in self.applied)

    def plan(self) -> records.Plan | None:
        if not self.applied:
            return None
        return records.Plan(tuple(records.Taking(a.coupon.id, a.amount + a.shipping_off,
                                                 a.coupon.code) for a in self.applied),
                            dict(self.lines), dict(self.line_discounts))


def kinds(shop) -> list[tuple[str, CouponKind]]:
    """The coupon kinds a shop may create: (plugin, kind), the built-in ones first, then
    those of the coupon plugins the shop turned on."""
    setup = shop_plugins.for_shop(shop)
    names = [BUILTIN] + [n for n in setup.enabled() if n != BUILTIN]
    found = []
    for name in names:
        outcome = pluginmanager.call(name, "coupon_kinds")
        if outcome.ok and isinstance(outcome.value, list):
            found += [(name, k) for k in outcome.value if isinstance(k, CouponKind)]
    return found


def kind_of(shop, plugin: str, code: str) -> CouponKind | None:
    return next((k for p, k in kinds(shop) if p == plugin and k.code == code), None)


def _hook_cart(shop, buyer: User, cart_view, shipping: int) -> Cart:
    delivered = (Order.select().where((Order.buyer == buyer.id) & (Order.shop == shop.id)
                                      & (Order.status == "delivered")).count())
    return Cart(shop.id, buyer.id, cart_view.currency,
                tuple(CartLine(line.product_id, line.variant_id, line.unit_price, line.quantity)
                      for line in cart_view.lines),
                shipping=shipping, delivered_orders=delivered)


def _ask(coupon: Coupon, cart: Cart, setup) -> Discount | None:
    """The coupon's plugin's answer; raises CouponRefused when it fails or refuses."""
    if coupon.plugin != BUILTIN and not setup.is_enabled(coupon.plugin):
        raise rules.refused("coupon.unavailable", code=coupon.code)
    arg = CouponArg(coupon.code, coupon.kind, records.settings_of(coupon))
    outcome = pluginmanager.call(coupon.plugin, "coupon_discounts", cart=cart, coupons=[arg],
                                 settings=setup.settings(coupon.plugin))
    if outcome.refused:
        raise CouponRefused("coupon.not_for_you",
                            rules.REASONS["coupon.not_for_you"].format(code=coupon.code,
                                                                       why=outcome.refused))
    if not outcome.ok or not isinstance(outcome.value, list):
        raise rules.refused("coupon.unavailable", code=coupon.code)
    return next((d for d in outcome.value if isinstance(d, Discount)
                 and d.coupon_code == coupon.code and d.currency == cart.currency), None)


def evaluate(shop, buyer: User, cart_view, *, shipping: int, codes=(),
             now: datetime | None = None) -> Evaluation:
    """The discounts of the typed ``codes`` and the shop's automatic coupons on the
    buyer's cart (a ``portal.cart.CartView``), with ``shipping`` as quoted."""
    now = now or utcnow()
    result = Evaluation(lines={line.variant_id: (line.quantity, line.unit_price)
                               for line in cart_view.lines})
    typed = []
    for code in list(dict.fromkeys(c for c in codes if c))[:records.MAX_COUPONS_PER_ORDER]:
        coupon = records.find(shop.id, code)
        if coupon is None:
            result.refused[code] = rules.refused("coupon.unknown", code=code)
        elif all(c.id != coupon.id for _, c in typed):
            typed.append((code, coupon))
    auto = [c for c in records.automatic(shop.id) if all(c.id != t.id for _, t in typed)]
    candidates = typed + [(None, c) for c in auto]
    if not candidates or not cart_view.lines:
        return result
    usage = records.usage([c for _, c in candidates], buyer)
    cart = _hook_cart(shop, buyer, cart_view, shipping)
    setup = shop_plugins.for_shop(shop)
    totals = [line.line_total for line in cart_view.lines]
    index = {line.variant_id: i for i, line in enumerate(cart_view.lines)}
    left, spreads, shipping_left = list(totals), [], shipping
    for typed_code, coupon in candidates:
        try:
            rules.check(coupon, now=now, subtotal=cart_view.subtotal, currency=cart.currency,
                        buyer_id=buyer.id, usage=usage[coupon.id])
            rules.combine_check(coupon, [a.coupon for a in result.applied])
            found = _ask(coupon, cart, setup)
            if found is None:
                raise rules.refused("coupon.not_applicable", code=coupon.code)
            if found.free_shipping:
                off, amount, indexes = min(max(found.amount, 0), shipping_left), 0, []
            else:
                wanted = set(found.variant_ids)
                indexes = [i for v, i in index.items() if not wanted or v in wanted]
                off, amount = 0, max(0, min(found.amount, sum(left[i] for i in indexes)))
            if not off and not amount:
                raise rules.refused("coupon.not_applicable", code=coupon.code)
        except CouponRefused as why:
            if typed_code is not None:
                result.refused[typed_code] = why
            continue
        shares = allocation.allocate(amount, [left[i] for i in indexes])
        for i, share in zip(indexes, shares):
            left[i] -= share
        spreads.append((amount, indexes))
        shipping_left -= off
        result.applied.append(Applied(coupon, found.description[:120] or coupon.name,
                                      amount, off, typed_code))
    shares = allocation.spread(spreads, totals)
    result.line_discounts = {line.variant_id: shares[i]
                             for i, line in enumerate(cart_view.lines) if shares[i]}
    return result
