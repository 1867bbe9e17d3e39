"""The database: one peewee handle the models use, configured from a URL.

SQLite (the default) runs in WAL mode with a busy timeout so that the web
server and background workers can share the file; PostgreSQL is selected with
a ``postgresql://`` URL. Each app opens its own database (``portal/app.py``
makes it the current one whenever one of its contexts is pushed), so two apps in
one process never share a connection pool. No Flask here: the order domain and
scripts use this module as it is.
"""

import contextvars
import functools
import inspect
import weakref
from collections.abc import Iterable, Sequence

from peewee import DatabaseProxy, Node, PostgresqlDatabase, SqliteDatabase
from playhouse.db_url import connect

_current = contextvars.ContextVar("portal_database", default=None)


class CurrentDatabase(DatabaseProxy):
    """A proxy for the database of the app at work in this thread (see :func:`use`),
    or else the one bound last (scripts, tests setting up data)."""

    __slots__ = ("_callbacks", "_Model", "_default")

    def initialize(self, obj):
        self._default = obj
        for callback in self._callbacks:
            callback(obj)

    @property
    def obj(self):
        return _current.get() or self._default


database = CurrentDatabase()


def use(db) -> contextvars.Token:
    """Make ``db`` the current database until :func:`release` is given the token."""
    return _current.set(db)


def release(token: contextvars.Token) -> None:
    _current.reset(token)

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


_opened = weakref.WeakSet()  # every pool this process opened (close_pools)


def close_pools() -> None:
    """Close the idle connections of every database this process opened: a test suite
    that makes an app per test would otherwise keep a PostgreSQL connection per app."""
    for db in list(_opened):
        if hasattr(db, "close_idle"):
            db.close_idle()


def open_database(url: str):
    """Return a peewee database for ``url`` (not yet connected)."""
    if url.startswith("sqlite:"):
        # A pooled connection may serve a later request on another thread (never
        # two at once), so sqlite3's same-thread check does not apply.
        db = connect("sqlite+pool:" + url.removeprefix("sqlite:"), pragmas=SQLITE_PRAGMAS,
                     check_same_thread=False, **POOL)
    elif url.startswith(("postgres://", "postgresql://")):
        db = connect("postgresql+pool://" + url.split("://", 1)[1], **POOL)
    else:
        db = connect(url)
    _opened.add(db)
    return db


def bind(url: str):
    """Point the shared proxy at the database for ``url`` and return it."""
    db = open_database(url)
    database.initialize(db)
    return db


class Slot(Node):
    """A value of a :func:`prepared` query, given each time it runs (as the database
    stores it: peewee's field conversions do not apply)."""

    def __init__(self, name: str):
        self.name = name

    def __sql__(self, ctx):
        ctx._values.append(self)
        return ctx.literal(ctx.state.param or "?")


_prepared = weakref.WeakKeyDictionary()  # database -> {build function: (query, sql, params)}


def prepared(build):
    """Decorate ``build(slot, ...)``, which returns a peewee select whose changing values
    are its arguments (slots): calling the result with those values runs the
    query and returns its rows, as iterating the query would (model instances, tuples...).

    peewee builds a statement's SQL anew on every run, walking every column of every
    model it selects (1-2 ms for an order with its shop); a prepared query builds it once
    per database, so a page's fixed reads cost the database's time and the rows'.
    """
    names = list(inspect.signature(build).parameters)

    @functools.wraps(build)
    def run(*values):
        db = database.obj
        known = _prepared.setdefault(db, {})
        if build not in known:
            query = build(*(Slot(name) for name in names))
            # In this database's dialect (a plain Select is bound to none).
            known[build] = (query, *db.get_sql_context().sql(query).query())
        query, sql, params = known[build]
        given = dict(zip(names, values))
        cursor = database.execute_sql(
            sql, [given[p.name] if isinstance(p, Slot) else p for p in params])
        # peewee's own step from a cursor to rows (it has no public one for this).
        return query._get_cursor_wrapper(cursor)

    return run


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
    """Drop every table of the database, the migrations' record too (``seed-demo --reset``)."""
    with database.connection_context():
        if is_sqlite():  # else dropping a parent after its child fails ("no such table")
            database.execute_sql("PRAGMA foreign_keys = OFF")
        try:
            for table in database.get_tables():
                database.execute_sql(f'DROP TABLE IF EXISTS "{table}"'
                                     + (" CASCADE" if is_postgres() else ""))
        finally:
            if is_sqlite():
                database.execute_sql("PRAGMA foreign_keys = ON")


# -- many rows at once (the bulk order path, the demo seeder) --------------------------

def insert_rows(model, fields: Sequence[str], rows: Iterable[tuple]) -> None:
    """Insert ``rows`` (tuples in the order of ``fields``) into ``model``'s table."""
    rows = rows if isinstance(rows, list) else list(rows)
    if not rows:
        return
    # Columns not given take their model default (peewee defaults live in Python,
    # not in the schema), so a new column never breaks a bulk load.
    extra = [f for f in model._meta.sorted_fields
             if f.name not in fields and not f.primary_key and f.default is not None]
    if extra:
        defaults = tuple(f.default() if callable(f.default) else f.default for f in extra)
        fields = [*fields, *(f.name for f in extra)]
        rows = [row + defaults for row in rows]
    table = model._meta.table_name
    columns = ", ".join(f'"{model._meta.fields[name].column_name}"' for name in fields)
    cursor = database.cursor()
    if is_postgres():
        from psycopg2.extras import execute_values
        execute_values(cursor, f'INSERT INTO "{table}" ({columns}) VALUES %s', rows,
                       page_size=2000)
    else:
        marks = ", ".join("?" for _ in fields)
        cursor.executemany(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', rows)


def next_id(model) -> int:
    return (model.select(model.id).order_by(model.id.desc()).limit(1).scalar() or 0) + 1


def reset_sequences(*models) -> None:
    """After inserting explicit ids, move PostgreSQL's sequences past them."""
    if not is_postgres():
        return
    for model in models:
        table = model._meta.table_name
        database.execute_sql(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM \"{table}\"), 0) + 1, false)")
