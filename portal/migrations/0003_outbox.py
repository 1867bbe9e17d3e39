"""The outbox: order events written with each change, delivered after the commit.

``outbox_event`` holds what happened (kind, order, shop, JSON payload) and when
it is due for delivery; ``outbox_delivery`` what each target (e.g. one plugin)
already took, so a retry tells only the ones that failed.
"""

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, Model, TextField


class _Frozen(Model):
    class Meta:
        legacy_table_names = False


class Order(_Frozen):
    class Meta:
        table_name = "orders"


class OutboxEvent(_Frozen):
    kind = CharField(max_length=40)
    order = ForeignKeyField(Order, null=True, on_delete="CASCADE", backref="+")
    shop_id = IntegerField(null=True)
    payload = TextField()
    created_at = DateTimeField()
    next_attempt_at = DateTimeField(null=True)
    attempts = IntegerField()
    delivered_at = DateTimeField(null=True)
    last_error = TextField()


OutboxEvent.add_index(OutboxEvent.index(OutboxEvent.next_attempt_at, OutboxEvent.id,
                                        name="outbox_event_due")
                      .where(OutboxEvent.next_attempt_at.is_null(False)))


class OutboxDelivery(_Frozen):
    event = ForeignKeyField(OutboxEvent, on_delete="CASCADE", index=False, backref="+")
    target = CharField(max_length=120)
    delivered_at = DateTimeField()

    class Meta:
        indexes = ((("event", "target"), True),)


def upgrade(db, migrator) -> None:
    with db.bind_ctx([OutboxEvent, OutboxDelivery]):
        db.create_tables([OutboxEvent, OutboxDelivery])
