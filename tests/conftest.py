"""Fixtures: an app on a real database (SQLite, or PostgreSQL when
PORTAL_TEST_DATABASE_URL says so), clients, demo people and a query counter."""

import logging
import os
import re

import pytest

from portal import create_app, migrations
from portal.db import bind, close_pools, database, is_postgres
from portal.models import ALL_MODELS
from tests import factories

TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_COST": 1024,
    "PAGE_SIZE": 20,
    "WTF_CSRF_ENABLED": False,  # the csrf_app fixture turns it back on
    "HUEY_IMMEDIATE": True,
    "PLUGIN_TIME_BUDGET": 0.5,
}


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if not url:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal-test.sqlite3'}"
    bind(url)
    with database.connection_context():
        database.drop_tables(ALL_MODELS, safe=True)
        database.execute_sql(f"DROP TABLE IF EXISTS {migrations.TABLE}")
        migrations.upgrade(database.obj)  # the schema as a real database gets it
    return url


def empty_tables() -> None:
    if is_postgres():
        names = ", ".join(f'"{m._meta.table_name}"' for m in ALL_MODELS)
        database.execute_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    else:
        for model in reversed(ALL_MODELS):
            model.delete().execute()


@pytest.fixture
def app(database_url):
    """The app on an empty database. No app context is held open during the
    test: each request gets its own, as in production (so ``g`` never leaks)."""
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url})
    with database.connection_context():
        empty_tables()
    yield app
    if not database.is_closed():
        database.close()


@pytest.fixture
def csrf_app(database_url):
    """The app with CSRF protection on, as in production."""
    return create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "WTF_CSRF_ENABLED": True})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def seller(app):
    return factories.make_user("seller@example.com", name="Sam Seller", role="seller")


@pytest.fixture
def shop(seller):
    return factories.make_shop(seller, "Northwind Threads")


@pytest.fixture
def seller2(app):
    return factories.make_user("seller2@example.com", name="Sofia Seller", role="seller")


@pytest.fixture
def shop2(seller2):
    return factories.make_shop(seller2, "Harbour and Pine")


@pytest.fixture
def buyer(app):
    return factories.make_user("buyer@example.com", name="Bea Buyer")


@pytest.fixture
def buyer2(app):
    return factories.make_user("buyer2@example.com", name="Ben Buyer")


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, email="buyer@example.com", password=factories.PASSWORD):
        return self.client.post("/login", data={"email": email, "password": password})

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return Auth(client)


class QueryCounter(logging.Handler):
    """Collects the SQL statements peewee runs: it logs each as (sql, params) at DEBUG."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.statements: list[tuple[str, list]] = []

    def emit(self, record):
        if isinstance(record.msg, tuple) and re.match(
                r"\s*(SELECT|INSERT|UPDATE|DELETE)", record.msg[0], re.I):
            self.statements.append(record.msg)

    def __len__(self):
        return len(self.statements)


@pytest.fixture
def count_queries():
    logger = logging.getLogger("peewee")
    handler = QueryCounter()
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(old_level)


@pytest.fixture(autouse=True)
def _give_connections_back():
    """Every test's apps open pools of their own: their idle connections are closed
    after it, or PostgreSQL runs out of connections a few hundred apps later."""
    yield
    close_pools()


@pytest.fixture(autouse=True)
def _plugins_start_afresh():
    """No plugin rests from an earlier test's timeout; carrier descriptions are asked anew."""
    from portal.hooks import pluginmanager, shop_plugins
    pluginmanager.forgive_all()
    shop_plugins.forget_carriers()
    yield
    pluginmanager.forgive_all()
    shop_plugins.forget_carriers()
