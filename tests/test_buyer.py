import re
from datetime import timedelta

import pytest

from portal.models import utcnow
from portal.orders.lifecycle import Status
from tests.factories import make_order, make_shipment, make_shop, make_user

ROW = re.compile(r'href="/orders/([0-9A-Z]{5}-[0-9A-Z]{5})"')


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return ROW.findall(response.get_data(as_text=True))


def tab_counts(html: str) -> dict[str, int]:
    return {label: int(n) for label, n in
            re.findall(r'>\s*(\w+) <span class="count">(\d+)</span>', html)}


@pytest.fixture
def history(buyer, shop):
    """The buyer's orders, one day apart, newest first: two of each status."""
    now = utcnow()
    orders = []
    for k, status in enumerate(list(Status) * 2):
        orders.append(make_order(buyer, shop, status=status.value,
                                 placed_at=now - timedelta(days=k),
                                 products=((f"Product {k}", 1000 + k, 1),)))
    return orders


def test_orders_page_shows_rows_tabs_and_counts(client, auth, history):
    auth.login()
    response = client.get("/orders")
    html = response.get_data(as_text=True)
    assert numbers(response) == [o.number for o in history]
    assert tab_counts(html) == {"All": 12, "Pending": 2, "Processed": 2, "Shipped": 2,
                                "Delivered": 2, "Cancelled": 2, "Returned": 2}
    first = history[0]
    assert "Northwind Threads" in html and "Product 0" in html and "$10.00" in html
    assert '<span class="badge status-pending">Pending</span>' in html
    assert f'{first.placed_at:%b} {first.placed_at.day}, {first.placed_at.year}' in html


@pytest.mark.parametrize("status", list(Status))
def test_status_tab_lists_only_that_status(client, auth, history, status):
    auth.login()
    response = client.get(f"/orders?status={status.value}")
    expected = [o.number for o in history if o.status == status.value]
    assert numbers(response) == expected
    assert f'aria-current="page">{status.label} <span class="count">2' in \
        response.get_data(as_text=True)


def test_unknown_status_is_a_clear_400(client, auth, history):
    auth.login()
    response = client.get("/orders?status=lost")
    assert response.status_code == 400
    assert "There is no status called &#39;lost&#39;." in response.get_data(as_text=True)


def test_search_by_number_shop_and_product(client, auth, buyer, seller, history):
    other_shop = make_shop(seller, "Harbour & Pine")
    special = make_order(buyer, other_shop, products=(("Wool beanie", 2400, 1),
                                                      ("Canvas tote", 2200, 2)))
    auth.login()
    target = history[3]
    assert numbers(client.get(f"/orders?q={target.number}")) == [target.number]
    # Typed loosely: lower case, no dash, an O for a zero.
    loose = target.number.replace("-", "").lower().replace("0", "o")
    assert numbers(client.get(f"/orders?q={loose}")) == [target.number]
    assert numbers(client.get("/orders?q=harbour")) == [special.number]
    assert numbers(client.get("/orders?q=canvas")) == [special.number]  # not the first line
    assert numbers(client.get("/orders?q=Product 1")) == [history[1].number, history[10].number,
                                                          history[11].number]
    assert numbers(client.get("/orders?status=shipped&q=Product 2")) == [history[2].number]
    empty = client.get("/orders?q=nothing-like-this")
    assert numbers(empty) == []
    assert "No orders match “nothing-like-this”" in empty.get_data(as_text=True)


def test_search_treats_wildcards_as_text(client, auth, buyer, shop, history):
    percent = make_order(buyer, shop, products=(("100% cotton tee", 1500, 1),))
    auth.login()
    assert numbers(client.get("/orders?q=%25")) == [percent.number]
    assert numbers(client.get("/orders?q=_")) == []


