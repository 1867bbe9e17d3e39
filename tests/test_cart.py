"""Carts: one per buyer and shop, quantities 1-99 added up in one upsert, stock said,
totals recomputed on the server; the pages (whole, htmx fragment, no-JS forms) and
their object checks (someone else's line is a 404)."""

import re
import threading

import pytest

from portal import cart
from portal.db import database
from portal.models import Cart, CartLine, Variant
from tests.factories import PASSWORD, make_variant


@pytest.fixture
def shirt(shop):
    return make_variant(shop, "Linen shirt", size="M", price=3900, stock=10)


@pytest.fixture
def tote(shop2):
    return make_variant(shop2, "Canvas tote", size="", colour="Navy", price=2200, stock=3)


def lines_of(buyer):
    return {line.variant_id: line.quantity for line in
            CartLine.select().join(Cart).where(Cart.buyer == buyer.id)}


# -- the domain ------------------------------------------------------------------

def test_adding_a_variant_again_adds_to_its_quantity_in_one_line(buyer, shirt):
    cart.add(buyer, shirt.id, 2)
    added = cart.add(buyer, shirt.id, 3)
    assert added.quantity == 5 and added.description == "Linen shirt (M, White)"
    assert lines_of(buyer) == {shirt.id: 5}
    assert Cart.select().where(Cart.buyer == buyer.id).count() == 1


def test_one_cart_per_shop_shown_together_with_totals_in_minor_units(buyer, shirt, tote, shop):
    cart.add(buyer, shirt.id, 2)
    cart.add(buyer, tote.id, 1)
    second = make_variant(shop, "Wool beanie", size="L", price=2450, stock=5)
    cart.add(buyer, second.id, 3)
    carts = cart.carts_of(buyer.id)
    assert [c.shop_name for c in carts] == ["Northwind Threads", "Harbour and Pine"]
    assert carts[0].subtotal == 2 * 3900 + 3 * 2450 and carts[0].item_count == 5
    assert carts[1].subtotal == 2200 and carts[1].currency == "USD"
    assert cart.item_count(buyer.id) == 6
    assert all(c.can_check_out for c in carts)


def test_prices_are_read_afresh(buyer, shirt):
    cart.add(buyer, shirt.id, 2)
    Variant.update(price=4100).where(Variant.id == shirt.id).execute()
    assert cart.carts_of(buyer.id)[0].subtotal == 8200


@pytest.mark.parametrize("quantity", [None, 0, 100, 1000])
def test_a_quantity_outside_1_to_99_is_refused(buyer, shirt, quantity):
    with pytest.raises(cart.CartRefused) as refused:
        cart.add(buyer, shirt.id, quantity)
    assert refused.value.code == "cart.quantity"
    assert lines_of(buyer) == {}


def test_never_more_than_99_of_one_line_nor_more_than_the_stock(buyer, shop):
    plenty = make_variant(shop, "Running socks", stock=500)
    cart.add(buyer, plenty.id, 60)
    with pytest.raises(cart.CartRefused) as refused:
        cart.add(buyer, plenty.id, 40)
    assert refused.value.code == "cart.quantity"
    few = make_variant(shop, "Rain shell", stock=3)
    cart.add(buyer, few.id, 2)
    with pytest.raises(cart.CartRefused) as refused:
        cart.add(buyer, few.id, 2)
    assert refused.value.code == "cart.stock"
    assert "Only 3 left, and 2 are in your cart already." in refused.value.message
    assert lines_of(buyer) == {plenty.id: 60, few.id: 2}


def test_a_sold_out_variant_cannot_be_added(buyer, shop):
    gone = make_variant(shop, "Denim jacket", stock=0)
    with pytest.raises(cart.CartRefused) as refused:
        cart.add(buyer, gone.id, 1)
    assert refused.value.code == "cart.stock" and "sold out" in refused.value.message


def test_an_unknown_variant_is_not_found(buyer):
    for variant_id in (None, 999999):
        with pytest.raises(cart.CartRefused) as refused:
            cart.add(buyer, variant_id, 1)
        assert refused.value.code == "cart.not_found"


def test_a_sellers_own_shop_does_not_sell_to_itself(seller, shirt, tote):
    with pytest.raises(cart.CartRefused) as refused:
        cart.add(seller, shirt.id, 1)
    assert refused.value.code == "cart.own_shop"
    cart.add(seller, tote.id, 1)  # another shop sells to them
    assert lines_of(seller) == {tote.id: 1}


def test_a_line_whose_stock_ran_out_or_fell_says_so_and_holds_its_cart_back(buyer, shirt, tote):
    cart.add(buyer, shirt.id, 4)
    cart.add(buyer, tote.id, 1)
    Variant.update(stock=2).where(Variant.id == shirt.id).execute()
    Variant.update(stock=0).where(Variant.id == tote.id).execute()
    low, gone = cart.carts_of(buyer.id)
    assert low.lines[0].problem == "Only 2 left: lower the quantity to check out."
    assert gone.lines[0].problem == "Sold out: remove it to check out."
    assert not low.can_check_out and not gone.can_check_out
    cart.set_quantity(buyer, low.lines[0].id, 2)
    assert cart.carts_of(buyer.id)[0].can_check_out


