"""The schema as it stood when migrations began (the portal of issues 2-4).

The tables are frozen here, as they were then, not imported from
``portal.models``: a later change to the models must not change what this
migration creates. A database made by ``init-db`` before migrations existed
has exactly these tables; ``db upgrade`` records it at this step without
running it.
"""

from peewee import (BooleanField, CharField, DateField, DateTimeField, ForeignKeyField,
                    IntegerField, Model, TextField)


class _Frozen(Model):
    class Meta:
        legacy_table_names = False


class User(_Frozen):
    email = CharField(max_length=254, unique=True)
    name = CharField(max_length=120)
    password_hash = CharField(max_length=255)
    role = CharField(max_length=10)
    created_at = DateTimeField()


class Shop(_Frozen):
    owner = ForeignKeyField(User, index=True, backref="+")
    name = CharField(max_length=120)
    slug = CharField(max_length=80, unique=True)
    currency = CharField(max_length=3)
    handling_days = IntegerField()
    modification_window_hours = IntegerField()
    return_window_days = IntegerField()
    notify_by_email = BooleanField()
    ship_from_name = CharField(max_length=120)
    ship_from_line1 = CharField(max_length=200)
    ship_from_line2 = CharField(max_length=200)
    ship_from_city = CharField(max_length=100)
    ship_from_region = CharField(max_length=100)
    ship_from_postal_code = CharField(max_length=20)
    ship_from_country = CharField(max_length=2)
    created_at = DateTimeField()


class Product(_Frozen):
    shop = ForeignKeyField(Shop, index=True, backref="+")
    name = CharField(max_length=200)
    description = TextField()
    returnable = BooleanField()
    created_at = DateTimeField()


class Variant(_Frozen):
    product = ForeignKeyField(Product, index=True, backref="+")
    sku = CharField(max_length=64)
    size = CharField(max_length=32)
    colour = CharField(max_length=32)
    price = IntegerField()
    stock = IntegerField()


class Address(_Frozen):
    user = ForeignKeyField(User, index=True, backref="+")
    full_name = CharField(max_length=120)
    line1 = CharField(max_length=200)
    line2 = CharField(max_length=200)
    city = CharField(max_length=100)
    region = CharField(max_length=100)
    postal_code = CharField(max_length=20)
    country = CharField(max_length=2)
    phone = CharField(max_length=32)
    is_default = BooleanField()


class Order(_Frozen):
    number = CharField(max_length=16, unique=True)
    shop = ForeignKeyField(Shop, index=False, backref="+")
    buyer = ForeignKeyField(User, index=False, backref="+")
    status = CharField(max_length=12)
    payment_status = CharField(max_length=20)
    payment_method = CharField(max_length=80)
    currency = CharField(max_length=3)
    subtotal = IntegerField()
    discount_total = IntegerField()
    shipping_total = IntegerField()
    fee_total = IntegerField()
    total = IntegerField()
    item_summary = CharField(max_length=200)
    item_count = IntegerField()
    shipped_count = IntegerField()
    address_verified = BooleanField()
    ship_name = CharField(max_length=120)
    ship_line1 = CharField(max_length=200)
    ship_line2 = CharField(max_length=200)
    ship_city = CharField(max_length=100)
    ship_region = CharField(max_length=100)
    ship_postal_code = CharField(max_length=20)
    ship_country = CharField(max_length=2)
    ship_phone = CharField(max_length=32)
    placed_at = DateTimeField()
    estimated_delivery = DateField(null=True)
    updated_at = DateTimeField()
    version = IntegerField()

    class Meta:
        table_name = "orders"
        indexes = (
            (("buyer", "placed_at", "id", "status", "shop", "currency", "total"), False),
            (("buyer", "status", "placed_at", "id"), False),
            (("shop", "placed_at", "id", "status", "total"), False),
            (("shop", "status", "placed_at", "id"), False),
            (("shop", "total", "id"), False),
            (("shop", "status", "total", "id"), False),
            (("shop", "status", "estimated_delivery"), False),
        )


