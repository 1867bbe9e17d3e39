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


def upgrade_schema(echo=lambda text: None) -> list:
    """Bring the database's schema up to date by running the migrations it has not had
    (``portal/migrations/``); return those that ran."""
    from portal import migrations
    with database.connection_context():
        return migrations.upgrade(database.obj, echo=echo)


def drop_schema() -> None:
    """Drop every table, the migrations' record too (``seed-demo --reset``)."""
    from portal import migrations
    from portal.models import ALL_MODELS
    with database.connection_context():
        database.drop_tables(ALL_MODELS, safe=True, cascade=is_postgres())
        database.execute_sql(f"DROP TABLE IF EXISTS {migrations.TABLE}")


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
    app.cli.add_command(db_command)


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Create the database, or bring it up to date (the same as ``db upgrade``)."""
    upgrade_schema(echo=click.echo)
    click.echo(f"Database ready: {database.obj.database}")


@click.group("db")
def db_command():
    """The database schema: where it stands, and bringing it up to date."""


@db_command.command("upgrade")
@with_appcontext
def db_upgrade_command():
    """Run the migrations this database has not had yet."""
    ran = upgrade_schema(echo=click.echo)
    click.echo(f"{database.obj.database}: " + (f"{len(ran)} migration(s) run."
                                                if ran else "already up to date."))


@db_command.command("status")
@with_appcontext
def db_status_command():
    """List the migrations, with when this database ran each."""
    from portal import migrations
    with database.connection_context():
        steps = migrations.status(database.obj)
    for step in steps:
        when = f"{step.applied_at:%Y-%m-%d %H:%M} UTC" if step.applied_at else "not yet run"
        click.echo(f"{step.migration.title:<40} {when:<22} {step.migration.summary}")
    waiting = sum(1 for step in steps if step.applied_at is None)
    click.echo(f"{waiting} waiting: run `flask --app portal db upgrade`." if waiting
               else "Up to date.")