def test_pagination_walks_every_order_once_both_ways(app, client, auth, buyer, shop):
    app.config["PAGE_SIZE"] = 5
    now = utcnow()
    same_time = now - timedelta(days=3)
    orders = [make_order(buyer, shop, placed_at=now - timedelta(hours=k)) for k in range(7)]
    # Orders placed at the very same moment must not be skipped or repeated.
    orders += [make_order(buyer, shop, placed_at=same_time) for _ in range(5)]
    expected = [o.number for o in sorted(orders, key=lambda o: (o.placed_at, o.id), reverse=True)]
    auth.login()

    seen, url, pages = [], "/orders", []
    while url:
        response = client.get(url)
        pages.append(numbers(response))
        seen += pages[-1]
        older = re.search(r'href="([^"]+)" hx-get="[^"]+" rel="next"', response.get_data(as_text=True))
        url = older.group(1).replace("&amp;", "&") if older else None
    assert seen == expected
    assert [len(p) for p in pages] == [5, 5, 2]

    # And back again with "Newer orders" from the last page.
    newer = re.search(r'href="([^"]+)" hx-get="[^"]+" rel="prev"', response.get_data(as_text=True))
    assert numbers(client.get(newer.group(1).replace("&amp;", "&"))) == pages[1]


def test_a_forged_page_link_is_a_clear_400(client, auth, history):
    auth.login()
    response = client.get("/orders?before=not-a-cursor")
    assert response.status_code == 400
    assert "That page link is not valid" in response.get_data(as_text=True)


