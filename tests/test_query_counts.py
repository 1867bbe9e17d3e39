"""Pages cost a fixed number of queries, however many rows they show."""

from datetime import timedelta

from portal.models import utcnow
from portal.testing import enable
from tests.factories import make_order, make_shipment


def page_queries(client, count_queries, url, **kwargs) -> int:
    count_queries.statements.clear()
    response = client.get(url, **kwargs)
    assert response.status_code == 200
    return len(count_queries)


def test_orders_page_queries_do_not_grow_with_rows(app, client, auth, buyer, shop, count_queries):
    app.config["PAGE_SIZE"] = 50
    auth.login()
    now = utcnow()
    make_order(buyer, shop, placed_at=now)
    for k in range(4):
        make_order(buyer, shop, placed_at=now - timedelta(minutes=k + 1),
                   products=(("A", 100, 1), ("B", 200, 2)))
    five = page_queries(client, count_queries, "/orders")
    five_fragment = page_queries(client, count_queries, "/orders", headers={"HX-Request": "true"})
    five_search = page_queries(client, count_queries, "/orders?q=A")

    for k in range(45):
        make_order(buyer, shop, placed_at=now - timedelta(hours=k + 1),
                   products=(("A", 100, 1), ("B", 200, 2)))
    fifty = page_queries(client, count_queries, "/orders")
    assert client.get("/orders").get_data(as_text=True).count('class="order-row"') == 50
    # user, tab counts, page of rows, spending summary, the nav's unread messages and
    # unread-notifications badges (one statement, each a read of a partial index;
    # fragments draw no nav)
    assert fifty == five <= 5
    assert page_queries(client, count_queries, "/orders", headers={"HX-Request": "true"}) \
        == five_fragment <= 3
    assert page_queries(client, count_queries, "/orders?q=A") == five_search


def test_order_detail_queries_do_not_grow_with_lines_or_events(client, auth, buyer, shop,
                                                               count_queries):
    auth.login()
    small = make_order(buyer, shop, status="shipped")
    make_shipment(small, tracking_number="DP1")
    big = make_order(buyer, shop, status="shipped",
                     products=tuple((f"P{k}", 100, 1) for k in range(20)))
    for k in range(3):
        make_shipment(big, tracking_number=f"DP{k + 2}",
                      events=tuple(("in_transit", f"Step {j}", "") for j in range(8)))
    small_count = page_queries(client, count_queries, f"/orders/{small.number}")
    big_count = page_queries(client, count_queries, f"/orders/{big.number}")
    # user, order, lines, timeline, packages, their tracking events, their contents,
    # the shop's plugin settings (for the carriers' tracking links), the buyer's requests,
    # the coupons used on it or offered for it, its messages, the nav's two badges (one)
    assert small_count == big_count <= 12


def test_delivered_order_page_reads_its_windows_from_what_it_has(client, auth, buyer, shop,
                                                                   count_queries):
    from portal.models import OrderRequest, Shipment
    auth.login()
    order = make_order(buyer, shop, status="delivered",
                       products=(("A", 100, 1), ("B", 200, 2)))
    make_shipment(order, tracking_number="DP1")
    Shipment.update(delivered_at=utcnow() - timedelta(days=2)).execute()
    url = f"/orders/{order.number}"
    page = client.get(url).get_data(as_text=True)
    assert "Return this order" in page  # the return window (from the parcels read) is open
    # user, order, lines (with whether each is returnable), timeline, packages, their
    # tracking events, their contents, the plugin settings, requests, coupons, the review,
    # messages, the nav's badges: the delivery day, the returnable lines and the
    # returned items come from what the page has already read
    assert page_queries(client, count_queries, url) == 13
    OrderRequest.create(order=order.id, shop=shop.id, kind="return", status="open",
                        created_by=buyer.id, reason="Broken")
    # a return that waits: the items it holds are read (one statement more)
    assert page_queries(client, count_queries, url) == 14


