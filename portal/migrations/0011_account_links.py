"""Account links: ``account_link`` (single-use password-reset and e-mail-change links,
kept as hashes of their tokens).

The number is 0011 because 0010 is taken by work done at the same time.
"""

from peewee import CharField, DateTimeField, ForeignKeyField, Model


class _Frozen(Model):
    class Meta:
        legacy_table_names = False


class User(_Frozen):
    pass


class AccountLink(_Frozen):
    user = ForeignKeyField(User, backref="+", on_delete="CASCADE", index=False)
    purpose = CharField(max_length=20)
    token_hash = CharField(max_length=64, unique=True)
    new_email = CharField(max_length=254, default="")
    created_at = DateTimeField()
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("user", "purpose", "created_at"), False),)


def upgrade(db, migrator) -> None:
    with db.bind_ctx([AccountLink]):
        db.create_tables([AccountLink])
