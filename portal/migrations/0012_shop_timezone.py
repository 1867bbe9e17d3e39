"""``shop.timezone``: the shop's own clock (an IANA zone name such as ``Europe/Paris``),
so a coupon's start and end are the shop's midnight, whatever zone the portal runs in.
Existing shops get ``UTC``, the portal's default clock. Added in place with its
default in the schema (SQLite would otherwise rebuild ``shop``)."""

from peewee import SQL, CharField
from playhouse.migrate import migrate


def upgrade(db, migrator) -> None:
    migrate(migrator.add_column("shop", "timezone",
                                CharField(max_length=64, default="UTC",
                                          constraints=[SQL("DEFAULT 'UTC'")]),
                                allow_not_null=True))