def test_htmx_gets_the_list_fragment_and_browsers_the_whole_page(client, auth, history):
    auth.login()
    fragment = client.get("/orders?status=shipped", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert html.startswith('<section id="order-list"')
    assert "<html" not in html and "Spent this month" not in html
    assert numbers(fragment) == [o.number for o in history if o.status == "shipped"]
    assert "HX-Request" in fragment.headers["Vary"]

    whole = client.get("/orders?status=shipped")
    assert whole.get_data(as_text=True).startswith("<!doctype html>")
    assert "HX-Request" in whole.headers["Vary"]

    # The back button after htmx's history cache expired asks for the whole page.
    restore = client.get("/orders?status=shipped",
                         headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert restore.get_data(as_text=True).startswith("<!doctype html>")


def test_list_links_work_without_javascript_and_push_urls_with_it(client, auth, history):
    auth.login()
    html = client.get("/orders").get_data(as_text=True)
    assert 'hx-push-url="true"' in html
    for href, hx in re.findall(r'<a href="(/orders\?status=\w+)" hx-get="([^"]+)"', html):
        assert href == hx  # the same URL with and without JavaScript
    assert '<form class="search" role="search" method="get" action="/orders"' in html


def test_spending_summary_counts_kept_orders_this_month_and_year(client, auth, buyer, shop,
                                                                seller):
    now = utcnow()
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    other = make_shop(seller, "Harbour & Pine")
    make_order(buyer, shop, status="delivered", placed_at=now, products=(("A", 2000, 1),))
    make_order(buyer, other, status="shipped", placed_at=now, products=(("B", 500, 1),))
    make_order(buyer, shop, status="cancelled", placed_at=now, products=(("C", 9900, 1),))
    make_order(buyer, shop, status="returned", placed_at=now, products=(("D", 7700, 1),))
    if month_start.month > 1:  # earlier this year, not this month
        make_order(buyer, shop, status="delivered", placed_at=month_start - timedelta(days=1),
                   products=(("E", 1000, 1),))
    make_order(buyer, shop, status="delivered",
               placed_at=now.replace(year=now.year - 1), products=(("F", 100000, 1),))
    auth.login()
    html = client.get("/orders").get_data(as_text=True)
    year_total = "$35.00" if month_start.month > 1 else "$25.00"
    assert "Spent this month: <strong>$25.00</strong>" in html
    assert f"this year: {year_total}" in html
    shops = re.findall(r"<tr><td>([^<]+)</td><td class=\"num\">([^<]+)</td></tr>", html)
    assert shops == [("Northwind Threads", "$30.00" if month_start.month > 1 else "$20.00"),
                     ("Harbour &amp; Pine", "$5.00")]


def test_spending_lists_the_top_five_shops_and_sums_the_rest(client, auth, buyer, seller):
    now = utcnow()
    for k in range(7):
        make_order(buyer, make_shop(seller, f"Shop {k}"), status="delivered", placed_at=now,
                   products=(("A", 1000 * (k + 1), 1),))
    auth.login()
    html = client.get("/orders").get_data(as_text=True)
    shops = re.findall(r"<tr><td>([^<]+)</td><td class=\"num\">([^<]+)</td></tr>", html)
    assert shops == [("Shop 6", "$70.00"), ("Shop 5", "$60.00"), ("Shop 4", "$50.00"),
                     ("Shop 3", "$40.00"), ("Shop 2", "$30.00"), ("2 other shops", "$30.00")]


def test_order_detail_shows_everything_about_the_order(client, auth, buyer, shop):
    order = make_order(buyer, shop, status="shipped", shipping=499,
                       products=(("Linen shirt", 3900, 2), ("Wool beanie", 2400, 1)))
    make_shipment(order, tracking_number="DP1234567890", events=(
        ("in_transit", "Picked up by carrier", "Portland, OR"),
        ("out_for_delivery", "Out for delivery", "")))
    auth.login()
    response = client.get(f"/orders/{order.number}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"<h1>Order {order.number}</h1>" in html
    assert '<span class="badge status-shipped">Shipped</span>' in html
    assert "Linen shirt" in html and "(M, White)" in html and "× 2" in html
    assert "$78.00" in html and "$24.00" in html  # line totals
    assert "<dt>Subtotal</dt><dd>$102.00</dd>" in html
    assert "<dt>Shipping</dt><dd>$4.99</dd>" in html
    assert '<dd class="grand">$106.99</dd>' in html
    assert "PORTLAND, OR 97205" in html and "UNITED STATES" in html
    assert "Visa •••• 4242" in html
    assert "Demo Parcel" in html and "DP1234567890" in html
    assert html.index("Out for delivery") < html.index("Picked up by carrier")  # newest first
    assert "Estimated delivery:" in html
    assert "Order placed" in html and "Bea Buyer" in html  # timeline, with who did it


def test_order_detail_without_shipment_explains_tracking_comes_later(client, auth, buyer, shop):
    order = make_order(buyer, shop, status="pending")
    auth.login()
    html = client.get(f"/orders/{order.number}").get_data(as_text=True)
    assert "Tracking appears here once the shop ships your order." in html


def test_order_number_in_the_url_may_be_typed_loosely(client, auth, buyer, shop):
    order = make_order(buyer, shop)
    auth.login()
    assert client.get(f"/orders/{order.number.lower()}").status_code == 200


def test_unknown_order_is_404(client, auth, buyer):
    auth.login()
    assert client.get("/orders/ZZZZZ-ZZZZZ").status_code == 404


def test_orders_pages_need_a_login(client, buyer, shop):
    order = make_order(buyer, shop)
    for url in ("/orders", f"/orders/{order.number}"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")


def test_empty_history_says_so(client, auth, buyer):
    auth.login()
    html = client.get("/orders").get_data(as_text=True)
    assert "You have no orders yet." in html
    assert "Spent this month" not in html


def test_multi_currency_totals_are_never_added_together(client, auth, buyer, shop, seller):
    eu = make_shop(seller, "Berlin Goods")
    make_order(buyer, shop, status="delivered", products=(("A", 1000, 1),))
    make_order(buyer, eu, status="delivered", currency="EUR", products=(("B", 2000, 1),))
    auth.login()
    html = client.get("/orders").get_data(as_text=True)
    month = re.search(r"Spent this month: <strong>([^<]+)</strong>", html).group(1)
    assert sorted(month.split(" + ")) == ["$10.00", "€20.00"]


def test_make_user_helper_creates_distinct_buyers(app):
    assert make_user("a@example.com").id != make_user("b@example.com").id


def test_a_new_buyers_empty_orders_page_says_how_orders_arrive_and_in_the_demo_whom_to_log_in_as(
        client, auth, app):
    from portal.demo import seed
    from tests.factories import make_user
    make_user("newcomer@example.com", name="New Comer")
    auth.login("newcomer@example.com")
    html = client.get("/orders").get_data(as_text=True)
    assert "You have no orders yet." in html and "the order appears here" in html
    assert "buyer-demo" not in html  # not a demo database: no demo login to offer
    with app.app_context():
        seed(30)
    html = client.get("/orders").get_data(as_text=True)
    assert "log in as <strong>buyer@example.com</strong>" in html and "buyer-demo" in html
    # A tab or a search with nothing in it keeps its short message.
    assert "buyer-demo" not in client.get("/orders?status=returned").get_data(as_text=True)
