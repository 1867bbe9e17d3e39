"""The database: one peewee handle, a connection per request, configured from a URL.

SQLite (the default) runs in WAL mode with a busy timeout so that the web
server and background workers can share the file; PostgreSQL is selected with
a ``postgresql://`` URL.
"""

import click
from flask.cli import with_appcontext
from flask import Flask
from peewee import DatabaseProxy, PostgresqlDatabase, SqliteDatabase
from playhouse.db_url import connect

database = DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "busy_timeout": 5000,
    "foreign_keys": 1,
    "synchronous": "normal",
    "cache_size": -64 * 1024,  # 64 MiB of page cache
}


# Connections are pooled: a request takes one and gives it back, so the pragmas
# run once per connection, not per request, and SQLite's page cache stays warm.
POOL = {"max_connections": 32, "stale_timeout": 300}


def open_database(url: str):
    """Return a peewee database for ``url`` (not yet connected)."""
    if url.startswith("sqlite:"):
        # A pooled connection may serve a later request on another thread (never
        # two at once), so sqlite3's same-thread check does not apply.
        return connect("sqlite+pool:" + url.removeprefix("sqlite:"), pragmas=SQLITE_PRAGMAS,
                       check_same_thread=False, **POOL)
    if url.startswith(("postgres://", "postgresql://")):
        return connect("postgresql+pool://" + url.split("://", 1)[1], **POOL)
    return connect(url)


def bind(url: str):
    """Point the shared proxy at the database for ``url`` and return it."""
    db = open_database(url)
    database.initialize(db)
    return db


def is_sqlite() -> bool:
    return isinstance(database.obj, SqliteDatabase)


def is_postgres() -> bool:
    return isinstance(database.obj, PostgresqlDatabase)


def create_schema() -> None:
    """Create every table and index that does not exist yet, and add new columns.

    New columns are always nullable, so an older database gains them in place
    (``init-db`` on a database made by an earlier version of the portal).
    """
    from playhouse.migrate import SchemaMigrator, migrate

    from portal.models import ALL_MODELS

    with database.connection_context():
        database.create_tables(ALL_MODELS, safe=True)
        migrator = SchemaMigrator.from_database(database.obj)
        for model in ALL_MODELS:
            have = {c.name for c in database.get_columns(model._meta.table_name)}
            missing = [f for f in model._meta.sorted_fields if f.column_name not in have]
            migrate(*(migrator.add_column(model._meta.table_name, f.column_name, f)
                      for f in missing if f.null))


def init_app(app: Flask) -> None:
    bind(app.config["DATABASE_URL"])

    @app.before_request
    def _open():
        database.connect(reuse_if_open=True)

    @app.teardown_appcontext
    def _close(exc):
        if not database.is_closed():
            database.close()

    app.cli.add_command(init_db_command)


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Create the database tables (safe to run again)."""
    create_schema()
    click.echo(f"Database ready: {database.obj.database}")
