"""The storefront: / lists the shops for everyone, a shop's products are a grid of cards
(price "from $X", "Only 3 left", "Sold out") in keyset pages, a product page shows its
variants; unknown shops and products, or a product of another shop, are a 404."""

import re

import pytest

from portal import catalogue
from portal.models import Product
from tests.factories import make_shop, make_user, make_variant


@pytest.fixture
def shirt(shop):
    product = Product.create(shop=shop, name="Linen shirt")
    return [make_variant(shop, product, size=size, colour="White", price=price, stock=stock)
            for size, price, stock in (("S", 3900, 10), ("M", 3900, 2), ("XL", 4400, 0))]


def test_the_shop_list_is_for_everyone(client, auth, buyer, shop, shop2, shirt):
    for who in (None, "buyer@example.com"):
        if who:
            auth.login(who)
        response = client.get("/")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert "Northwind Threads" in page and "Harbour and Pine" in page
        assert "1 product" in page and "No products yet" in page
        assert 'href="/shops/northwind-threads"' in page
    assert 'href="/orders"' in page  # the buyer's nav still leads to Orders


def test_the_seller_nav_still_leads_to_the_seller_center(client, auth, seller, shop):
    auth.login("seller@example.com")
    page = client.get("/").get_data(as_text=True)
    assert 'href="/seller/"' in page and "Shops" in page


def test_a_shop_is_a_grid_of_product_cards(client, shop, shirt):
    socks = make_variant(shop, "Running socks", price=1200, stock=0)
    make_variant(shop, "Wool beanie", price=2400, stock=50)
    page = client.get("/shops/northwind-threads").get_data(as_text=True)
    cards = re.findall(r'<li class="product-card[^"]*">(.*?)</li>', page, re.S)
    assert len(cards) == 3
    shirt_card, socks_card, beanie_card = cards
    assert "from $39.00" in shirt_card and "Only 2 left" not in shirt_card  # 12 left in all
    assert "Sold out" in socks_card and "$12.00" in socks_card and "from" not in socks_card
    assert "Sold out" not in beanie_card and "left" not in beanie_card
    assert f'/shops/northwind-threads/products/{socks.product_id}' in socks_card
    assert "<svg" in shirt_card and "<img" not in page  # a placeholder, no external image


def test_a_product_with_a_few_left_says_so(client, shop):
    make_variant(shop, "Rain shell", price=11900, stock=3)
    assert "Only 3 left" in client.get("/shops/northwind-threads").get_data(as_text=True)


def test_the_product_page_shows_each_variant_with_price_and_stock(client, shop, shirt):
    small, medium, xl = shirt
    page = client.get(f"/shops/northwind-threads/products/{small.product_id}").get_data(as_text=True)
    assert "<h1>Linen shirt</h1>" in page and "from $39.00" in page
    assert "Choose size and colour" in page
    variants = re.findall(r'<label class="variant[^"]*">(.*?)</label>', page, re.S)
    assert len(variants) == 3
    assert "S · White" in variants[0] and "In stock" in variants[0] and "checked" in variants[0]
    assert "Only 2 left" in variants[1]
    assert "$44.00" in variants[2] and "Sold out" in variants[2] and "disabled" in variants[2]
    assert 'action="/cart/lines"' in page and "Add to cart" in page


def test_a_product_sold_out_everywhere_offers_no_add_button(client, shop):
    gone = make_variant(shop, "Denim jacket", stock=0)
    page = client.get(f"/shops/northwind-threads/products/{gone.product_id}").get_data(as_text=True)
    assert "Sold out in every size and colour." in page and "Add to cart" not in page


def test_unknown_shops_and_products_are_a_404(client, shop, shop2, shirt):
    other = make_variant(shop2, "Canvas tote")
    product_id = shirt[0].product_id
    for url in ("/shops/nope", "/shops/nope/products/1",
                f"/shops/harbour-and-pine/products/{product_id}",  # another shop's product
                f"/shops/northwind-threads/products/{other.product_id}",
                "/shops/northwind-threads/products/99999999999999999999"):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("query", ["after=x", "before=-1", "after=%C2%B2", "after=99999999999"])