def test_seller_order_page_queries_do_not_grow_and_ask_no_carrier(client, auth, buyer, shop,
                                                                  count_queries):
    enable(shop, "demo")
    auth.login("seller@example.com")
    counts = {}
    for status in ("pending", "processed", "shipped"):
        small = make_order(buyer, shop, status=status)
        big = make_order(buyer, shop, status=status,
                         products=tuple((f"P{k}", 100, 1) for k in range(20)))
        if status == "shipped":
            make_shipment(small, tracking_number="DP1")
            for k in range(3):
                make_shipment(big, tracking_number=f"DP{k + 2}")
        counts[status] = {page_queries(client, count_queries, f"/seller/orders/{o.number}")
                          for o in (small, big)}
    # user, shop, order, lines, timeline, packages (+ their contents and scans when
    # shipped), the requests waiting (which also say what holds shipping), the variants
    # to switch to, the payment ledger's rows; a Processed order's label rates are a
    # fragment of their own now; its messages and the nav's unread messages.
    assert all(len(found) == 1 for found in counts.values()), counts  # constant
    limits = {"pending": 13, "processed": 13, "shipped": 14}  # + the notification badge
    assert all(max(counts[status]) <= limit for status, limit in limits.items()), counts
    assert max(counts["processed"]) <= max(counts["pending"])  # no hold query, no carrier


def test_storefront_pages_cost_the_same_for_2_or_40_products(app, client, auth, buyer, shop,
                                                             count_queries):
    from portal.models import Product
    from tests.factories import make_variant
    app.config["PAGE_SIZE"] = 50
    first = Product.create(shop=shop, name="P0")
    for size in ("S", "M", "L"):
        make_variant(shop, first, size=size)
    make_variant(shop, "P1")
    anonymous = {path: page_queries(client, count_queries, path)
                 for path in ("/", "/shops/northwind-threads",
                              f"/shops/northwind-threads/products/{first.id}")}
    for k in range(38):
        product = Product.create(shop=shop, name=f"Q{k}")
        for size in ("S", "M", "L", "XL"):
            make_variant(shop, product, size=size)
        make_variant(shop, first, size=f"X{k}")
    more = {path: page_queries(client, count_queries, path) for path in anonymous}
    assert more == anonymous
    # the shops and their product counts; the shop and its products' page and figures;
    # the product with its shop, its variants; the shop's rating (its latest reviews only
    # once it has some: tests/test_reviews.py)
    assert anonymous == {"/": 2, "/shops/northwind-threads": 4,
                         f"/shops/northwind-threads/products/{first.id}": 2}
    auth.login()  # the cart badge rides in the session: one query for the user, none for it;
    # one statement for the nav's unread messages and notifications (they arrive from others)
    assert page_queries(client, count_queries, "/") == 4


def test_cart_page_costs_the_same_for_1_or_40_lines(app, client, auth, buyer, shop, shop2,
                                                    count_queries):
    from portal import cart
    from portal.models import CartLine
    from tests.factories import make_variant
    cart.add(buyer, make_variant(shop, "P0").id, 1)
    auth.login()
    one = page_queries(client, count_queries, "/cart")
    line = CartLine.get()
    count_queries.statements.clear()
    client.post(f"/cart/lines/{line.id}", data={"quantity": "2"}, headers={"HX-Request": "true"})
    one_change = len(count_queries)
    for k in range(20):
        cart.add(buyer, make_variant(shop, f"A{k}").id, 2)
        cart.add(buyer, make_variant(shop2, f"B{k}").id, 1)
    forty = page_queries(client, count_queries, "/cart")
    count_queries.statements.clear()
    client.post(f"/cart/lines/{line.id}", data={"quantity": "3"}, headers={"HX-Request": "true"})
    assert len(count_queries) == one_change <= 5  # user, the line, update, touch the cart, carts
    assert forty == one <= 3  # the user, every cart with its lines, the nav's two badges
    assert client.get("/cart").get_data(as_text=True).count('<li class="cart-line') == 41


def test_checkout_review_costs_the_same_for_1_or_40_lines(app, client, auth, buyer, shop,
                                                          count_queries):
    from portal import cart
    from tests.factories import make_variant
    from tests.test_checkout import to_review
    enable(shop, "card")
    auth.login()
    cart.add(buyer, make_variant(shop, "P0").id, 1)
    to_review(client, shop)
    one = page_queries(client, count_queries, f"/checkout/{shop.slug}")
    for k in range(39):
        cart.add(buyer, make_variant(shop, f"A{k}").id, 2)
    forty = page_queries(client, count_queries, f"/checkout/{shop.slug}")
    assert forty == one <= 9, one  # user, shop, carts, saved addresses, plugin settings, badges
    assert client.get(f"/checkout/{shop.slug}").get_data(as_text=True).count("× 2") == 39
