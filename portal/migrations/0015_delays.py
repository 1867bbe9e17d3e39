"""Delays: what the buyer chose to ship with, which lateness was told, the shop's words.

- ``orders.shipping_service`` / ``orders.shipping_name``: the shipping service chosen at
  checkout ("ups:ground", "Standard shipping"), which a delay's free upgrade changes;
  "" for the orders already there (they kept only the amount and a timeline text);
- ``orders.delay_noticed``: "" / "handling" / "transit", the lateness its buyer and shop
  were told of, so the noticing task tells each once;
- ``orders.delay_note``: the shop's latest words about the delay;
- two partial indexes (``orders_late_to_ship``, ``orders_late_in_transit``) holding only
  orders that may still turn late untold, the noticing task's batches.

Numbered 0015: the numbers around it are reserved by work done at the same time."""

from peewee import CharField, DateField, DateTimeField, Model, TextField


class _Frozen(Model):
    class Meta:
        legacy_table_names = False


class Order(_Frozen):
    status = CharField(max_length=12)
    placed_at = DateTimeField()
    estimated_delivery = DateField(null=True)
    delay_noticed = CharField(max_length=12)
    delay_note = TextField()

    class Meta:
        table_name = "orders"


Order.add_index(Order.index(Order.placed_at, name="orders_late_to_ship")
                .where(Order.status.in_(["pending", "processed"]) & (Order.delay_noticed == "")))
Order.add_index(Order.index(Order.estimated_delivery, name="orders_late_in_transit")
                .where((Order.status == "shipped") & (Order.delay_noticed != "transit")))


def upgrade(db, migrator) -> None:
    # Not through the migrator: on SQLite it would rebuild ``orders`` (see 0007).
    db.execute_sql("ALTER TABLE orders ADD COLUMN shipping_service VARCHAR(64) NOT NULL "
                   "DEFAULT ''")
    db.execute_sql("ALTER TABLE orders ADD COLUMN shipping_name VARCHAR(120) NOT NULL "
                   "DEFAULT ''")
    db.execute_sql("ALTER TABLE orders ADD COLUMN delay_noticed VARCHAR(12) NOT NULL DEFAULT ''")
    db.execute_sql("ALTER TABLE orders ADD COLUMN delay_note TEXT NOT NULL DEFAULT ''")
    with db.bind_ctx([Order]):
        Order._schema.create_indexes(safe=True)