def test_a_bad_page_link_is_a_400(client, shop, query):
    for path in ("/", "/shops/northwind-threads"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400
        assert "That page link is not valid" in response.get_data(as_text=True)


def test_a_big_shop_is_paged_by_id(app, client, shop):
    app.config["PAGE_SIZE"] = 20
    products = [Product.create(shop=shop, name=f"Product {k:03d}") for k in range(45)]
    page = client.get("/shops/northwind-threads").get_data(as_text=True)
    assert page.count('class="product-card') == 20 and "Product 019" in page
    assert "Product 020" not in page and "← Previous" not in page
    second = re.search(r'href="([^"]+)" rel="next"', page).group(1).replace("&amp;", "&")
    page = client.get(second).get_data(as_text=True)
    assert "Product 020" in page and "Product 039" in page and "Product 019" not in page
    back = re.search(r'href="([^"]+)" rel="prev"', page).group(1).replace("&amp;", "&")
    assert back == f"/shops/northwind-threads?before={products[20].id}"
    page = client.get(back).get_data(as_text=True)
    assert "Product 000" in page and "Product 019" in page and "Product 020" not in page
    third = client.get(second.replace(str(products[19].id), str(products[39].id))).get_data(as_text=True)
    assert third.count('class="product-card') == 5 and 'rel="next"' not in third


def test_the_shop_list_is_paged_too(app, client):
    app.config["PAGE_SIZE"] = 3
    owner = make_user("s@example.com", role="seller")
    for k in range(5):
        make_shop(owner, f"Shop {k}")
    page = catalogue.shops(limit=3)
    assert [s.name for s in page.rows] == ["Shop 0", "Shop 1", "Shop 2"] and page.previous is None
    rest = catalogue.shops(after=page.next, limit=3)
    assert [s.name for s in rest.rows] == ["Shop 3", "Shop 4"] and rest.next is None
    assert "Shop 2" in client.get("/").get_data(as_text=True)
    assert "Shop 3" not in client.get("/").get_data(as_text=True)


def test_stock_hints():
    assert catalogue.stock_hint(0) == "Sold out" and catalogue.stock_hint(-2) == "Sold out"
    assert catalogue.stock_hint(5) == "Only 5 left" and catalogue.stock_hint(6) == ""


def test_the_demo_shops_show_their_products(client, app):
    from portal.demo import seed
    with app.app_context():
        seed(10)
    page = client.get("/").get_data(as_text=True)
    assert "Northwind Threads" in page and "6 products" in page
    shop_page = client.get("/shops/shop-1").get_data(as_text=True)
    assert shop_page.count('class="product-card') == 6
    first = re.search(r'href="(/shops/shop-1/products/\d+)"', shop_page).group(1)
    product = client.get(first).get_data(as_text=True)
    assert product.count('class="variant') >= 2 and "Add to cart" in product


def test_the_demo_shops_have_a_few_last_ones_and_sold_out_sizes(client, app):
    from portal.demo import seed
    with app.app_context():
        seed(10)
    shop_page = client.get("/shops/shop-1").get_data(as_text=True)
    products = re.findall(r'href="(/shops/shop-1/products/\d+)"', shop_page)
    pages = [client.get(url).get_data(as_text=True) for url in dict.fromkeys(products)]
    assert sum("Sold out in every size and colour." in page for page in pages) == 1
    assert any(re.search(r"Only [1-5] left", page) for page in pages)
    assert sum("Sold out" in page for page in pages) >= 2  # a product, and one size of another
    plenty = [page for page in pages if "Sold out" not in page and not re.search("Only", page)]
    assert len(plenty) >= 3  # most of the catalogue can be bought as before
