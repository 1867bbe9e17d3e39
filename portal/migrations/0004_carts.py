"""Carts: a buyer's cart per shop and its lines; a shop's products indexed for paging.

``cart`` is unique per (buyer, shop) and ``cart_line`` per (cart, variant), so
two "Add to cart" posts at once add up in one row instead of making two.
``product``'s index on ``shop_id`` becomes (``shop_id``, ``id``): the storefront
pages through a shop's products by id.
"""

from peewee import DateTimeField, ForeignKeyField, IntegerField, Model
from playhouse.migrate import migrate


class _Frozen(Model):
    class Meta:
        legacy_table_names = False


class User(_Frozen):
    pass


class Shop(_Frozen):
    pass


class Variant(_Frozen):
    pass


class Cart(_Frozen):
    buyer = ForeignKeyField(User, on_delete="CASCADE", index=False, backref="+")
    shop = ForeignKeyField(Shop, on_delete="CASCADE", index=True, backref="+")
    created_at = DateTimeField()
    updated_at = DateTimeField()

    class Meta:
        indexes = ((("buyer", "shop"), True),)


class CartLine(_Frozen):
    cart = ForeignKeyField(Cart, on_delete="CASCADE", index=False, backref="+")
    variant = ForeignKeyField(Variant, on_delete="CASCADE", index=True, backref="+")
    quantity = IntegerField()
    created_at = DateTimeField()

    class Meta:
        indexes = ((("cart", "variant"), True),)


def upgrade(db, migrator) -> None:
    migrate(migrator.drop_index("product", "product_shop_id"),
            migrator.add_index("product", ("shop_id", "id"), False))
    with db.bind_ctx([Cart, CartLine]):
        db.create_tables([Cart, CartLine])
