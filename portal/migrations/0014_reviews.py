"""Reviews: ``review``, a buyer's rating (1-5) and words about a delivered order, one per
order, with the shop's one reply. Its indexes make a shop's average and distribution a read
of ``(shop, rating)`` and /seller/reviews a range of ``(shop, id)``.

Numbered 0014: the numbers before it are reserved by work done at the same time."""

from peewee import DateTimeField, ForeignKeyField, IntegerField, Model, TextField


class _Frozen(Model):
    class Meta:
        legacy_table_names = False


class User(_Frozen):
    pass


class Shop(_Frozen):
    pass


class Order(_Frozen):
    class Meta:
        table_name = "orders"


class Review(_Frozen):
    order = ForeignKeyField(Order, on_delete="CASCADE", unique=True, backref="+")
    shop = ForeignKeyField(Shop, on_delete="CASCADE", index=False, backref="+")
    buyer = ForeignKeyField(User, on_delete="CASCADE", index=False, backref="+")
    rating = IntegerField()
    text = TextField(default="")
    created_at = DateTimeField()
    updated_at = DateTimeField()
    reply = TextField(null=True)
    replied_at = DateTimeField(null=True)
    replied_by = ForeignKeyField(User, null=True, on_delete="SET NULL", index=False, backref="+")

    class Meta:
        indexes = ((("shop", "rating"), False), (("shop", "id"), False))


def upgrade(db, migrator) -> None:
    with db.bind_ctx([Review]):
        db.create_tables([Review])
