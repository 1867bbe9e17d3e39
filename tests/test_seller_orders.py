"""Order Management: tabs, filters, sorting, pages, bulk actions, CSV in and out."""

import csv
import io
import re
from datetime import timedelta

import pytest

from portal.db import is_sqlite
from portal.models import Order, OrderEvent, OrderLine, Shipment, utcnow
from portal.orders.lifecycle import Status
from portal.testing import enable
from tests.factories import make_order, make_shipment, make_user, make_variant

SELLER = "seller@example.com"
ROW = re.compile(r'href="/seller/orders/([0-9A-Z]{5}-[0-9A-Z]{5})"')


def listed(client, url) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return ROW.findall(response.get_data(as_text=True))


@pytest.fixture
def book(buyer, buyer2, shop, shop2):
    """The shop's orders, a day apart (newest first), plus another shop's."""
    now = utcnow()
    orders = []
    for k, status in enumerate(list(Status) * 2):
        orders.append(make_order(buyer if k % 2 else buyer2, shop, status=status.value,
                                 placed_at=now - timedelta(days=k, hours=1),
                                 products=((f"Product {k}", 1000 * (k % 5 + 1), 1),)))
    make_order(buyer, shop2, products=(("Elsewhere", 100, 1),))
    return orders


def test_tabs_with_counts_and_only_this_shops_orders(client, auth, book):
    auth.login(SELLER)
    response = client.get("/seller/orders")
    html = response.get_data(as_text=True)
    assert ROW.findall(html) == [o.number for o in book]
    counts = dict(re.findall(r'>\s*(\w+) <span class="count">(\d+)</span>', html))
    assert counts == {"All": "12", "Pending": "2", "Processed": "2", "Shipped": "2",
                      "Delivered": "2", "Cancelled": "2", "Returned": "2", "Delayed": "3",
                      "Requests": "0"}
    assert "Elsewhere" not in html


@pytest.mark.parametrize("status", list(Status))
def test_each_status_tab(client, auth, book, status):
    auth.login(SELLER)
    assert listed(client, f"/seller/orders?status={status.value}") == \
        [o.number for o in book if o.status == status.value]


def test_delayed_tab_uses_the_handling_time_and_estimated_delivery(client, auth, book, shop):
    # handling_days is 2: Pending/Processed older than 2 days, Shipped past its estimate.
    auth.login(SELLER)
    late = [o.number for o in book if
            (o.status in ("pending", "processed") and o.placed_at < utcnow() - timedelta(days=2))
            or (o.status == "shipped" and o.estimated_delivery < utcnow().date())]
    assert late and listed(client, "/seller/orders?status=delayed") == late
    html = client.get("/seller/orders").get_data(as_text=True)
    assert html.count('<span class="badge status-delayed">Delayed</span>') == len(late)
    shop.handling_days = 30
    shop.save()
    assert set(listed(client, "/seller/orders?status=delayed")) < set(late)


def test_search_by_number_buyer_product_and_tracking(client, auth, book):
    auth.login(SELLER)
    target = book[4]
    assert listed(client, f"/seller/orders?q={target.number.lower()}") == [target.number]
    by_buyer2 = [o.number for o in book if o.buyer.email == "buyer2@example.com"]
    assert listed(client, "/seller/orders?q=buyer2@example") == by_buyer2
    assert listed(client, "/seller/orders?q=Ben") == by_buyer2  # buyer2's name
    tote = make_variant(book[0].shop, "Canvas tote", size="One", colour="Sand", price=2200)
    bought = make_order(book[0].buyer, book[0].shop, variants=(tote,),
                        products=(("Canvas tote", 2200, 1),), placed_at=utcnow() - timedelta(days=30))
    assert listed(client, "/seller/orders?q=canvas") == [bought.number]  # the shop's products
    make_shipment(book[2], tracking_number="1Z999AA10123456784")
    assert listed(client, "/seller/orders?q=1z999aa10123456784") == [book[2].number]
    assert listed(client, "/seller/orders?q=Elsewhere") == []


def test_date_range_and_its_validation(client, auth, book):
    auth.login(SELLER)
    today = utcnow().date()
    since = today - timedelta(days=3)
    expected = [o.number for o in book if o.placed_at.date() >= since]
    assert listed(client, f"/seller/orders?placed_from={since}") == expected
    only = book[5].placed_at.date()
    assert listed(client, f"/seller/orders?placed_from={only}&placed_to={only}") == [book[5].number]
    bad = client.get(f"/seller/orders?placed_from={today}&placed_to={since}")
    assert bad.status_code == 400
    assert "The end date is before the start date." in bad.get_data(as_text=True)
    assert client.get("/seller/orders?placed_from=yesterday").status_code == 400


