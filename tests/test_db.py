"""portal.db's prepared queries: peewee builds their SQL once per database, and each
run gives the rows of its own values, as the query would."""

from portal.db import prepared
from portal.models import Order, Shop
from tests.factories import make_order


def test_a_prepared_query_gives_the_rows_of_each_runs_values(app, buyer, buyer2, shop, shop2,
                                                             count_queries):
    built = []

    @prepared
    def orders_of(buyer_id, shop_id):
        built.append(buyer_id)
        return (Order.select(Order, Shop).join(Shop)
                .where((Order.buyer == buyer_id) & (Order.shop == shop_id)).order_by(Order.id))

    mine = [make_order(buyer, shop), make_order(buyer, shop)]
    theirs = make_order(buyer2, shop2, currency="EUR")
    expected = [(o.id, o.number, o.total, shop.name) for o in mine]
    count_queries.statements.clear()
    assert [(o.id, o.number, o.total, o.shop.name) for o in orders_of(buyer.id, shop.id)] \
        == expected
    found = list(orders_of(buyer2.id, shop2.id))
    assert [(o.id, o.currency, o.shop.name) for o in found] == [(theirs.id, "EUR", shop2.name)]
    assert list(orders_of(buyer.id, shop2.id)) == []
    assert len(count_queries) == 3  # one statement a run
    assert len(built) == 1  # the query was built once, for the first run
