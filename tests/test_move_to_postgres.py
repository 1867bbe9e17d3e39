"""`flask --app portal move-to-postgres`: a SQLite installation copied into an empty
PostgreSQL, checked, and usable there (runs in the PostgreSQL pass of the suite)."""

import os
import uuid

import psycopg2
import pytest
from peewee import PostgresqlDatabase

from portal import create_app, move
from portal.demo.people import DEMO_LOGINS
from portal.models import Order, PaymentTransaction, ShopStatusCount, User
from tests.conftest import TEST_CONFIG

PG = os.environ.get("PORTAL_TEST_DATABASE_URL", "")
pytestmark = pytest.mark.skipif(not PG.startswith("postgres"),
                                reason="needs PostgreSQL (PORTAL_TEST_DATABASE_URL)")


ODD = "Tab\there, \\N, back\\slash\nnew line\r\n'quote' \"double\" é 😀"


def _admin(sql: str) -> None:
    conn = psycopg2.connect(PG)
    conn.autocommit = True
    try:
        conn.cursor().execute(sql)
    finally:
        conn.close()


@pytest.fixture
def target():
    name = f"portal_move_{uuid.uuid4().hex[:10]}"
    _admin(f'CREATE DATABASE "{name}"')
    yield PG.rsplit("/", 1)[0] + "/" + name
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def installation(tmp_path, database_url):
    """A SQLite installation with the demo in it (the suite's own database stays bound)."""
    app = create_app({**TEST_CONFIG, "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}"})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo", "--orders", "120"])
    assert result.exit_code == 0, result.output
    with app.app_context():  # text COPY must carry as it is
        User.create(email="odd@example.com", name=ODD, password_hash="x")
    return app


def _figures(app) -> dict:
    with app.app_context():
        return {"orders": Order.select().count(), "users": User.select().count(),
                "total": sum(o.total for o in Order.select(Order.total)),
                "payments": PaymentTransaction.select().count(),
                "statuses": sorted((o.status, o.number) for o in Order.select()),
                # copied with the target's count triggers paused (checked like the rest)
                "tab counts": sorted(ShopStatusCount.select(
                    ShopStatusCount.shop, ShopStatusCount.status, ShopStatusCount.n)
                    .where(ShopStatusCount.n > 0).tuples())}


def test_the_move_copies_everything_and_the_portal_runs_on_postgres(installation, target):
    before = _figures(installation)
    result = installation.test_cli_runner().invoke(args=["move-to-postgres", target])
    assert result.exit_code == 0, result.output
    assert "every count and sum matches" in result.output
    assert "orders: " in result.output

    moved = create_app({**TEST_CONFIG, "DATABASE_URL": target})
    assert _figures(moved) == before
    with moved.app_context():
        assert User.get(User.email == "odd@example.com").name == ODD
    # The sequences moved past the copied ids: a new row takes a new id.
    with moved.app_context():
        highest = User.select(User.id).order_by(User.id.desc()).scalar()
        user = User.create(email="new@example.com", name="New", password_hash="x")
        assert user.id > highest
    # The count triggers run again after the copy: an order changed there is counted.
    with moved.app_context():
        order = Order.select().where(Order.status == "pending").first()
        counts = dict(ShopStatusCount.select(ShopStatusCount.status, ShopStatusCount.n)
                      .where(ShopStatusCount.shop == order.shop_id).tuples())
        Order.update(status="cancelled").where(Order.id == order.id).execute()
        after = dict(ShopStatusCount.select(ShopStatusCount.status, ShopStatusCount.n)
                     .where(ShopStatusCount.shop == order.shop_id).tuples())
        assert after["pending"] == counts["pending"] - 1
        assert after["cancelled"] == counts.get("cancelled", 0) + 1
    # The demo buyer logs in on PostgreSQL and sees their orders.
    client = moved.test_client()
    email, password = next((e, p) for e, p, _, role in DEMO_LOGINS if role == "buyer")
    assert client.post("/login", data={"email": email, "password": password}).status_code == 303
    assert client.get("/orders").status_code == 200


def test_a_target_with_rows_is_refused(installation, target):
    assert installation.test_cli_runner().invoke(args=["move-to-postgres", target]).exit_code == 0
    again = installation.test_cli_runner().invoke(args=["move-to-postgres", target])
    assert again.exit_code != 0
    assert "not empty" in again.output


def test_a_copy_that_does_not_check_out_keeps_nothing(installation, target, monkeypatch):
    real = move._figures
    # One table's figures read differently on the PostgreSQL side: the check must fail.
    monkeypatch.setattr(move, "_figures", lambda db, table, columns: (
        (-1,) if table == "orders" and isinstance(db, PostgresqlDatabase)
        else real(db, table, columns)))
    result = installation.test_cli_runner().invoke(args=["move-to-postgres", target])
    assert result.exit_code != 0
    assert "does not match" in result.output and "orders" in result.output
    moved = create_app({**TEST_CONFIG, "DATABASE_URL": target})
    with moved.app_context():
        assert Order.select().count() == 0 and User.select().count() == 0


def test_only_sqlite_moves(target):
    with pytest.raises(move.MoveRefused, match="not SQLite"):
        move.move(target, target)
    with pytest.raises(move.MoveRefused, match="postgresql://"):
        move.move("sqlite:///x.sqlite3", "mysql://x")