@pytest.mark.parametrize("sort,key,reverse", [
    ("newest", lambda o: (o.placed_at, o.id), True),
    ("oldest", lambda o: (o.placed_at, o.id), False),
    ("total_high", lambda o: (o.total, o.id), True),
    ("total_low", lambda o: (o.total, o.id), False),
])
def test_sorting_pages_through_everything_once(app, client, auth, book, sort, key, reverse,
                                               monkeypatch):
    monkeypatch.setattr("portal.web.seller.orders.PAGE_SIZE", 5)
    auth.login(SELLER)
    expected = [o.number for o in sorted(book, key=key, reverse=reverse)]
    seen, url = [], f"/seller/orders?sort={sort}"
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += ROW.findall(html)
        nxt = re.search(r'href="([^"]+)" hx-get="[^"]+" rel="next"', html)
        url = nxt.group(1).replace("&amp;", "&") if nxt else None
    assert seen == expected
    prev = re.search(r'href="([^"]+)" hx-get="[^"]+" rel="prev"', html).group(1).replace("&amp;", "&")
    assert ROW.findall(client.get(prev).get_data(as_text=True)) == expected[5:10]


def test_htmx_swaps_the_table_and_plain_requests_get_the_page(client, auth, book):
    auth.login(SELLER)
    fragment = client.get("/seller/orders?status=shipped", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert html.startswith('<section id="seller-orders"') and "<html" not in html
    assert ROW.findall(html) == [o.number for o in book if o.status == "shipped"]
    page = client.get("/seller/orders?status=shipped").get_data(as_text=True)
    assert page.startswith("<!doctype html>") and "Bulk shipping" in page


def test_order_management_queries_do_not_grow_with_rows(client, auth, buyer, shop,
                                                        count_queries):
    auth.login(SELLER)
    now = utcnow()
    for k in range(5):
        make_order(buyer, shop, placed_at=now - timedelta(hours=k))

    def queries(url):
        count_queries.statements.clear()
        assert client.get(url).status_code == 200
        return len(count_queries)

    urls = ["/seller/orders", "/seller/orders?status=delayed&sort=total_high",
            "/seller/orders?q=Linen&placed_from=2020-01-01"]
    few = [queries(u) for u in urls]
    for k in range(50):
        make_order(buyer, shop, placed_at=now - timedelta(days=1, hours=k),
                   products=(("Linen shirt", 100, 1), ("Wool beanie", 200, 2)))
    assert [queries(u) for u in urls] == few
    # user, shop, page of rows, status counts, delayed count, requests count, the nav's
    # unread messages and notifications badges (each row's own count rides on the order);
    # a search first reads the ids of what it matches, up to FEW_ORDERS (one more), and on
    # SQLite asks the text index how many people match (one more)
    assert few[:2] == [few[0]] * 2 and few[0] <= 8 and few[2] <= few[0] + 1 + is_sqlite()


def test_bulk_mark_processed_confirms_each_checklist_and_says_who(client, auth, buyer, shop):
    ready = make_order(buyer, shop)
    Order.update(address_verified=True).where(Order.id == ready.id).execute()
    OrderLine.update(picked=True).where(OrderLine.order == ready.id).execute()
    unchecked = make_order(buyer, shop)  # its checklist was never saved: bulk confirms it
    shipped = make_order(buyer, shop, status="shipped")
    auth.login(SELLER)
    response = client.post("/seller/orders/bulk", data={
        "action": "process", "order": [ready.number, unchecked.number, shipped.number],
        "back": "/seller/orders?status=pending"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/seller/orders?status=pending"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    done = sorted([ready.number, unchecked.number])
    assert f"each checklist confirmed by you (on its timeline): {', '.join(done)}." in html
    assert f"{shipped.number} (it is Shipped)" in html
    assert [Order.get_by_id(o.id).status for o in (ready, unchecked, shipped)] == \
        ["processed", "processed", "shipped"]
    stored = Order.get_by_id(unchecked.id)
    assert stored.address_verified and all(
        line.picked for line in OrderLine.select().where(OrderLine.order == unchecked.id))
    page = client.get(f"/seller/orders/{unchecked.number}").get_data(as_text=True)
    assert "Checklist confirmed in bulk by Sam Seller: all 1 line picked, address verified" in page
    events = OrderEvent.select().where((OrderEvent.order == unchecked.id)
                                       & (OrderEvent.kind == "checklist"))
    assert [(e.actor.name, e.internal) for e in events] == [("Sam Seller", True)]


def test_bulk_needs_ticked_orders_of_this_shop(client, auth, buyer, shop2, shop):
    theirs = make_order(buyer, shop2)
    auth.login(SELLER)
    response = client.post("/seller/orders/bulk", data={"action": "process",
                                                         "order": [theirs.number]})
    assert response.status_code == 303
    assert "Tick at least one order first." in client.get("/seller/orders").get_data(as_text=True)
    assert Order.get_by_id(theirs.id).status == "pending"


def test_packing_slips_print_the_ticked_orders(client, auth, buyer, shop):
    a = make_order(buyer, shop, products=(("Linen shirt", 3900, 2),))
    b = make_order(buyer, shop, products=(("Wool beanie", 2400, 1),))
    auth.login(SELLER)
    response = client.post("/seller/orders/bulk", data={"action": "packing_slips",
                                                         "order": [a.number, b.number]})
    assert response.status_code == 303
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert html.count('<article class="slip">') == 2
    assert a.number in html and b.number in html and "Wool beanie" in html
    assert "PORTLAND, OR 97205" in html


def test_csv_export_streams_the_filtered_list(client, auth, book):
    auth.login(SELLER)
    response = client.get("/seller/orders/export.csv?status=delivered")
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:3] == ["order_number", "placed_at", "status"]
    assert [r[0] for r in rows[1:]] == [o.number for o in book if o.status == "delivered"]
    assert {r[2] for r in rows[1:]} == {"delivered"}
    assert rows[1][12] in {"10.00", "20.00", "30.00", "40.00", "50.00"}  # total, major units


def test_csv_export_walks_every_batch(app, client, auth, buyer, shop, monkeypatch):
    from portal.orders import management
    original = management.export_rows
    monkeypatch.setattr(management, "export_rows",
                        lambda *a, **k: original(*a, **{**k, "batch": 3}))
    orders = [make_order(buyer, shop, placed_at=utcnow() - timedelta(minutes=k)) for k in range(8)]
    make_shipment(orders[0], tracking_number="TRACK-1")
    auth.login(SELLER)
    rows = list(csv.reader(io.StringIO(client.get("/seller/orders/export.csv").get_data(as_text=True))))
    assert [r[0] for r in rows[1:]] == [o.number for o in orders]
    assert rows[1][-1] == "TRACK-1"


def upload(client, text: str):
    return client.post("/seller/orders/ship-csv", data={
        "file": (io.BytesIO(text.encode()), "ship.csv")}, content_type="multipart/form-data")


def test_bulk_shipping_ships_good_rows_and_explains_bad_ones(client, auth, buyer, shop, shop2):
    enable(shop, "ups")  # a blank carrier is detected from the number
    ready = [make_order(buyer, shop, status="processed") for _ in range(2)]
    pending = make_order(buyer, shop)
    delivered = make_order(buyer, shop, status="delivered")
    theirs = make_order(buyer, shop2, status="processed")
    auth.login(SELLER)
    text = "\n".join([
        "order_number,carrier,tracking_number",
        f"{ready[0].number},manual,PKG-100001",
        f"{ready[1].number.lower().replace('-', '')},,1Z999AA10123456784",
        f"{pending.number},manual,PKG-100003",
        f"{delivered.number},manual,PKG-100004",
        f"{theirs.number},manual,PKG-100005",
        "NOPE0-NOPE0,manual,PKG-100006",
        f"{ready[0].number},manual,PKG-100007",
        f"{ready[1].number},pigeon,PKG-100008",
        ",manual,PKG-100009",
    ])
    response = upload(client, text)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "2 of 9 rows shipped." in html
    assert f"Order {pending.number} is Pending: complete its checklist first." in html
    assert f"Order {delivered.number} is Delivered, not waiting to ship." in html
    assert f"No order {theirs.number} in your shop." in html
    assert "No order NOPE0-NOPE0 in your shop." in html
    assert f"Order {ready[0].number} is already on line 2." in html
    assert "The order number is missing." in html
    assert [Order.get_by_id(o.id).status for o in ready] == ["shipped", "shipped"]
    assert [Order.get_by_id(o.id).status for o in (pending, delivered, theirs)] == \
        ["pending", "delivered", "processed"]
    assert sorted((s.carrier_code, s.tracking_number) for s in Shipment.select()) == [
        ("manual", "PKG-100001"), ("ups", "1Z999AA10123456784")]


def test_bulk_shipping_refuses_unreadable_files_without_changing_anything(client, auth, buyer,
                                                                         shop):
    order = make_order(buyer, shop, status="processed")
    auth.login(SELLER)
    empty = upload(client, "order_number,carrier,tracking_number\n")
    assert empty.status_code == 422 and "The file has no rows" in empty.get_data(as_text=True)
    binary = client.post("/seller/orders/ship-csv", data={
        "file": (io.BytesIO(b"caf\xe9,ups,1Z\n"), "x.csv")}, content_type="multipart/form-data")
    assert "not UTF-8 text" in binary.get_data(as_text=True)
    missing = client.post("/seller/orders/ship-csv", data={}, content_type="multipart/form-data")
    assert "Choose a CSV file to upload." in missing.get_data(as_text=True)
    assert Order.get_by_id(order.id).status == "processed"


def test_bulk_shipping_refuses_a_tracking_number_used_twice(client, auth, buyer, shop):
    a, b = make_order(buyer, shop, status="processed"), make_order(buyer, shop, status="processed")
    auth.login(SELLER)
    html = upload(client, f"{a.number},manual,SAME-000001\n{b.number},manual,SAME-000001\n") \
        .get_data(as_text=True)
    assert "1 of 2 rows shipped." in html
    assert f"Tracking number SAME-000001 is already used for order {a.number}." in html


def test_make_user_role(app):
    assert make_user("s3@example.com", role="seller").is_seller
