"""Both order searches read the text index (portal/orders/search.py, migration 0018): it
follows every write in the same transaction, finds substrings anywhere ("ea Buy"), takes
any characters as text, falls back to bounded searches for short text, and the query
plans use it."""

import re
from datetime import datetime, timedelta

import pytest
from peewee import SqliteDatabase

from portal import migrations

from portal.db import database, is_sqlite
from portal.models import Order, Product, Shop, User, utcnow
from portal.orders import management, queries, search
from portal.orders.management import Filters
from portal.orders.numbers import normalise
from tests.factories import make_order, make_shipment, make_variant
from tests.test_migrations import _insert, _seed_first_schema, scratch  # noqa: F401 (fixture)

SELLER = "seller@example.com"
SELLER_ROW = re.compile(r'href="/seller/orders/([0-9A-Z]{5}-[0-9A-Z]{5})"')
BUYER_ROW = re.compile(r'href="/orders/([0-9A-Z]{5}-[0-9A-Z]{5})"')


def seller_finds(client, q: str) -> list[str]:
    response = client.get("/seller/orders", query_string={"q": q})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return SELLER_ROW.findall(response.get_data(as_text=True))


def buyer_finds(client, q: str) -> list[str]:
    response = client.get("/orders", query_string={"q": q})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return BUYER_ROW.findall(response.get_data(as_text=True))


@pytest.fixture
def orders(buyer, buyer2, shop, shop2):
    """Bea's mug order and Ben's tote order at Northwind, Bea's order at the other shop."""
    now = utcnow()
    mug = make_variant(shop, "Stoneware mug", size="One", colour="Blue", price=1500)
    tote = make_variant(shop, "Canvas tote", size="One", colour="Sand", price=2200)
    return {
        "mug": make_order(buyer, shop, variants=(mug,), products=(("Stoneware mug", 1500, 1),),
                          placed_at=now - timedelta(hours=1)),
        "tote": make_order(buyer2, shop, variants=(tote,), products=(("Canvas tote", 2200, 1),),
                           placed_at=now - timedelta(hours=2)),
        "elsewhere": make_order(buyer, shop2, products=(("Harbour lamp", 5000, 1),),
                                placed_at=now - timedelta(hours=3)),
    }


def test_a_substring_anywhere_is_found(client, auth, orders):
    auth.login(SELLER)
    assert seller_finds(client, "ea Buy") == [orders["mug"].number]  # inside "Bea Buyer"
    assert seller_finds(client, "ea buy") == [orders["mug"].number]  # any case
    assert seller_finds(client, "ER2@EXAMPLE") == [orders["tote"].number]
    assert seller_finds(client, "neware m") == [orders["mug"].number]
    assert seller_finds(client, "Harbour") == []  # another shop's product
    auth.logout()
    auth.login()
    assert buyer_finds(client, "oneware") == [orders["mug"].number]
    assert buyer_finds(client, "rthwind Thr") == [orders["mug"].number]  # the shop's name
    assert buyer_finds(client, "bour and Pi") == [orders["elsewhere"].number]
    assert buyer_finds(client, "Canvas") == []  # Ben's order, not Bea's


def test_the_index_follows_renames_address_changes_new_orders_and_shipments(
        client, auth, buyer, buyer2, shop, orders):
    auth.login(SELLER)
    Product.update(name="Porcelain cup").where(Product.name == "Stoneware mug").execute()
    assert seller_finds(client, "Porcelain") == [orders["mug"].number]
    assert seller_finds(client, "Stoneware") == []

    buyer2.email, buyer2.name = "benjamin@example.org", "Benjamin Marsh"
    buyer2.save()
    assert seller_finds(client, "benjamin@exam") == [orders["tote"].number]
    assert seller_finds(client, "Marsh") == [orders["tote"].number]
    assert seller_finds(client, "buyer2@") == []
    assert seller_finds(client, "Ben Buyer") == []

    make_shipment(orders["tote"], tracking_number="9400111899223817")
    assert seller_finds(client, "9400 1118 9922 3817") == [orders["tote"].number]

    later = make_order(buyer, shop, products=(("Walnut tray", 4100, 1),))
    auth.logout()
    auth.login()
    assert buyer_finds(client, "alnut tr") == [later.number]
    Shop.update(name="Southwind Goods").where(Shop.id == shop.id).execute()
    assert buyer_finds(client, "outhwind") == [later.number, orders["mug"].number]
    assert buyer_finds(client, "Northwind") == []


