"""The schema changes only through numbered migrations, and they build what the models say.

Each test works in scratch databases of its own (SQLite files, or databases
created beside the PostgreSQL test database), so the suite's database is untouched.
"""

import re
import uuid
from datetime import datetime

import pytest
from playhouse.db_url import connect

from portal import migrations
from portal.models import ALL_MODELS
from portal.orders import search


@pytest.fixture
def scratch(database_url, tmp_path):
    """Makes empty databases of the suite's kind; drops them afterwards."""
    made, names = [], []

    def make():
        if database_url.startswith("sqlite"):
            db = connect(f"sqlite:///{tmp_path / uuid.uuid4().hex}.sqlite3",
                         pragmas={"foreign_keys": 1})
        else:
            name = f"portal_scratch_{uuid.uuid4().hex[:12]}"
            admin = connect(database_url)
            admin.execute_sql(f'CREATE DATABASE "{name}"')
            admin.close()
            db = connect(database_url.rsplit("/", 1)[0] + "/" + name)
            names.append(name)
        db.connect()
        made.append(db)
        return db

    yield make
    for db in made:
        if not db.is_closed():
            db.close()
    if names:
        admin = connect(database_url)
        for name in names:
            admin.execute_sql(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


def _normal_sql(sql: str | None) -> str:
    sql = re.sub(r'[\s"`]+', " ", (sql or "").lower())
    return re.sub(r"\bpublic\.", "", sql).strip()


def schema_of(db) -> dict:
    """Tables, columns (type, null, default), indexes and foreign keys, as the database says."""
    schema = {}
    for table in sorted(set(db.get_tables()) - {migrations.TABLE}):
        columns = {c.name: (c.data_type.lower(), c.null, c.primary_key, c.default)
                   for c in db.get_columns(table)}
        indexes = {i.name: (tuple(i.columns), i.unique, _normal_sql(i.sql))
                   for i in db.get_indexes(table)}
        keys = sorted((k.column, k.dest_table, k.dest_column) for k in db.get_foreign_keys(table))
        schema[table] = {"columns": columns, "indexes": indexes, "foreign_keys": keys}
    return schema


def test_the_migrations_build_exactly_what_the_models_say(scratch):
    by_migrations, by_models = scratch(), scratch()
    migrations.upgrade(by_migrations)
    with by_models.bind_ctx(ALL_MODELS):
        by_models.create_tables(ALL_MODELS)
    search.install_schema(by_models)  # the text index's tables and indexes
    built, wanted = schema_of(by_migrations), schema_of(by_models)
    assert set(built) == set(wanted), "a table differs: write its migration"
    for table in wanted:
        for part in ("columns", "indexes", "foreign_keys"):
            assert built[table][part] == wanted[table][part], (
                f"{table} {part} differ from the models: write the migration")


def test_every_migration_is_numbered_and_says_what_it_does():
    found = migrations.available()
    numbers = [m.number for m in found]
    assert numbers[0] == 1 and numbers == sorted(set(numbers))
    assert all(m.summary for m in found)


def test_upgrading_twice_does_nothing_the_second_time(scratch):
    db = scratch()
    assert [m.number for m in migrations.upgrade(db)] == [m.number for m in migrations.available()]
    assert migrations.upgrade(db) == []
    assert all(step.applied_at for step in migrations.status(db))


def _insert(db, table: str, **values):
    marks = ", ".join([db.param] * len(values))
    names = ", ".join(f'"{name}"' for name in values)
    db.execute_sql(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', list(values.values()))


def _seed_first_schema(db) -> None:
    """Data as the portal of the first migration wrote it, duplicates from the old races too."""
    now = datetime(2026, 11, 1, 12, 0)
    _insert(db, "user", id=1, email="bea@example.com", name="Bea", password_hash="$argon2id$x",
            role="buyer", created_at=now)
    _insert(db, "user", id=2, email="sam@example.com", name="Sam", password_hash="$argon2id$y",
            role="seller", created_at=now)
    _insert(db, "shop", id=1, owner_id=2, name="Northwind", slug="northwind", currency="USD",
            handling_days=2, modification_window_hours=12, return_window_days=30,
            notify_by_email=True, ship_from_name="", ship_from_line1="", ship_from_line2="",
            ship_from_city="", ship_from_region="", ship_from_postal_code="",
            ship_from_country="US", created_at=now)
    _insert(db, "orders", id=1, number="7K3Q9-XWD2M", shop_id=1, buyer_id=1, status="processed",
            payment_status="authorised", payment_method="Visa •••• 4242", currency="USD",
            subtotal=3900, discount_total=0, shipping_total=0, fee_total=0, total=3900,
            item_summary="Linen shirt", item_count=1, shipped_count=0, address_verified=False,
            ship_name="Bea", ship_line1="1 Main St", ship_line2="", ship_city="Portland",
            ship_region="OR", ship_postal_code="97205", ship_country="US", ship_phone="",
            placed_at=now, updated_at=now, version=3)
    for request_id in (1, 2, 3):  # three "cancel" posts that raced
        _insert(db, "order_request", id=request_id, order_id=1, shop_id=1, kind="cancellation",
                status="open", reason="changed my mind", details="{}", created_by_id=1,
                created_at=now, response="")
    _insert(db, "order_request", id=4, order_id=1, shop_id=1, kind="address_change",
            status="open", reason="", details="{}", created_by_id=1, created_at=now, response="")
    _insert(db, "webhook_receipt", id=1, shop_id=1, carrier_code="easypost",
            event_id="evt_123", received_at=now)


def test_a_database_at_the_first_migration_keeps_its_data_when_upgraded(scratch):
    from portal.shipping.carrier_webhooks import event_key
    db = scratch()
    migrations.upgrade(db, target=1)
    _seed_first_schema(db)
    ran = migrations.upgrade(db)
    assert [m.number for m in ran] == [m.number for m in migrations.available()][1:]
    assert db.execute_sql('SELECT email, name, session_token FROM "user" ORDER BY id').fetchall() \
        == [("bea@example.com", "Bea", None), ("sam@example.com", "Sam", None)]
    assert db.execute_sql("SELECT number, total, version FROM orders").fetchall() \
        == [("7K3Q9-XWD2M", 3900, 3)]
    # The newest of the raced duplicates stands; the others are closed with a reason.
    requests = db.execute_sql("SELECT id, status, response FROM order_request ORDER BY id").fetchall()
    assert [(i, s) for i, s, _ in requests] == [(1, "closed"), (2, "closed"), (3, "open"),
                                                (4, "open")]
    assert "duplicate" in requests[0][2]
    assert db.execute_sql("SELECT event_id FROM webhook_receipt").fetchall() \
        == [(event_key("evt_123"),)]
    # A receipt from before 0019 was applied inside its request: not applied again.
    assert db.execute_sql("SELECT applied_at IS NOT NULL, reports, error FROM webhook_receipt"
                          ).fetchall() == [(True, "[]", "")]
    # And the new rule holds: a second open cancellation is refused by the database.
    with pytest.raises(Exception):
        with db.atomic():
            _insert(db, "order_request", id=5, order_id=1, shop_id=1, kind="cancellation",
                    status="open", reason="", details="{}", created_by_id=1,
                    created_at=datetime(2026, 11, 2), response="")


def test_a_database_made_before_migrations_is_adopted_not_rebuilt(scratch):
    db = scratch()
    first = migrations.available()[0].module
    with db.bind_ctx(first.TABLES):
        db.create_tables(first.TABLES)  # what init-db made before migrations
    _seed_first_schema(db)
    lines = []
    migrations.upgrade(db, echo=lines.append)
    assert "recorded (the tables were already there)" in lines[0]
    assert db.execute_sql("SELECT count(*) FROM orders").fetchone() == (1,)
    assert all(step.applied_at for step in migrations.status(db))


def test_db_status_and_upgrade_commands(runner):
    result = runner.invoke(args=["db", "status"])
    assert result.exit_code == 0, result.output
    for migration in migrations.available():
        assert migration.title in result.output
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0 and "up to date" in result.output


def test_the_flat_rate_and_capture_migration_fills_what_was_there(scratch):
    """Shops keep the rate the constant gave (500, 7 days); cash on delivery's ledger rows
    are captured on delivery, as the ledger's old rule said, every other row on shipping."""
    step = next(m for m in migrations.available() if m.name == "flat_rate_and_capture")
    db = scratch()
    migrations.upgrade(db, target=step.number - 1)
    now = datetime(2026, 11, 1, 12, 0)
    _insert(db, "user", id=1, email="sam@example.com", name="Sam", password_hash="$argon2id$y",
            role="seller", created_at=now)
    _insert(db, "shop", id=1, owner_id=1, name="Northwind", slug="northwind", currency="USD",
            handling_days=2, modification_window_hours=12, return_window_days=30,
            notify_by_email=True, ship_from_name="", ship_from_line1="", ship_from_line2="",
            ship_from_city="", ship_from_region="", ship_from_postal_code="",
            ship_from_country="US", created_at=now)
    _insert(db, "orders", id=1, number="7K3Q9-XWD2M", shop_id=1, buyer_id=1, status="pending",
            payment_status="authorised", payment_method="", currency="USD", subtotal=3900,
            discount_total=0, shipping_total=0, fee_total=0, total=3900, item_summary="Shirt",
            item_count=1, shipped_count=0, address_verified=False, ship_name="Sam",
            ship_line1="1 Main St", ship_line2="", ship_city="Portland", ship_region="OR",
            ship_postal_code="97205", ship_country="US", ship_phone="", placed_at=now,
            updated_at=now, version=1)
    for row_id, method in ((1, "card"), (2, "cod")):
        _insert(db, "payment_transaction", id=row_id, order_id=1, kind="authorise",
                amount=3900, currency="USD", method_code=method, plugin=method,
                idempotency_key=f"k-{row_id}", state="succeeded", reference="", message="",
                display="", reason="", attempts=1, created_at=datetime(2026, 11, 1))
    assert [m.number for m in migrations.upgrade(db, target=step.number)] == [step.number]
    assert db.execute_sql("SELECT flat_rate_amount, flat_rate_days FROM shop").fetchall() \
        == [(500, 7)]
    assert db.execute_sql("SELECT method_code, capture FROM payment_transaction ORDER BY id")\
        .fetchall() == [("card", "on_shipping"), ("cod", "on_delivery")]
