"""The payment ledger: one row per authorise, capture, refund or void, on the record.

``payment_transaction`` holds each call to a payment plugin, written pending before
the call and completed with its answer; ``idempotency_key`` is unique, and the
partial index ``payment_transaction_due`` finds the calls whose outcome is unknown.
Orders placed before it have no rows and keep their payment status as it was.
"""

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, Model, TextField


class _Frozen(Model):
    class Meta:
        legacy_table_names = False


class Order(_Frozen):
    class Meta:
        table_name = "orders"


class PaymentTransaction(_Frozen):
    order = ForeignKeyField(Order, on_delete="CASCADE", index=False, backref="+")
    kind = CharField(max_length=10)
    amount = IntegerField()
    currency = CharField(max_length=3)
    method_code = CharField(max_length=40)
    plugin = CharField(max_length=80)
    idempotency_key = CharField(max_length=120, unique=True)
    state = CharField(max_length=10)
    reference = CharField(max_length=120)
    message = TextField()
    display = CharField(max_length=80)
    reason = CharField(max_length=200)
    attempts = IntegerField()
    next_attempt_at = DateTimeField(null=True)
    created_at = DateTimeField()
    completed_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("order", "id"), False),)


PaymentTransaction.add_index(PaymentTransaction.index(
    PaymentTransaction.next_attempt_at, PaymentTransaction.id, name="payment_transaction_due")
    .where(PaymentTransaction.next_attempt_at.is_null(False)))


def upgrade(db, migrator) -> None:
    with db.bind_ctx([PaymentTransaction]):
        db.create_tables([PaymentTransaction])
