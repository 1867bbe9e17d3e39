"""The Orders page's queries read indexes, not whole tables (SQLite's plans).

At a million orders a table scan, or a table lookup per order of a busy buyer,
is what blows the 5 ms budget (bench/buyer_pages.py); the plans show it at any size.
"""

from datetime import date

import pytest

from portal.db import database, is_sqlite
from portal.orders import queries
from portal.orders.lifecycle import Status


def plan(sql_and_params) -> str:
    sql, params = sql_and_params
    return " | ".join(row[3] for row in database.execute_sql(f"EXPLAIN QUERY PLAN {sql}", params))


def test_orders_page_queries_use_the_buyer_indexes(app, buyer, count_queries):
    if not is_sqlite():
        pytest.skip("SQLite's query plans")
    page = queries.buyer_orders(buyer.id)
    queries.buyer_orders(buyer.id, status=Status.SHIPPED, before="20260101120000000000.5")
    queries.buyer_status_counts(buyer.id)
    queries.spending_summary(buyer.id, date(2026, 3, 1))
    assert page.rows == []
    list_all, list_tab, counts, spending = (plan(s) for s in count_queries.statements[-4:])
    assert "USING INDEX orders_buyer_id_placed_at_id" in list_all
    assert "USING INDEX orders_buyer_id_status_placed_at_id" in list_tab
    assert "USING COVERING INDEX orders_buyer_id_status_placed_at_id" in counts
    # The summary adds up a year of a busy buyer's orders from the index alone.
    assert "USING COVERING INDEX orders_buyer_id_placed_at_id" in spending
    for text in (list_all, list_tab, counts, spending):
        assert "SCAN" not in text.replace("SCAN CONSTANT", ""), text
