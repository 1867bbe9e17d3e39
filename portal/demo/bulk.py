"""A load of millions of rows, made fast on SQLite (the rows themselves go in through
:func:`portal.db.insert_rows`)."""

import os
from contextlib import contextmanager

from portal.db import database, is_sqlite


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
