"""Numbered schema migrations, and the table that records which have run.

Each change to ``portal/models.py`` comes with a module here named
``NNNN_what_it_does.py`` that defines ``upgrade(db, migrator)``: ``db`` is the
peewee database, ``migrator`` a ``playhouse.migrate`` SchemaMigrator for it.
:func:`upgrade` runs the missing ones in number order, each in its own
transaction together with the row that records it, so a failed step leaves the
database at the step before. ``tests/test_migrations.py`` builds the schema
through these and compares it with the models, on SQLite and PostgreSQL: a model
change without its migration fails CI.

Writing one: add columns with ``migrator.add_column(table, name, field)`` (a
non-null field needs a ``default``, used to fill the rows already there), build
indexes and tables with models frozen inside the migration (never import
``portal.models``: it changes after the migration is written), and move data
with plain queries.
"""

import importlib
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType

from peewee import CharField, DateTimeField, IntegerField, Model
from playhouse.migrate import SchemaMigrator

TABLE = "schema_migration"
_NAME = re.compile(r"^(\d{4})_(\w+)\.py$")


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    module: ModuleType

    @property
    def title(self) -> str:
        return f"{self.number:04d}_{self.name}"

    @property
    def summary(self) -> str:
        return (self.module.__doc__ or "").strip().splitlines()[0] if self.module.__doc__ else ""


@dataclass(frozen=True)
class Step:
    """One migration and whether (and when) this database ran it."""

    migration: Migration
    applied_at: datetime | None


class _Applied(Model):
    number = IntegerField(primary_key=True)
    name = CharField(max_length=100)
    applied_at = DateTimeField()

    class Meta:
        table_name = TABLE


def available() -> list[Migration]:
    """Every migration in this package, in number order."""
    found = []
    for path in sorted(Path(__file__).parent.glob("[0-9][0-9][0-9][0-9]_*.py")):
        match = _NAME.match(path.name)
        if match:
            module = importlib.import_module(f"{__name__}.{path.stem}")
            found.append(Migration(int(match.group(1)), match.group(2), module))
    numbers = [m.number for m in found]
    # Work done at the same time reserves its numbers (a branch may hold 0009 before 0007
    # and 0008 are merged): a number may be skipped, never used twice.
    if numbers[:1] != [1] or len(set(numbers)) != len(numbers):
        raise RuntimeError(f"Migrations must be numbered from 1, each number once: {numbers}")
    return found


def status(db) -> list[Step]:
    """Each migration, with when this database ran it (None: not yet)."""
    with db.bind_ctx([_Applied]):
        done = ({row.number: row.applied_at for row in _Applied.select()}
                if db.table_exists(TABLE) else {})
    return [Step(m, done.get(m.number)) for m in available()]


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def upgrade(db, *, target: int | None = None, echo=lambda text: None) -> list[Migration]:
    """Run the migrations this database has not had yet (up to ``target``, default all);
    return those that ran."""
    with db.bind_ctx([_Applied]):
        db.create_tables([_Applied], safe=True)
        if not _Applied.select().exists() and db.table_exists("orders"):
            # Made by init-db before migrations existed: its tables are the first
            # migration's, so that step is recorded, not run.
            first = available()[0]
            _Applied.create(number=first.number, name=first.name, applied_at=_now())
            echo(f"{first.title}: recorded (the tables were already there)")
        done = {row.number for row in _Applied.select(_Applied.number)}
        ran = []
        for migration in available():
            if migration.number in done or (target is not None and migration.number > target):
                continue
            with db.atomic():
                migration.module.upgrade(db, SchemaMigrator.from_database(db))
                _Applied.create(number=migration.number, name=migration.name, applied_at=_now())
            echo(f"{migration.title}: done ({migration.summary})")
            ran.append(migration)
        return ran