def test_many_people_matching_give_the_same_orders(client, auth, orders, monkeypatch):
    auth.login(SELLER)
    few = seller_finds(client, "Buyer")  # Bea and Ben: their orders as an id set
    monkeypatch.setattr(management, "FEW_BUYERS", 1)  # now "many": tested row by row
    assert seller_finds(client, "Buyer") == few == [orders["mug"].number, orders["tote"].number]
    assert seller_finds(client, "ea Buy") == [orders["mug"].number]  # one is still few
    assert seller_finds(client, "@example.com") == few


def test_many_line_names_matching_give_the_same_orders(client, auth, orders, monkeypatch):
    auth.login()
    short = buyer_finds(client, "e")  # short: a scan of the buyer's own lines
    assert buyer_finds(client, "one") == [orders["mug"].number]
    monkeypatch.setattr(search, "FEW_NAMES", 0)  # now "many": the names as a subquery
    assert buyer_finds(client, "one") == [orders["mug"].number]
    assert buyer_finds(client, "amp") == [orders["elsewhere"].number]  # "Harbour lamp"
    assert short == [orders["mug"].number, orders["elsewhere"].number]


def test_a_write_rolled_back_leaves_the_index_as_it_was(client, auth, orders, buyer2):
    with database.atomic() as transaction:
        User.update(name="Nobody Known").where(User.id == buyer2.id).execute()
        transaction.rollback()
    auth.login(SELLER)
    assert seller_finds(client, "Nobody Known") == []
    assert seller_finds(client, "Ben Buyer") == [orders["tote"].number]


def test_short_text_has_bounded_fallbacks(client, auth, orders):
    mug, tote, elsewhere = orders["mug"], orders["tote"], orders["elsewhere"]

    def plus_numbers(q, found, among):  # an order whose number starts so matches too
        return [o.number for o in among if o in found or o.number.startswith(normalise(q))]

    auth.login(SELLER)
    # Under three characters: the order number's start and the shop's product names...
    assert seller_finds(client, mug.number[:2]) == plus_numbers(mug.number[:2], [mug],
                                                                [mug, tote])
    assert seller_finds(client, "mu") == plus_numbers("mu", [mug], [mug, tote])
    # ...but not the buyers' names: that would be a scan of every person.
    assert seller_finds(client, "Be") == plus_numbers("Be", [], [mug, tote])
    auth.logout()
    auth.login()
    # The buyer's own orders are few: a scan of them answers short text in full.
    assert buyer_finds(client, "mu") == plus_numbers("mu", [mug], [mug, elsewhere])
    assert buyer_finds(client, "rb") == plus_numbers("rb", [elsewhere], [mug, elsewhere])


@pytest.mark.parametrize("q", ['"', '""', "'", "AND", "a AND b", "OR", "NOT", "*", "mug*",
                               "NEAR(mug tote)", "name:mug", "^mug", "-mug", "(", ")",
                               "%", "_", "%_%", "\\", "a\\b", "{name}:x", "🙂🙂🙂"])
def test_any_characters_are_text_to_look_for(client, auth, orders, q):
    auth.login(SELLER)
    seller_finds(client, q)  # no error, whatever was typed
    auth.logout()
    auth.login()
    buyer_finds(client, q)


def test_fts_syntax_in_a_name_is_found_as_written(client, auth, buyer, shop):
    odd = make_order(buyer, shop, products=(('Mug "AND" * 100% _cotton_ NEAR(x)', 900, 1),))
    plain = make_order(buyer, shop, products=(("Mug and cotton", 900, 1),))
    auth.login()
    for q in ('"AND" *', "100% _cot", "NEAR(x)", '"AND'):
        assert buyer_finds(client, q) == [odd.number], q
    assert buyer_finds(client, "mug and") == [plain.number]


def _plan(query) -> str:
    sql, params = query.sql()
    prefix = "EXPLAIN QUERY PLAN " if is_sqlite() else "EXPLAIN "
    rows = database.execute_sql(prefix + sql, params).fetchall()
    return "\n".join(str(row[-1]) for row in rows)


