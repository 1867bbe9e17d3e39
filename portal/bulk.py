"""Fast bulk inserts for seeding and benchmarks, on SQLite and PostgreSQL.

``Model.insert_many`` builds one big SQL string per batch; for millions of rows
a prepared single-row statement fed to ``executemany`` (SQLite) or psycopg2's
``execute_values`` (PostgreSQL) is several times faster.
"""

from collections.abc import Iterable, Sequence

from portal.db import database, is_postgres


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
