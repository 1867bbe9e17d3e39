"""Checkout: ``orders.checkout_token``, unique, so one checkout places one order.

Nullable: orders placed before checkout (the seeder's, old ones) have none.
"""

from peewee import CharField
from playhouse.migrate import migrate


def upgrade(db, migrator) -> None:
    migrate(migrator.add_column("orders", "checkout_token",
                                CharField(max_length=64, null=True)),
            migrator.add_index("orders", ("checkout_token",), True))
