"""The tiered coupon plugin, tested with the fixtures the portal ships (portal.testing)."""

import pytest

from portal import cart
from portal.coupons import discounts, records
from portal.hooktypes import Cart, CartLine, Coupon
from portal.models import Product, User, Variant
from portal.testing import password_hash
from portal_coupon_example import TieredSettings, coupon_discounts, tier

SETTINGS = {"first_from": "50.00", "first_percent": 5, "second_from": "100.00",
            "second_percent": 10}


def a_cart(*prices):
    return Cart(1, 1, "USD", tuple(CartLine(k, k, p, 1) for k, p in enumerate(prices)))


@pytest.mark.parametrize("subtotal,percent", [(4999, 0), (5000, 5), (9999, 5), (10000, 10)])
def test_the_tiers_at_their_edges(subtotal, percent):
    assert tier(subtotal, SETTINGS, "USD") == percent


def test_the_discount_and_the_refusal():
    [d] = coupon_discounts(a_cart(6000, 4000), [Coupon("MORE", "tiered", SETTINGS)])
    assert (d.amount, d.description) == (1000, "10% off for spending more")
    from portal.hooktypes import PluginRefusal
    with pytest.raises(PluginRefusal, match=r"Spend \$50.00 or more"):
        coupon_discounts(a_cart(1000), [Coupon("MORE", "tiered", SETTINGS)])


def test_the_settings_form_wants_the_second_tier_above_the_first():
    form = TieredSettings(data={**SETTINGS, "second_from": "40.00"})
    assert not form.validate() and "above the first" in form.second_from.errors[0]


def test_the_portal_offers_the_kind_once_the_shop_turns_it_on(portal_shop, enable_plugin):
    assert "tiered" not in [k.code for _, k in discounts.kinds(portal_shop)]
    enable_plugin(portal_shop, "tiered")
    assert "tiered" in [k.code for _, k in discounts.kinds(portal_shop)]


def test_a_buyer_gets_the_tier_at_checkout(portal_shop, enable_plugin):
    enable_plugin(portal_shop, "tiered")
    records.save(portal_shop, records.Draft(name="Spend more", plugin="tiered", kind="tiered",
                                            code="MORE", settings=SETTINGS))
    buyer = User.create(email="b@example.com", name="B", password_hash=password_hash())
    product = Product.create(shop=portal_shop, name="Lamp")
    lamp = Variant.create(product=product, sku="LAMP", price=3000, stock=10)
    cart.add(buyer, lamp.id, 2)
    mine = cart.carts_of(buyer.id)[0]
    done = discounts.evaluate(portal_shop, buyer, mine, shipping=0, codes=["more"])
    assert done.discount == 300 and done.line_discounts == {lamp.id: 300}  # 5% of $60
