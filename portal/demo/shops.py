"""The demo's shops: products in sizes and colours, and what orders buy from them."""

import random
from dataclasses import dataclass
from typing import NamedTuple

from portal.hooks.shop_plugins import new_secret
from portal.models import PluginConfig, Product, Shop, Variant

SHOP_NAMES = ["Northwind Threads", "Harbour & Pine", "Lumen Home", "Kettle Kitchenware",
              "Fjord Outdoor", "Pebble Kids", "Juniper Beauty", "Atlas Sneakers"]
PRODUCTS = [("Linen shirt", 3900), ("Everyday tee", 1800), ("Wool beanie", 2400),
            ("Canvas tote", 2200), ("Denim jacket", 8900), ("Running socks", 1200),
            ("Rain shell", 11900), ("Cotton hoodie", 5400), ("Ceramic mug", 1600),
            ("Desk lamp", 4900), ("Yoga mat", 3500), ("Travel bottle", 2700)]
SIZES = ["S", "M", "L", "XL"]
COLOURS = ["Black", "White", "Sage", "Navy", "Sand"]
BASKETS_PER_SHOP = 1024  # a power of two: one getrandbits() picks one


class Basket(NamedTuple):
    """What one order bought: its lines and the totals the order row keeps."""

    lines: tuple  # (variant id, product name, sku, size, colour, unit price, quantity, total)
    subtotal: int
    shipping: int
    item_count: int
    summary: str


@dataclass
class Catalogue:
    shop_id: int
    owner_id: int
    handling_days: int
    baskets: list[Basket]  # orders pick one of these instead of assembling their own


def make_shops(seller_ids: list[int], rng: random.Random) -> list[Catalogue]:
    """A shop per seller, six products each in two to four sizes."""
    result = []
    for i, owner in enumerate(seller_ids):
        name = SHOP_NAMES[i] if i < len(SHOP_NAMES) else f"{SHOP_NAMES[i % 8]} {i // 8 + 1}"
        # The flat rate (when no carrier quotes one) is what the seeded baskets pay for
        # shipping, and takes as long as their estimated delivery.
        shop = Shop.create(owner=owner, name=name, slug=f"shop-{i + 1}",
                           handling_days=2 + i % 3, flat_rate_amount=499,
                           flat_rate_days=2 + i % 3 + 4)
        # The demo carrier is on, so that the background worker moves
        # shipped demo parcels along while `make run` is open.
        PluginConfig.create(shop=shop, plugin="demo", enabled=True,
                            settings='{"journeys": "mixed", "minutes_per_step": 1}')
        # The card test gateway and the wallet are on, so the demo buyer can check out with
        # a test card or the wallet (whose answers are signed with the shop's secret).
        PluginConfig.create(shop=shop, plugin="card", enabled=True, settings="{}")
        PluginConfig.create(shop=shop, plugin="wallet", enabled=True,
                            settings='{"display_name": "Demo Wallet"}', webhook_secret=new_secret())
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
        baskets = [_basket(variants, rng) for _ in range(BASKETS_PER_SHOP)]
        result.append(Catalogue(shop.id, owner, shop.handling_days, baskets))
    return result


def _basket(variants: list, rng: random.Random) -> Basket:
    """One to three of the shop's variants, mostly one of each."""
    lines, names = [], []
    for v_id, pname, sku, size, colour, price in rng.sample(variants, rng.randint(1, 3)):
        qty = 1 if rng.random() < .7 else rng.randint(2, 3)
        lines.append((v_id, pname, sku, size, colour, price, qty, price * qty))
        names.append(f"{pname} ({size}, {colour})" + (f" × {qty}" if qty > 1 else ""))
    subtotal = sum(line[-1] for line in lines)
    summary = names[0] + (f" + {len(names) - 1} more" if len(names) > 1 else "")
    return Basket(tuple(lines), subtotal, 0 if subtotal >= 5000 else 499,
                  sum(line[6] for line in lines), summary[:200])
