"""The shop's flat shipping rate as settings; when a payment is captured, on its row.

- ``shop.flat_rate_amount`` (minor units of the shop's currency) and
  ``shop.flat_rate_days``: what checkout offers when no carrier quotes a rate;
  existing shops get what the constant was (500 minor units, 7 days).
- ``payment_transaction.capture``: ``on_shipping`` or ``on_delivery``, as the
  payment plugin's option declared it at checkout; the rows of cash on delivery
  (method ``cod``, the one method the ledger captured on delivery before) get
  ``on_delivery``, every other row ``on_shipping``.

The columns carry their defaults in the schema: a NOT NULL column with a default
is added in place (SQLite would otherwise rebuild the table, and ``shop`` is one
other tables' foreign keys point at).
"""

from peewee import SQL, CharField, IntegerField
from playhouse.migrate import migrate


def upgrade(db, migrator) -> None:
    migrate(migrator.add_column("shop", "flat_rate_amount",
                                IntegerField(default=500, constraints=[SQL("DEFAULT 500")]),
                                allow_not_null=True),
            migrator.add_column("shop", "flat_rate_days",
                                IntegerField(default=7, constraints=[SQL("DEFAULT 7")]),
                                allow_not_null=True),
            migrator.add_column("payment_transaction", "capture",
                                CharField(max_length=12, default="on_shipping",
                                          constraints=[SQL("DEFAULT 'on_shipping'")]),
                                allow_not_null=True))
    db.execute_sql("UPDATE payment_transaction SET capture = 'on_delivery' "
                   "WHERE method_code = 'cod'")