def test_only_the_buyers_own_lines_change(buyer, buyer2, shirt):
    cart.add(buyer, shirt.id, 1)
    line = CartLine.get()
    for action in (lambda: cart.set_quantity(buyer2, line.id, 5),
                   lambda: cart.remove(buyer2, line.id)):
        with pytest.raises(cart.CartRefused) as refused:
            action()
        assert refused.value.code == "cart.not_found"
    assert lines_of(buyer) == {shirt.id: 1}
    with pytest.raises(cart.CartRefused) as refused:
        cart.set_quantity(buyer, line.id, 0)
    assert refused.value.code == "cart.quantity" and refused.value.shop_id == shirt.product.shop_id


def test_a_cart_holds_a_bounded_number_of_lines(buyer, shop, monkeypatch):
    monkeypatch.setattr(cart, "MAX_LINES_PER_CART", 2)
    variants = [make_variant(shop, f"P{k}") for k in range(3)]
    cart.add(buyer, variants[0].id, 1)
    cart.add(buyer, variants[1].id, 1)
    cart.add(buyer, variants[1].id, 1)  # more of a line already there is fine
    with pytest.raises(cart.CartRefused) as refused:
        cart.add(buyer, variants[2].id, 1)
    assert refused.value.code == "cart.full"


def test_removing_the_last_line_empties_the_cart_and_adding_again_refills_it(buyer, shirt):
    cart.add(buyer, shirt.id, 1)
    cart.remove(buyer, CartLine.get().id)
    assert cart.carts_of(buyer.id) == [] and cart.item_count(buyer.id) == 0
    cart.add(buyer, shirt.id, 2)
    assert lines_of(buyer) == {shirt.id: 2}


