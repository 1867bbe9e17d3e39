"""Moving an installation from SQLite to PostgreSQL (``flask --app portal move-to-postgres``).

The target gets its schema from the migrations, as any new PostgreSQL installation
does, so the copy is one of rows, never of DDL. Tables are copied parents first (by
their foreign keys), rows in id order (a payment's authorisation row comes before the
captures that point at it), in batches through COPY, inside one transaction on the target: a
failure leaves the target's tables empty and the SQLite file untouched. SQLite is read
inside one read transaction, so a copy taken while the web server runs is a snapshot
of one moment (stop the server anyway: later writes would not follow).

Afterwards each table's row count and the sum of each of its number columns are
compared on both sides; the move fails unless all agree. PostgreSQL's id sequences are
moved past the copied ids.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass, field

from peewee import PostgresqlDatabase, SqliteDatabase

from portal import migrations
from portal.db import open_database

BATCH = 5000
_NUMBER_TYPES = {"integer", "bigint", "smallint", "numeric"}  # exact sums on both sides


class MoveRefused(Exception):
    """The move cannot start or did not check out; the message says why."""


@dataclass
class Report:
    tables: dict[str, int] = field(default_factory=dict)  # table: rows copied
    # SQLite's own (full-text search) tables, and tables the target's triggers fill
    skipped: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


# The triggers that keep a summary table (shop_status_count, migration 0020), as (table,
# trigger): paused for the copy, which copies the summary like the rest. Filled row by
# row in one transaction, PostgreSQL's count rows would take one version per order, each
# step over all the earlier ones (quadratic: a million-order copy did not end in ten
# minutes), and the copy would count twice.
PAUSED_TRIGGERS = (("orders", "shop_status_count_write"), ("orders", "shop_status_count_move"))


def _virtual_tables(source: SqliteDatabase) -> set[str]:
    """SQLite's virtual tables (FTS5) and their shadow tables: derived data the target
    builds its own way (PostgreSQL's trigram indexes), never copied."""
    names = [row[0] for row in source.execute_sql(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'")]
    every = source.get_tables()
    return {t for t in every for v in names if t == v or t.startswith(v + "_")}


def _columns(target: PostgresqlDatabase, table: str) -> dict[str, str]:
    """The target's columns of ``table`` and their types, in table order."""
    rows = target.execute_sql(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
        (table,)).fetchall()
    return dict(rows)


def _parents_first(source: SqliteDatabase, tables: list[str]) -> list[str]:
    """``tables`` ordered so that each comes after the tables its foreign keys point at."""
    copied = set(tables)
    needs = {t: {fk.dest_table for fk in source.get_foreign_keys(t)} & copied - {t} for t in tables}
    ordered, placed = [], set()
    while len(ordered) < len(tables):
        ready = sorted(t for t in tables if t not in placed and needs[t] <= placed)
        if not ready:
            raise MoveRefused("The tables' foreign keys form a cycle: "
                              + ", ".join(sorted(set(tables) - placed)))
        ordered += ready
        placed.update(ready)
    return ordered


def _text(value) -> str:
    """One field of PostgreSQL's COPY text format: ``\\N`` for NULL, backslash escapes."""
    if value is None:
        return "\\N"
    if isinstance(value, bytes):
        return "\\\\x" + value.hex()
    return (str(value).replace("\\", "\\\\").replace("\t", "\\t")
            .replace("\n", "\\n").replace("\r", "\\r"))


def _converter(kind: str) -> Callable:
    if kind == "boolean":  # SQLite keeps 0 and 1
        return lambda value: "\\N" if value is None else ("t" if value else "f")
    return _text


def _figures(db, table: str, columns: dict[str, str]) -> tuple:
    """The row count and the sum of each number column (true values of each boolean)."""
    parts = ["COUNT(*)"]
    for name, kind in columns.items():
        if kind in _NUMBER_TYPES:
            parts.append(f'COALESCE(SUM("{name}"), 0)')
        elif kind == "boolean":
            parts.append(f'SUM(CASE WHEN "{name}" THEN 1 ELSE 0 END)' if isinstance(db, PostgresqlDatabase)
                         else f'COALESCE(SUM("{name}"), 0)')
    row = db.execute_sql(f'SELECT {", ".join(parts)} FROM "{table}"').fetchone()
    return tuple(int(value or 0) for value in row)


def move(source_url: str, target_url: str, echo: Callable[[str], None] = lambda text: None) -> Report:
    """Copy the SQLite installation at ``source_url`` into the empty PostgreSQL database
    at ``target_url``; raise :class:`MoveRefused` when it cannot or the figures differ."""
    if not source_url.startswith("sqlite:"):
        raise MoveRefused(f"The installation's database is not SQLite: {source_url}")
    if not target_url.startswith(("postgres://", "postgresql://")):
        raise MoveRefused("The target must be a postgresql:// URL.")
    source, target = open_database(source_url), open_database(target_url)
    try:
        return _move(source, target, echo)
    finally:
        for db in (source, target):
            db.close_all()


def _move(source, target, echo) -> Report:
    with source.connection_context(), target.connection_context():
        waiting = [s.migration.title for s in migrations.status(source) if s.applied_at is None]
        if waiting:
            raise MoveRefused("Bring the SQLite database up to date first "
                              f"(`flask --app portal db upgrade`): {', '.join(waiting)} not run.")
        full = [t for t in target.get_tables() if t != migrations.TABLE
                and target.execute_sql(f'SELECT EXISTS (SELECT 1 FROM "{t}")').fetchone()[0]]
        if full:
            raise MoveRefused("The PostgreSQL database is not empty (rows in "
                              f"{', '.join(sorted(full))}): give it an empty database.")
        migrations.upgrade(target, echo=lambda text: echo(f"PostgreSQL schema: {text}"))

        report = Report()
        derived = _virtual_tables(source)
        tables = [t for t in source.get_tables() if t != migrations.TABLE and t not in derived]
        report.skipped = sorted(derived)
        missing = sorted(set(tables) - set(target.get_tables()))
        if missing:
            raise MoveRefused(f"PostgreSQL has no table for: {', '.join(missing)}")
        source.execute_sql("BEGIN")  # one snapshot of the file for the whole copy
        try:
            with target.atomic():
                _pause_triggers(target, "DISABLE")
                for table in _parents_first(source, tables):
                    report.tables[table] = _copy(source, target, table, echo)
                _pause_triggers(target, "ENABLE")
                for table in tables:
                    _reset_sequence(target, table)
                _check(source, target, tables)
        finally:
            source.execute_sql("ROLLBACK")
        return report


def _pause_triggers(target, what: str) -> None:
    for table, trigger in PAUSED_TRIGGERS:
        target.execute_sql(f'ALTER TABLE "{table}" {what} TRIGGER "{trigger}"')


def _copy(source, target, table: str, echo) -> int:
    """Copy one table with PostgreSQL's COPY (a batch of rows as one text stream)."""
    columns = _columns(target, table)
    present = {c.name for c in source.get_columns(table)}
    names = [name for name in columns if name in present]
    convert = [_converter(columns[name]) for name in names]
    quoted = ", ".join(f'"{name}"' for name in names)
    order = "id" if "id" in present else "rowid"
    cursor = source.execute_sql(f'SELECT {quoted} FROM "{table}" ORDER BY "{order}"')
    done = 0
    out = target.cursor()
    while rows := cursor.fetchmany(BATCH):
        text = "".join("\t".join(c(v) for c, v in zip(convert, row)) + "\n" for row in rows)
        out.copy_expert(f'COPY "{table}" ({quoted}) FROM STDIN', io.StringIO(text))
        done += len(rows)
    echo(f"{table}: {done:,} rows")
    return done


def _reset_sequence(target, table: str) -> None:
    # NULL for a table without a serial "id" column: nothing to move on.
    sequence = target.execute_sql(
        "SELECT pg_get_serial_sequence(%s, 'id') FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = %s AND column_name = 'id'",
        (f'"{table}"', table)).fetchone()
    sequence = sequence[0] if sequence else None
    if sequence:
        target.execute_sql(f"SELECT setval('{sequence}', COALESCE((SELECT MAX(id) FROM \"{table}\"), 0) + 1, false)")


def _check(source, target, tables: list[str]) -> None:
    wrong = []
    for table in tables:
        present = {c.name for c in source.get_columns(table)}  # once, not per column
        columns = {name: kind for name, kind in _columns(target, table).items() if name in present}
        if _figures(source, table, columns) != _figures(target, table, columns):
            wrong.append(table)
    if wrong:
        raise MoveRefused(f"The copy does not match the SQLite database in: {', '.join(wrong)}; "
                          "nothing was kept.")
