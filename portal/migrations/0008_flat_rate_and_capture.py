"""The shop's flat shipping rate (amount and days) as settings.

- ``shop.flat_rate_amount`` (minor units of the shop's currency) and
  ``shop.flat_rate_days``: what checkout offers when no carrier quotes a rate;
  existing shops get what the constant was (500 minor units, 7 days). The
  columns carry their defaults in the schema: a NOT NULL column with a default
  is added in place (SQLite would otherwise rebuild ``shop``, which other
  tables' foreign keys point at).
"""

from peewee import SQL, IntegerField
from playhouse.migrate import migrate


def _with_default(value: int) -> IntegerField:
    return IntegerField(default=value, constraints=[SQL(f"DEFAULT {value}")])


def upgrade(db, migrator) -> None:
    migrate(migrator.add_column("shop", "flat_rate_amount", _with_default(500),
                                allow_not_null=True),
            migrator.add_column("shop", "flat_rate_days", _with_default(7),
                                allow_not_null=True))
