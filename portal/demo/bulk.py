"""Fast bulk inserts for seeding and benchmarks, on SQLite and PostgreSQL.

``Model.insert_many`` builds one big SQL string per batch; for millions of rows
a prepared single-row statement fed to ``executemany`` (SQLite) or psycopg2's
``execute_values`` (PostgreSQL) is several times faster.
"""

import os
from collections.abc import Iterable, Sequence
from contextlib import contextmanager

from portal.db import database, is_postgres, is_sqlite


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


@contextmanager
def bulk_load(*models):
    """Make a load of many rows into ``models``' tables fast (SQLite; elsewhere a no-op).

    For the load only: no fsync and no foreign key checks (a crash mid-load
    loses demo data, and the loader makes its ids itself), and the tables'
    secondary indexes dropped, then built again at the end: one sort per index
    is far cheaper than updating it row by row. The sorts run on every core:
    SQLite sorts in parallel when its page cache (its sort memory) is small
    enough that a sort comes in several pieces, which measured twice as fast
    as one big in-memory sort.
    """
    if not is_sqlite():
        yield
        return
    tables = [model._meta.table_name for model in models]
    marks = ", ".join("?" for _ in tables)
    indexes = database.execute_sql(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        f"AND tbl_name IN ({marks})", tables).fetchall()
    saved = {pragma: database.execute_sql(f"PRAGMA {pragma}").fetchone()[0]
             for pragma in ("synchronous", "foreign_keys", "cache_size", "threads")}
    # Outside any transaction: there, changing foreign_keys is silently ignored.
    database.execute_sql("PRAGMA synchronous = OFF")
    database.execute_sql("PRAGMA foreign_keys = OFF")
    with database.atomic():
        for name, _ in indexes:
            database.execute_sql(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        database.execute_sql("PRAGMA cache_size = -2000")  # 2 MiB, SQLite's default
        database.execute_sql(f"PRAGMA threads = {os.cpu_count() or 1}")
        with database.atomic():
            for _, sql in indexes:
                database.execute_sql(sql)
        for pragma, value in saved.items():
            database.execute_sql(f"PRAGMA {pragma} = {value}")


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
