"""Messages: each order's conversation between its buyer and its shop.

- ``order_message``: one row per message (order, author and their role, body, when);
- ``orders.buyer_unread`` / ``orders.seller_unread``: what each side has not read yet,
  kept on the order (0 for the orders already there), with a partial index each
  (``orders_buyer_unread``, ``orders_seller_unread``) holding only orders with something
  unread, so the nav badges are one small index read.
"""

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, Model, TextField


class _Frozen(Model):
    class Meta:
        legacy_table_names = False


class User(_Frozen):
    pass


class Shop(_Frozen):
    pass


class Order(_Frozen):
    buyer = ForeignKeyField(User, index=False, backref="+")
    shop = ForeignKeyField(Shop, index=False, backref="+")
    buyer_unread = IntegerField()
    seller_unread = IntegerField()

    class Meta:
        table_name = "orders"


Order.add_index(Order.index(Order.buyer, Order.buyer_unread, name="orders_buyer_unread")
                .where(Order.buyer_unread > 0))
Order.add_index(Order.index(Order.shop, Order.seller_unread, name="orders_seller_unread")
                .where(Order.seller_unread > 0))


class OrderMessage(_Frozen):
    order = ForeignKeyField(Order, on_delete="CASCADE", index=False, backref="+")
    author = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    author_role = CharField(max_length=10)
    body = TextField()
    created_at = DateTimeField()

    class Meta:
        indexes = ((("order", "id"), False),)


def upgrade(db, migrator) -> None:
    # Not through the migrator: on SQLite it would rebuild ``orders`` (see 0007).
    db.execute_sql("ALTER TABLE orders ADD COLUMN buyer_unread INTEGER NOT NULL DEFAULT 0")
    db.execute_sql("ALTER TABLE orders ADD COLUMN seller_unread INTEGER NOT NULL DEFAULT 0")
    with db.bind_ctx([Order, OrderMessage]):
        Order._schema.create_indexes(safe=True)
        db.create_tables([OrderMessage])
