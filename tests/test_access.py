"""A buyer only ever sees their own orders: by URL, by tab, by search, by page link."""

import re

import pytest

from portal.orders.lifecycle import Status
from portal.orders.queries import encode_cursor
from tests.factories import make_order


@pytest.fixture
def orders_of_both(buyer, buyer2, shop):
    mine = [make_order(buyer, shop, status=s.value, products=(("Mine", 100, 1),)) for s in Status]
    theirs = [make_order(buyer2, shop, status=s.value, products=(("Theirs", 100, 1),))
              for s in Status]
    return mine, theirs


def listed(client, url) -> set[str]:
    return set(re.findall(r'/orders/([0-9A-Z]{5}-[0-9A-Z]{5})', client.get(url).get_data(as_text=True)))


def test_another_buyers_order_is_404_by_url(client, auth, orders_of_both):
    mine, theirs = orders_of_both
    auth.login("buyer2@example.com")
    for order in mine:
        response = client.get(f"/orders/{order.number}")
        assert response.status_code == 404
        assert order.number not in response.get_data(as_text=True)
    assert client.get(f"/orders/{theirs[0].number}").status_code == 200


def test_no_filter_reveals_another_buyers_orders(client, auth, orders_of_both):
    mine, theirs = orders_of_both
    auth.login("buyer2@example.com")
    own = {o.number for o in theirs}
    urls = ["/orders", "/orders?q=Mine", f"/orders?q={mine[0].number}",
            f"/orders?before={encode_cursor(mine[0])}", f"/orders?after={encode_cursor(mine[-1])}"]
    urls += [f"/orders?status={s.value}" for s in Status]
    urls += [f"/orders?status={s.value}&q={m.number}" for s, m in zip(Status, mine)]
    for url in urls:
        assert listed(client, url) <= own, url
    assert listed(client, "/orders?q=Mine") == set()


def test_counts_and_spending_are_the_buyers_own(client, auth, buyer2, shop, orders_of_both):
    make_order(buyer2, shop, status="delivered", products=(("Extra", 100, 1),))
    auth.login("buyer2@example.com")
    html = client.get("/orders").get_data(as_text=True)
    assert 'All <span class="count">7</span>' in html
    assert "Spent this month: <strong>$5.00</strong>" in html  # 4 kept of theirs + extra


def test_logged_out_visitor_sees_no_order(client, orders_of_both):
    mine, _ = orders_of_both
    response = client.get(f"/orders/{mine[0].number}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
