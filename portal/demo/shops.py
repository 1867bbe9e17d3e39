"""The demo's shops: products in sizes and colours, and what orders buy from them."""

import random
from dataclasses import dataclass

from portal.hooks.shop_plugins import new_secret
from portal.models import PluginConfig, Product, Shop, Variant
from portal.orders.bulk import Basket, basket
from portal.orders.placing import line

SHOP_NAMES = ["Northwind Threads", "Harbour & Pine", "Lumen Home", "Kettle Kitchenware",
              "Fjord Outdoor", "Pebble Kids", "Juniper Beauty", "Atlas Sneakers"]
PRODUCTS = [("Linen shirt", 3900), ("Everyday tee", 1800), ("Wool beanie", 2400),
            ("Canvas tote", 2200), ("Denim jacket", 8900), ("Running socks", 1200),
            ("Rain shell", 11900), ("Cotton hoodie", 5400), ("Ceramic mug", 1600),
            ("Desk lamp", 4900), ("Yoga mat", 3500), ("Travel bottle", 2700)]
SIZES = ["S", "M", "L", "XL"]
COLOURS = ["Black", "White", "Sage", "Navy", "Sand"]
BASKETS_PER_SHOP = 1024  # a power of two: one getrandbits() picks one


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
                           flat_rate_days=2 + i % 3 + 4,
                           # Where parcels leave from, and returns come back to.
                           ship_from_name=name, ship_from_line1=f"{100 + i} Warehouse Row", ship_from_city="Portland",
                           ship_from_region="OR", ship_from_postal_code="97209",
                           ship_from_country="US")
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
            sizes = SIZES[:2 + j % 3]
            for k, size in enumerate(sizes):
                colour = COLOURS[(i + j) % len(COLOURS)]
                sku = f"S{shop.id}-P{product.id}-{size}"
                v = Variant.create(product=product, sku=sku, size=size, colour=colour,
                                   price=price, stock=stock_of(i, j, k, len(sizes)))
                variants.append((v, pname))
        baskets = [_basket(variants, rng) for _ in range(BASKETS_PER_SHOP)]
        result.append(Catalogue(shop.id, owner, shop.handling_days, baskets))
    return result


def stock_of(shop: int, product: int, size: int, sizes: int) -> int:
    """How many the ``shop``-th demo shop has of a variant: plenty, but for a few, so the
    storefront shows "Only N left" and "Sold out": in every shop the second product's
    largest size is sold out, the third product's smallest is down to its last one to
    four, and the fourth product is sold out in every size."""
    if product == 3 or (product == 1 and size == sizes - 1):
        return 0
    if product == 2 and size == 0:
        return 1 + shop % 4
    return 50 + (shop * product) % 40


def _basket(variants: list, rng: random.Random) -> Basket:
    """One to three of the shop's variants, mostly one of each."""
    lines = []
    for variant, pname in rng.sample(variants, rng.randint(1, 3)):
        lines.append(line(variant, pname, 1 if rng.random() < .7 else rng.randint(2, 3)))
    return basket(lines, shipping=shipping_for(sum(item.line_total for item in lines)))


def shipping_for(subtotal: int) -> int:
    """The demo shops' shipping: free from $50, else $4.99."""
    return 0 if subtotal >= 5000 else 499