def test_twenty_adds_at_once_add_up_in_one_line(app, buyer, shop):
    socks = make_variant(shop, "Running socks", stock=500)
    barrier, errors = threading.Barrier(20), []

    def run():
        try:
            barrier.wait()
            cart.add(buyer, socks.id, 1)
        except BaseException as exc:  # noqa: BLE001 (handed to the test)
            errors.append(exc)
        finally:
            if not database.is_closed():
                database.close()

    threads = [threading.Thread(target=run) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert Cart.select().where(Cart.buyer == buyer.id).count() == 1
    assert lines_of(buyer) == {socks.id: 20}


# -- the pages --------------------------------------------------------------------

def test_the_cart_page_needs_a_log_in(client):
    response = client.get("/cart")
    assert response.status_code == 302 and "/login?next=%2Fcart" in response.headers["Location"]


def test_add_to_cart_by_a_visitor_logs_in_and_comes_back_to_the_choice(client, buyer, shirt):
    response = client.post("/cart/lines", data={"variant": str(shirt.id), "quantity": "2"})
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/login?next=")
    assert lines_of(buyer) == {}
    back = client.post(location, data={"email": "buyer@example.com", "password": PASSWORD})
    product = f"/shops/northwind-threads/products/{shirt.product_id}"
    assert back.headers["Location"] == f"{product}?variant={shirt.id}&quantity=2"
    page = client.get(back.headers["Location"]).get_data(as_text=True)
    assert re.search(rf'value="{shirt.id}" checked', page)
    assert 'name="quantity" min="1" max="99" value="2"' in page


def test_add_to_cart_then_the_badge_counts_the_items(client, auth, buyer, shirt):
    auth.login()
    assert 'id="cart-badge" class="cart-badge empty"' in client.get("/").get_data(as_text=True)
    response = client.post("/cart/lines", data={"variant": str(shirt.id), "quantity": "3"})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Added to your cart: Linen shirt (M, White) × 3." in page
    assert re.search(r'id="cart-badge" class="cart-badge">.*?3<', page)
    assert lines_of(buyer) == {shirt.id: 3}


def test_add_to_cart_refusals_are_messages_on_the_product(client, auth, buyer, shop, shirt):
    auth.login()
    for quantity in ("0", "²", "", "100"):
        response = client.post("/cart/lines", data={"variant": str(shirt.id), "quantity": quantity})
        assert response.status_code == 303
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "Choose a whole quantity from 1 to 99." in page
    assert client.post("/cart/lines", data={"variant": "999999", "quantity": "1"}).status_code == 404
    assert client.post("/cart/lines", data={"variant": "x", "quantity": "1"}).status_code == 404
    assert lines_of(buyer) == {}


def test_the_seller_browses_their_shop_but_cannot_buy_from_it(client, auth, seller, shirt):
    auth.login("seller@example.com")
    product = f"/shops/northwind-threads/products/{shirt.product_id}"
    page = client.get(product).get_data(as_text=True)
    assert "it doesn't sell to itself" in page and "Add to cart" not in page
    response = client.post("/cart/lines", data={"variant": str(shirt.id), "quantity": "1"})
    assert response.status_code == 303
    assert "your own shop" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert lines_of(seller) == {}


def test_the_cart_page_groups_by_shop_and_shows_the_totals(client, auth, buyer, shirt, tote):
    cart.add(buyer, shirt.id, 2)
    cart.add(buyer, tote.id, 1)
    auth.login()
    page = client.get("/cart").get_data(as_text=True)
    assert page.index("Northwind Threads") < page.index("Harbour and Pine")
    assert "$78.00" in page and "$22.00" in page
    assert 'id="cart-badge" class="cart-badge">' in page and ">3<" in page


def test_an_empty_cart_says_so(client, auth, buyer):
    auth.login()
    assert "Your cart is empty." in client.get("/cart").get_data(as_text=True)


def test_quantity_changed_without_javascript_redirects_back(client, auth, buyer, shirt):
    cart.add(buyer, shirt.id, 1)
    auth.login()
    line = CartLine.get()
    response = client.post(f"/cart/lines/{line.id}", data={"quantity": "4"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/cart#cart-{shirt.product.shop_id}"
    page = client.get("/cart").get_data(as_text=True)
    assert "Quantity updated." in page and "$156.00" in page


def test_quantity_changed_with_htmx_swaps_the_shops_cart_and_the_badge(client, auth, buyer,
                                                                       shirt, tote):
    cart.add(buyer, shirt.id, 1)
    cart.add(buyer, tote.id, 1)
    auth.login()
    line = CartLine.get(CartLine.variant == shirt.id)
    response = client.post(f"/cart/lines/{line.id}", data={"quantity": "3"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html and "Harbour and Pine" not in html
    assert f'id="cart-{shirt.product.shop_id}"' in html and "$117.00" in html
    assert re.search(r'id="cart-badge" class="cart-badge" hx-swap-oob="true">.*?4<', html)
    assert "HX-Request" in response.headers["Vary"]


def test_a_bad_quantity_is_a_message_beside_the_line(client, auth, buyer, shirt):
    cart.add(buyer, shirt.id, 2)
    auth.login()
    line = CartLine.get()
    for headers in ({}, {"HX-Request": "true"}):
        for value in ("0", "100", "²", "-1", ""):
            response = client.post(f"/cart/lines/{line.id}", data={"quantity": value},
                                   headers=headers)
            assert response.status_code == 422
            html = response.get_data(as_text=True)
            assert "Choose a whole quantity from 1 to 99." in html
            assert ("<html" in html) == (not headers)
    assert lines_of(buyer) == {shirt.id: 2}


def test_remove_with_and_without_htmx(client, auth, buyer, shirt, tote):
    cart.add(buyer, shirt.id, 1)
    cart.add(buyer, tote.id, 1)
    auth.login()
    first, second = CartLine.select().order_by(CartLine.id)
    response = client.post(f"/cart/lines/{first.id}/remove")
    assert response.status_code == 303
    assert "Removed from your cart." in client.get("/cart").get_data(as_text=True)
    response = client.post(f"/cart/lines/{second.id}/remove", headers={"HX-Request": "true"})
    assert "That cart is empty now." in response.get_data(as_text=True)
    assert lines_of(buyer) == {}


def test_someone_elses_lines_are_a_404(client, auth, buyer, buyer2, shirt):
    cart.add(buyer2, shirt.id, 1)
    line = CartLine.get()
    auth.login()
    assert client.post(f"/cart/lines/{line.id}", data={"quantity": "5"}).status_code == 404
    assert client.post(f"/cart/lines/{line.id}/remove").status_code == 404
    assert client.post("/cart/lines/99999999999999/remove").status_code == 404
    assert "Linen shirt" not in client.get("/cart").get_data(as_text=True)
    assert lines_of(buyer2) == {shirt.id: 1}


def test_a_line_out_of_stock_is_marked_on_the_page(client, auth, buyer, shirt):
    cart.add(buyer, shirt.id, 3)
    Variant.update(stock=1).where(Variant.id == shirt.id).execute()
    auth.login()
    page = client.get("/cart").get_data(as_text=True)
    assert "Only 1 left: lower the quantity to check out." in page
    assert "can't go to checkout" in page


def test_cart_forms_need_csrf(csrf_app, buyer, shop):
    shirt = make_variant(shop, "Linen shirt", stock=10)
    client = csrf_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post("/login", data={"email": "buyer@example.com", "password": PASSWORD,
                                "csrf_token": token})
    assert client.post("/cart/lines", data={"variant": str(shirt.id), "quantity": "1"}) \
        .status_code == 400
    product = client.get(f"/shops/northwind-threads/products/{shirt.product_id}")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', product.get_data(as_text=True)).group(1)
    assert client.post("/cart/lines", data={"variant": str(shirt.id), "quantity": "1",
                                            "csrf_token": token}).status_code == 303
    line = CartLine.get()
    assert client.post(f"/cart/lines/{line.id}", data={"quantity": "2"}).status_code == 400
    assert client.post(f"/cart/lines/{line.id}/remove").status_code == 400
    page = client.get("/cart").get_data(as_text=True)
    assert page.count('name="csrf_token"') >= 3  # log-out, quantity, remove
    assert lines_of(buyer) == {shirt.id: 1}
