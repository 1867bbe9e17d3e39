"""``user.phone``: the account's phone number in E.164 (``+14155550123``) or "", for
notification channels that need one (a plugin's text messages). Existing accounts get "".
Added in place with its default in the schema (SQLite would otherwise rebuild the table)."""

from peewee import SQL, CharField
from playhouse.migrate import migrate


def upgrade(db, migrator) -> None:
    migrate(migrator.add_column("user", "phone",
                                CharField(max_length=16, default="",
                                          constraints=[SQL("DEFAULT ''")]),
                                allow_not_null=True))
