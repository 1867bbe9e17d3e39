"""Balance due: a seller's change that raises what the buyer pays waits for the buyer.

- ``orders.balance_due``: what the waiting change asks the buyer to pay (0: none);
- ``pending_change``: the waiting change itself, at most one waiting per order
  (partial unique index ``pending_change_one_waiting``);
- ``payment_transaction.authorisation_id``: which authorisation a capture, refund
  or void moves money of, now that an order may have several (the checkout's and
  one per balance paid). Rows already there belong to their order's authorisation.
"""

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, Model, TextField
from playhouse.migrate import migrate


class _Frozen(Model):
    class Meta:
        legacy_table_names = False


class User(_Frozen):
    pass


class Order(_Frozen):
    class Meta:
        table_name = "orders"


class OrderRequest(_Frozen):
    pass


class PaymentTransaction(_Frozen):
    pass


class PendingChange(_Frozen):
    order = ForeignKeyField(Order, on_delete="CASCADE", index=False, backref="+")
    request = ForeignKeyField(OrderRequest, null=True, on_delete="SET NULL", index=False,
                              backref="+")
    changes = TextField()
    lines_before = TextField()
    description = CharField(max_length=500)
    total_before = IntegerField()
    total_after = IntegerField()
    amount_due = IntegerField()
    state = CharField(max_length=10, default="waiting")
    created_by = ForeignKeyField(User, on_delete="CASCADE", index=False, backref="+")
    created_at = DateTimeField()
    decided_at = DateTimeField(null=True)
    reason = CharField(max_length=300, default="")

    class Meta:
        indexes = ((("order", "id"), False),)


PendingChange.add_index(
    PendingChange.index(PendingChange.order, unique=True, name="pending_change_one_waiting")
    .where(PendingChange.state == "waiting"))


def upgrade(db, migrator) -> None:
    # Not through the migrator: on SQLite it would rebuild ``orders`` to add NOT NULL, and
    # dropping the old table cascades to every row that refers to an order.
    db.execute_sql("ALTER TABLE orders ADD COLUMN balance_due INTEGER NOT NULL DEFAULT 0")
    migrate(migrator.add_column("payment_transaction", "authorisation_id",
                                ForeignKeyField(PaymentTransaction, null=True,
                                                on_delete="CASCADE", index=False,
                                                field=PaymentTransaction.id)))
    with db.bind_ctx([PendingChange]):
        db.create_tables([PendingChange])
    # Each order had one authorisation until now: its other calls are that one's.
    db.execute_sql(
        "UPDATE payment_transaction SET authorisation_id = (SELECT a.id FROM "
        "payment_transaction a WHERE a.order_id = payment_transaction.order_id "
        "AND a.kind = 'authorise' AND a.state = 'succeeded' ORDER BY a.id LIMIT 1) "
        "WHERE kind <> 'authorise'")
