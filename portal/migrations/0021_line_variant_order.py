"""Order lines indexed by (variant, order) instead of variant alone (issue 12).

The seller's search finds the orders of the matching products through their
variants' lines: with the order id in the index, that is read from the index
alone instead of one table row a line (about 1,700 lines for a popular product
in a shop of 10,000 orders). The old single-column index is a prefix of the new
one, so it goes."""

from playhouse.migrate import migrate


def upgrade(db, migrator) -> None:
    migrate(migrator.drop_index("order_line", "order_line_variant_id"),
            migrator.add_index("order_line", ("variant_id", "order_id"), False))
