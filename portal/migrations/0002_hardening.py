"""Revocable sessions, the login throttle, one waiting request per kind, hashed webhook ids.

- ``user.session_token``: part of every session cookie; log-out replaces it.
- ``login_failure``: wrong passwords per e-mail address, for the per-account throttle.
- ``order_request``: at most one open (or approved, not yet received) request per
  order and kind, a partial unique index. Racing posts could open duplicates
  before it: the older duplicates are closed first, with a reason the buyer sees.
- ``webhook_receipt.event_id`` holds "sha256:" and the hash of the carrier's whole
  event id; the ids already stored are hashed the same way.
"""

import hashlib

from peewee import CharField, DateTimeField, ForeignKeyField, Model

WAITING = ("open", "approved")


class _Frozen(Model):
    class Meta:
        legacy_table_names = False


class LoginFailure(_Frozen):
    email = CharField(max_length=254)
    failed_at = DateTimeField()

    class Meta:
        indexes = ((("email", "failed_at"), False),)


class Order(_Frozen):
    class Meta:
        table_name = "orders"


class OrderRequest(_Frozen):
    order = ForeignKeyField(Order, backref="+", index=False)  # its index exists already
    kind = CharField(max_length=20)
    status = CharField(max_length=12)
    response = CharField(max_length=500)


OrderRequest.add_index(
    OrderRequest.index(OrderRequest.order, OrderRequest.kind, unique=True,
                       name="order_request_one_waiting_per_kind")
    .where(OrderRequest.status.in_(list(WAITING))))


def _close_duplicate_requests(db) -> None:
    seen = set()
    rows = db.execute_sql(
        "SELECT id, order_id, kind FROM order_request WHERE status IN (%s, %s) "
        "ORDER BY order_id, kind, id DESC".replace("%s", db.param), WAITING).fetchall()
    duplicates = []
    for request_id, order_id, kind in rows:
        if (order_id, kind) in seen:
            duplicates.append(request_id)
        seen.add((order_id, kind))
    for start in range(0, len(duplicates), 500):
        batch = duplicates[start:start + 500]
        marks = ", ".join([db.param] * len(batch))
        db.execute_sql(f"UPDATE order_request SET status = 'closed', response = {db.param} "
                       f"WHERE id IN ({marks})",
                       ["A duplicate of the same request, sent twice; the other one stands.",
                        *batch])


def _hash_webhook_ids(db) -> None:
    rows = db.execute_sql("SELECT id, event_id FROM webhook_receipt "
                          f"WHERE event_id NOT LIKE {db.param}", ["sha256:%"]).fetchall()
    for receipt_id, event_id in rows:
        key = "sha256:" + hashlib.sha256(event_id.encode("utf-8", "surrogatepass")).hexdigest()
        db.execute_sql(f"UPDATE webhook_receipt SET event_id = {db.param} WHERE id = {db.param}",
                       [key, receipt_id])


def upgrade(db, migrator) -> None:
    from playhouse.migrate import migrate
    migrate(migrator.add_column("user", "session_token", CharField(max_length=64, null=True)))
    with db.bind_ctx([LoginFailure, OrderRequest]):
        db.create_tables([LoginFailure])
        _close_duplicate_requests(db)
        OrderRequest._schema.create_indexes(safe=False)  # only the partial unique one
    _hash_webhook_ids(db)