class OrderLine(_Frozen):
    order = ForeignKeyField(Order, on_delete="CASCADE", index=True, backref="+")
    variant = ForeignKeyField(Variant, null=True, on_delete="SET NULL", index=True, backref="+")
    product_name = CharField(max_length=200)
    sku = CharField(max_length=64)
    size = CharField(max_length=32)
    colour = CharField(max_length=32)
    unit_price = IntegerField()
    quantity = IntegerField()
    line_total = IntegerField()
    picked = BooleanField()
    shipped_quantity = IntegerField()


class Shipment(_Frozen):
    order = ForeignKeyField(Order, on_delete="CASCADE", index=True, backref="+")
    carrier_code = CharField(max_length=40)
    carrier_name = CharField(max_length=80)
    tracking_number = CharField(max_length=64, index=True)
    tracking_url = CharField(max_length=500)
    status = CharField(max_length=24)
    shipped_at = DateTimeField()
    estimated_delivery = DateField(null=True)
    delivered_at = DateTimeField(null=True)
    updated_at = DateTimeField(null=True)
    label_id = CharField(max_length=120, null=True)
    label_service = CharField(max_length=80, null=True)
    label_amount = IntegerField(null=True)
    label_currency = CharField(max_length=3, null=True)
    label_bought_at = DateTimeField(null=True)
    label_voided_at = DateTimeField(null=True)


class ShipmentLine(_Frozen):
    shipment = ForeignKeyField(Shipment, on_delete="CASCADE", index=True, backref="+")
    order_line = ForeignKeyField(OrderLine, on_delete="CASCADE", index=True, backref="+")
    quantity = IntegerField()


class TrackingEvent(_Frozen):
    shipment = ForeignKeyField(Shipment, on_delete="CASCADE", index=False, backref="+")
    occurred_at = DateTimeField()
    status = CharField(max_length=24)
    description = CharField(max_length=300)
    location = CharField(max_length=120)
    external_id = CharField(max_length=120, null=True)

    class Meta:
        indexes = (
            (("shipment", "occurred_at"), False),
            (("shipment", "external_id"), True),
        )


class OrderEvent(_Frozen):
    order = ForeignKeyField(Order, on_delete="CASCADE", index=False, backref="+")
    created_at = DateTimeField()
    actor = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    actor_role = CharField(max_length=10)
    kind = CharField(max_length=32)
    message = CharField(max_length=500)
    before = TextField(null=True)
    after = TextField(null=True)
    internal = BooleanField()

    class Meta:
        indexes = ((("order", "created_at"), False),)


class OrderRequest(_Frozen):
    order = ForeignKeyField(Order, on_delete="CASCADE", index=True, backref="+")
    shop = ForeignKeyField(Shop, on_delete="CASCADE", backref="+")
    kind = CharField(max_length=20)
    status = CharField(max_length=12)
    reason = CharField(max_length=500)
    details = TextField()
    created_by = ForeignKeyField(User, on_delete="CASCADE", backref="+")
    created_at = DateTimeField()
    decided_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    decided_at = DateTimeField(null=True)
    response = CharField(max_length=500)

    class Meta:
        indexes = ((("shop", "status", "created_at"), False),)


class PluginConfig(_Frozen):
    shop = ForeignKeyField(Shop, on_delete="CASCADE", backref="+")
    plugin = CharField(max_length=80)
    enabled = BooleanField()
    settings = TextField()
    webhook_secret = CharField(max_length=80)
    updated_at = DateTimeField()

    class Meta:
        indexes = ((("shop", "plugin"), True),)


class WebhookReceipt(_Frozen):
    shop = ForeignKeyField(Shop, on_delete="CASCADE", backref="+")
    carrier_code = CharField(max_length=40)
    event_id = CharField(max_length=120)
    received_at = DateTimeField()

    class Meta:
        indexes = ((("shop", "carrier_code", "event_id"), True),)



TABLES = [User, Shop, Product, Variant, Address, Order, OrderLine, Shipment, ShipmentLine,
          TrackingEvent, OrderEvent, OrderRequest, PluginConfig, WebhookReceipt]


def upgrade(db, migrator) -> None:
    with db.bind_ctx(TABLES):
        db.create_tables(TABLES)