def test_the_query_plans_read_the_index(app, buyer, shop, orders):
    with database.connection_context():
        # as the pages run them: newest first, one page
        seller_query = (management.filtered(shop, Filters(q="ea Buy"), utcnow())
                        .order_by(Order.placed_at.desc(), Order.id.desc()).limit(51))
        buyer_query = (Order.select(Order.id).join(Shop)
                       .where((Order.buyer == buyer.id) & queries.search_clause("oneware"))
                       .order_by(Order.placed_at.desc(), Order.id.desc()).limit(21))
        if is_sqlite():
            seller_plan, buyer_plan = _plan(seller_query), _plan(buyer_query)
            # the people are looked up first (at most FEW_BUYERS + 1), then their orders
            # are an id set from the buyer index
            people = database.execute_sql(
                'EXPLAIN QUERY PLAN SELECT rowid FROM "user_search" WHERE "user_search" '
                "MATCH ? LIMIT ?", ['"ea Buy"', 201]).fetchall()
            assert "SCAN user_search VIRTUAL TABLE INDEX" in str(people), people
            assert "USING COVERING INDEX orders_buyer_id" in seller_plan, seller_plan
            assert "USING COVERING INDEX orders_number (number>? AND number<?)" \
                in seller_plan, seller_plan  # the number's prefix, a range of its index
            assert "SCAN product_search VIRTUAL TABLE INDEX" in seller_plan, seller_plan
            assert "SCAN shop_search VIRTUAL TABLE INDEX" in buyer_plan, buyer_plan
            names = database.execute_sql(
                'EXPLAIN QUERY PLAN SELECT "name" FROM "line_name" WHERE "id" IN (SELECT rowid '
                'FROM "line_name_search" WHERE "line_name_search" MATCH ? LIMIT ?)',
                ['"oneware"', 501]).fetchall()
            assert "SCAN line_name_search VIRTUAL TABLE INDEX" in str(names), names
            assert "SEARCH t3 USING INDEX order_line_order_id" in buyer_plan, buyer_plan
            # and no table is read whole ("SCAN t3"): every other step is an index SEARCH
            assert not re.search(r"^SCAN t\d", seller_plan + "\n" + buyer_plan, re.M), \
                seller_plan + buyer_plan
        else:
            indexes = {name for (name,) in database.execute_sql(
                "SELECT indexname FROM pg_indexes WHERE position('gin_trgm_ops' in indexdef) > 0")}
            assert indexes >= {"user_name_trgm", "user_email_trgm", "product_name_trgm",
                               "shop_name_trgm", "line_name_name_trgm"}
            with database.atomic() as transaction:  # all of it undone at the end
                # A few thousand names, as a shop's history has: on three rows a read of
                # the whole unique index is rightly cheaper than the trigram index.
                database.execute_sql(
                    "INSERT INTO line_name (name) SELECT 'Filler product ' || n "
                    "FROM generate_series(1, 5000) AS n")
                # (and moved out of the index's pending list, as autovacuum would do)
                database.execute_sql("SELECT gin_clean_pending_list('line_name_name_trgm')")
                database.execute_sql("ANALYZE line_name")
                database.execute_sql("SET LOCAL enable_seqscan = off")
                seller_plan, buyer_plan = _plan(seller_query), _plan(buyer_query)
                transaction.rollback()
            assert "user_name_trgm" in seller_plan and "user_email_trgm" in seller_plan, \
                seller_plan
            # The shop's products: PostgreSQL rightly prefers the (shop, id) index, as a
            # shop's catalogue is small; either way no table is read whole.
            assert "Seq Scan" not in seller_plan + buyer_plan, seller_plan + buyer_plan
            assert "line_name_name_trgm" in buyer_plan, buyer_plan
            assert "shop_name_trgm" in buyer_plan, buyer_plan


def test_short_text_never_reads_the_index(app, shop):
    assert search.is_short(" ab ") and not search.is_short("abc")
    with database.connection_context():
        plan = _plan(management.filtered(shop, Filters(q="ab"), utcnow()))
    assert "user_search" not in plan and "user_name_trgm" not in plan


