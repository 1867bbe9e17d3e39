"""Carrier pushes taken in first, applied after the answer (issue 12).

- ``webhook_receipt.reports``: the plugin's parsed reports as JSON, stored with the receipt
  in the one short transaction of the push.
- ``webhook_receipt.applied_at``: when the worker applied them; ``NULL`` while they wait.
  The receipts already there were applied inside their request, so they get their
  ``received_at``.
- ``webhook_receipt.error``: why a report of the push could not be applied ("" if none).
- an index on ``(applied_at, id)``: the waiting receipts in order, from the index alone.

Columns carry their defaults in the schema, so they are added in place."""

from peewee import SQL, DateTimeField, TextField
from playhouse.migrate import migrate


def upgrade(db, migrator) -> None:
    migrate(migrator.add_column("webhook_receipt", "reports",
                                TextField(default="[]", constraints=[SQL("DEFAULT '[]'")]),
                                allow_not_null=True),
            migrator.add_column("webhook_receipt", "applied_at", DateTimeField(null=True)),
            migrator.add_column("webhook_receipt", "error",
                                TextField(default="", constraints=[SQL("DEFAULT ''")]),
                                allow_not_null=True))
    db.execute_sql('UPDATE "webhook_receipt" SET "applied_at" = "received_at"')
    migrate(migrator.add_index("webhook_receipt", ("applied_at", "id"), False))
