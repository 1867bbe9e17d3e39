"""Notifications: ``notification`` (what a user was told about an order, once per outbox
event) and ``notification_preference`` (a kind a user turned off for a channel, e.g. by
an e-mail's unsubscribe link)."""

from peewee import (BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField,
                    Model)


class _Frozen(Model):
    class Meta:
        legacy_table_names = False


class User(_Frozen):
    pass


class Order(_Frozen):
    class Meta:
        table_name = "orders"


class Notification(_Frozen):
    user = ForeignKeyField(User, on_delete="CASCADE", index=False, backref="+")
    order = ForeignKeyField(Order, null=True, on_delete="CASCADE", index=False, backref="+")
    event_id = IntegerField()
    kind = CharField(max_length=40)
    text = CharField(max_length=500)
    url = CharField(max_length=500)
    created_at = DateTimeField()
    read_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("user", "event_id"), True), (("user", "id"), False))


Notification.add_index(Notification.index(Notification.user, Notification.id,
                                          name="notification_unread")
                       .where(Notification.read_at.is_null()))


class NotificationPreference(_Frozen):
    user = ForeignKeyField(User, on_delete="CASCADE", index=False, backref="+")
    kind = CharField(max_length=40)
    channel = CharField(max_length=20)
    enabled = BooleanField()
    updated_at = DateTimeField()

    class Meta:
        indexes = ((("user", "channel", "kind"), True),)


def upgrade(db, migrator) -> None:
    with db.bind_ctx([Notification, NotificationPreference]):
        db.create_tables([Notification, NotificationPreference])