def test_the_migration_indexes_the_rows_already_there(scratch):
    """0018 on a database holding data: its people, shops, products and line names are
    found at once, and the triggers it makes keep the index in step afterwards."""
    step = next(m for m in migrations.available() if m.name == "search_index")
    db = scratch()
    migrations.upgrade(db, target=1)
    _seed_first_schema(db)  # Bea and Sam, the shop Northwind, an order
    migrations.upgrade(db, target=step.number - 1)
    now = datetime(2026, 11, 1, 12, 0)
    _insert(db, "product", id=1, shop_id=1, name="Linen shirt", description="", returnable=True,
            created_at=now)
    for line_id, name in ((1, "Linen shirt"), (2, "Linen shirt"), (3, "Wool beanie")):
        _insert(db, "order_line", id=line_id, order_id=1, variant_id=None, product_name=name,
                sku="", size="M", colour="", unit_price=100, quantity=1, line_total=100,
                picked=False, shipped_quantity=0, discount=0)
    migrations.upgrade(db)

    def found(sql: str, text: str) -> list:
        return [row[0] for row in db.execute_sql(sql.replace("?", db.param), [text])]

    assert sorted(found('SELECT name FROM line_name WHERE name <> ?', "")) == \
        ["Linen shirt", "Wool beanie"]  # each name once
    if isinstance(db, SqliteDatabase):
        def match(table, text):
            return found(f'SELECT rowid FROM "{table}" WHERE "{table}" MATCH ?', f'"{text}"')

        assert match("user_search", "a@exam") == [1]  # bea@example.com
        assert match("user_search", "SAM@") == [2]  # sam@example.com, any case
        assert match("shop_search", "orthwi") == [1]
        assert match("product_search", "nen sh") == [1]
        assert len(match("line_name_search", "ool bea")) == 1
        _insert(db, "order_line", id=4, order_id=1, variant_id=None, product_name="Oak tray",
                sku="", size="M", colour="", unit_price=100, quantity=1, line_total=100,
                picked=False, shipped_quantity=0, discount=0)
        db.execute_sql("UPDATE \"user\" SET email = 'bea@elsewhere.org' WHERE id = 1")
        assert len(match("line_name_search", "ak tra")) == 1
        assert match("user_search", "a@exam") == [] and match("user_search", "elsewh") == [1]
        # FTS5's own check that the index agrees with the rows it indexes
        for table in ("user_search", "product_search", "shop_search", "line_name_search"):
            db.execute_sql(f"INSERT INTO \"{table}\"(\"{table}\") VALUES ('integrity-check')")
    else:
        trigram = {name for (name,) in db.execute_sql(
            "SELECT indexname FROM pg_indexes WHERE position('gin_trgm_ops' in indexdef) > 0")}
        assert trigram == {"user_name_trgm", "user_email_trgm", "product_name_trgm",
                           "shop_name_trgm", "line_name_name_trgm"}
        _insert(db, "order_line", id=4, order_id=1, variant_id=None, product_name="Oak tray",
                sku="", size="M", colour="", unit_price=100, quantity=1, line_total=100,
                picked=False, shipped_quantity=0, discount=0)
        assert found("SELECT name FROM line_name WHERE name ILIKE ?", "%ak tra%") == ["Oak tray"]


@pytest.mark.parametrize("q", ["Buyer", "ea Buy", "tote", "mug", "ab", "@example.com", "zzqq"])
def test_few_matches_read_by_id_list_what_the_walk_lists(client, auth, orders, monkeypatch, q):
    auth.login(SELLER)
    by_id = seller_finds(client, q)
    monkeypatch.setattr(management, "FEW_ORDERS", 0)  # every search now walks the list
    assert seller_finds(client, q) == by_id
    monkeypatch.setattr(management, "FEW_ORDERS", 500)
    assert seller_finds(client, q + "-nothing") == []


def test_the_id_set_stops_past_few_orders(app, shop, orders, monkeypatch):
    if not is_sqlite():  # PostgreSQL's planner places the match sets itself
        assert management.search_order_ids(shop, "Buyer") is None
        return
    with database.connection_context():
        both = sorted([orders["mug"].id, orders["tote"].id])
        assert management.search_order_ids(shop, "Buyer") == both  # not the other shop's
        assert management.search_order_ids(shop, "nothing like it") == []
        monkeypatch.setattr(management, "FEW_ORDERS", 1)
        assert management.search_order_ids(shop, "Buyer") is None
        monkeypatch.setattr(management, "FEW_BUYERS", 1)
        monkeypatch.setattr(management, "FEW_ORDERS", 500)
        assert management.search_order_ids(shop, "Buyer") is None  # many people: the walk


def test_a_few_matches_are_read_by_primary_key(app, shop, orders, monkeypatch):
    if not is_sqlite():
        pytest.skip("SQLite's planner; PostgreSQL places the id list itself")
    with database.connection_context():
        ids = management.search_order_ids(shop, "Buyer")
        listed = (management.filtered(shop, Filters(q="Buyer"), utcnow(), ids=ids)
                  .order_by(Order.placed_at.desc(), Order.id.desc()).limit(51))
        plan = _plan(listed)
        assert "SEARCH t1 USING INTEGER PRIMARY KEY" in plan, plan
        assert "orders_shop_id" not in plan, plan  # not a walk of the shop's orders
        statements = []
        real = database.obj.execute_sql
        monkeypatch.setattr(database.obj, "execute_sql", lambda sql, params=None, *a, **k: (
            statements.append((sql, params)) or real(sql, params, *a, **k)))
        management.search_order_ids(shop, "Buyer")
        union = next((sql, p) for sql, p in statements if "UNION ALL" in sql)
        arms = "\n".join(str(row[-1]) for row in database.execute_sql(
            "EXPLAIN QUERY PLAN " + union[0], union[1]).fetchall())
        assert "COVERING INDEX order_line_variant_id_order_id" in arms, arms  # no line rows
        assert "orders_shop_id" not in arms, arms
        assert "COVERING INDEX orders_buyer_id" in arms, arms
