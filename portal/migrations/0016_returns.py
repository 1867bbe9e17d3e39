"""Returns that finish: per-line return items, return parcels, the shop's return address.

- ``return_item``: one line of a return (quantity, the buyer's reason, what came back).
- ``shipment.direction``: ``out`` (every existing parcel) or ``return``.
- ``order_request.return_shipment_id``, ``.refunded``, ``.shipping_refunded``: a return's
  parcel and what its receipt refunded.
- ``orders.returned_count``: items received back, for "partly returned" on list rows.
- ``shop.return_*``: the return address (empty: the ship-from address).

Columns carry their defaults in the schema, so they are added in place (SQLite would
otherwise rebuild tables other tables' foreign keys point at).

Numbered 0016: the numbers before it are reserved by work done at the same time."""

from peewee import SQL, CharField, ForeignKeyField, IntegerField, Model
from playhouse.migrate import migrate


class _Frozen(Model):
    class Meta:
        legacy_table_names = False


class OrderRequest(_Frozen):
    pass


class OrderLine(_Frozen):
    pass


class Shipment(_Frozen):
    pass


class ReturnItem(_Frozen):
    request = ForeignKeyField(OrderRequest, on_delete="CASCADE", index=True, backref="+")
    order_line = ForeignKeyField(OrderLine, on_delete="CASCADE", index=True, backref="+")
    quantity = IntegerField()
    reason = CharField(max_length=20)
    note = CharField(max_length=300, default="")
    received = IntegerField(null=True)


def _text(length: int) -> CharField:
    return CharField(max_length=length, default="", constraints=[SQL("DEFAULT ''")])


def _zero() -> IntegerField:
    return IntegerField(default=0, constraints=[SQL("DEFAULT 0")])


def upgrade(db, migrator) -> None:
    # Not through the migrator: on SQLite it would rebuild ``orders`` to add NOT NULL.
    db.execute_sql("ALTER TABLE orders ADD COLUMN returned_count INTEGER NOT NULL DEFAULT 0")
    migrate(*(migrator.add_column("shop", f"return_{name}", _text(length), allow_not_null=True)
              for name, length in (("name", 120), ("line1", 200), ("line2", 200),
                                   ("city", 100), ("region", 100), ("postal_code", 20),
                                   ("country", 2))),
            migrator.add_column("shipment", "direction",
                                CharField(max_length=8, default="out",
                                          constraints=[SQL("DEFAULT 'out'")]),
                                allow_not_null=True),
            migrator.add_column("order_request", "return_shipment_id",
                                ForeignKeyField(Shipment, null=True, on_delete="SET NULL",
                                                index=False, field=Shipment.id)),
            migrator.add_column("order_request", "refunded", _zero(), allow_not_null=True),
            migrator.add_column("order_request", "shipping_refunded", _zero(),
                                allow_not_null=True))
    with db.bind_ctx([ReturnItem]):
        db.create_tables([ReturnItem])
