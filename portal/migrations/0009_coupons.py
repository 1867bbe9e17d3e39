"""Coupons: ``coupon`` (a shop's promotions) and ``coupon_use`` (a coupon on a placed order),
and ``order_line.discount`` (each line's share of the order's discounts).

The number is 0009 because 0007 and 0008 were taken by work done at the same time.
Lines of orders placed before have no discount: 0.
"""

from peewee import (BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField,
                    Model, TextField)
from playhouse.migrate import migrate


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


class Coupon(_Frozen):
    shop = ForeignKeyField(Shop, on_delete="CASCADE", index=False, backref="+")
    code = CharField(max_length=40)
    code_key = CharField(max_length=40)
    name = CharField(max_length=120)
    plugin = CharField(max_length=80)
    kind = CharField(max_length=40)
    settings = TextField()
    starts_at = DateTimeField(null=True)
    ends_at = DateTimeField(null=True)
    timezone = CharField(max_length=64)
    min_spend = IntegerField()
    usage_limit = IntegerField(null=True)
    per_buyer_limit = IntegerField(null=True)
    combines = BooleanField()
    automatic = BooleanField()
    buyer = ForeignKeyField(User, null=True, on_delete="CASCADE", backref="+")
    offered_for = ForeignKeyField(Order, null=True, on_delete="SET NULL", backref="+")
    status = CharField(max_length=10)
    uses = IntegerField()
    created_at = DateTimeField()
    updated_at = DateTimeField()

    class Meta:
        indexes = ((("shop", "code_key"), True), (("shop", "status", "id"), False))


class CouponUse(_Frozen):
    coupon = ForeignKeyField(Coupon, on_delete="CASCADE", index=False, backref="+")
    order = ForeignKeyField(Order, on_delete="CASCADE", index=True, backref="+")
    buyer = ForeignKeyField(User, on_delete="CASCADE", index=False, backref="+")
    email_key = CharField(max_length=254)
    amount = IntegerField()
    created_at = DateTimeField()
    released_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("coupon", "order"), True), (("coupon", "buyer"), False),
                   (("coupon", "email_key"), False))


def upgrade(db, migrator) -> None:
    with db.bind_ctx([Coupon, CouponUse]):
        db.create_tables([Coupon, CouponUse])
    migrate(migrator.add_column("order_line", "discount", IntegerField(default=0)))
