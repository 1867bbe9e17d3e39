"""The yardstick: a bare Flask app that shows the same rows with hand-written SQL.

No login, session, CSRF, ORM, htmx or locale-aware formatting: one sqlite3
connection per request (as in Flask's tutorial), or one psycopg2 connection kept
for every request for a ``postgresql://`` URL, the same queries the portal's pages run, and templates that
show the same fields. The buyer is a query parameter. bench/buyer_pages.py times it
beside the portal, in the same run.
"""

import sqlite3
from datetime import datetime, timezone

from flask import Flask, abort, g, render_template, request

SPENDING_STATUSES = ("pending", "processed", "shipped", "delivered")
STATUSES = ("pending", "processed", "shipped", "delivered", "cancelled", "returned")


class _Postgres:
    """psycopg2 with sqlite3's ``execute(sql, params)`` and ``?`` marks."""

    def __init__(self, url: str):
        import psycopg2
        import psycopg2.extras

        self.conn = psycopg2.connect(url)
        self.conn.autocommit = True  # reads only; no transaction left open between requests
        self.factory = psycopg2.extras.DictCursor

    def execute(self, sql: str, params=()):
        cursor = self.conn.cursor(cursor_factory=self.factory)
        cursor.execute(sql.replace("?", "%s"), tuple(params))
        return cursor

    def close(self):
        pass  # kept for the next request, as the portal pools its connections


def _stamp(value) -> datetime:  # SQLite gives text, PostgreSQL a datetime
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def create_bare_app(database: str) -> Flask:
    """The bare app on a SQLite file's path or a ``postgresql://`` URL."""
    app = Flask(__name__)
    # A PostgreSQL connection costs milliseconds to open (a SQLite file microseconds),
    # and the portal pools them: one is kept for every request here too.
    postgres = _Postgres(database) if database.startswith("postgresql://") else None

    def db():
        if "db" not in g:
            if postgres is not None:
                g.db = postgres
            else:
                g.db = sqlite3.connect(database)
                g.db.row_factory = sqlite3.Row
        return g.db

    @app.teardown_appcontext
    def close(exc):
        conn = g.pop("db", None)
        if conn is not None:
            conn.close()

    @app.get("/orders")
    def orders():
        buyer = int(request.args["buyer"])
        status, q = request.args.get("status", ""), request.args.get("q", "").strip()
        where, params = ["o.buyer_id = ?"], [buyer]
        if status:
            where.append("o.status = ?")
            params.append(status)
        if q:
            where.append("(s.name LIKE ? OR o.number LIKE ? OR EXISTS (SELECT 1 FROM "
                         "order_line l WHERE l.order_id = o.id AND l.product_name LIKE ?))")
            params += [f"%{q}%", f"{q.upper()}%", f"%{q}%"]
        if request.args.get("before"):
            stamp, _, ident = request.args["before"].partition(".")
            where.append("(o.placed_at, o.id) < (?, ?)")
            params += [str(datetime.strptime(stamp, "%Y%m%d%H%M%S%f")), int(ident)]
        rows = db().execute(
            "SELECT o.id, o.number, o.status, o.total, o.currency, o.placed_at, "
            "o.item_summary, s.name AS shop_name FROM orders o JOIN shop s ON s.id = o.shop_id "
            f"WHERE {' AND '.join(where)} ORDER BY o.placed_at DESC, o.id DESC LIMIT 21",
            params).fetchall()
        counts = dict.fromkeys(STATUSES, 0)
        counts.update(db().execute("SELECT status, COUNT(id) FROM orders WHERE buyer_id = ? "
                                   "GROUP BY status", (buyer,)).fetchall())
        spending = None
        if not request.headers.get("HX-Request"):
            year = datetime.now(timezone.utc).replace(tzinfo=None, month=1, day=1, hour=0, minute=0, second=0,
                                             microsecond=0)
            month = year.replace(month=datetime.now(timezone.utc).month)
            spending = db().execute(
                "SELECT s.name, o.currency, SUM(o.total) AS year, "
                "SUM(CASE WHEN o.placed_at >= ? THEN o.total ELSE 0 END) AS month "
                "FROM orders o JOIN shop s ON s.id = o.shop_id "
                "WHERE o.buyer_id = ? AND o.placed_at >= ? AND o.status IN (?, ?, ?, ?) "
                "GROUP BY s.id, s.name, o.currency ORDER BY SUM(o.total) DESC",
                (str(month), buyer, str(year), *SPENDING_STATUSES)).fetchall()
        older = None
        if len(rows) > 20:
            last = rows[19]
            older = (_stamp(last["placed_at"]).strftime("%Y%m%d%H%M%S%f")
                     + f".{last['id']}")
        template = "bare_orders.html" if spending is not None else "bare_list.html"
        return render_template(template, rows=rows[:20], counts=counts, spending=spending,
                               buyer=buyer, status=status, q=q, older=older,
                               total_count=sum(counts.values()))

    @app.get("/orders/<number>")
    def order_detail(number: str):
        buyer = int(request.args["buyer"])
        order = db().execute("SELECT o.*, s.name AS shop_name FROM orders o JOIN shop s "
                             "ON s.id = o.shop_id WHERE o.number = ? AND o.buyer_id = ?",
                             (number, buyer)).fetchone()
        if order is None:
            abort(404)
        lines = db().execute("SELECT * FROM order_line WHERE order_id = ? ORDER BY id",
                             (order["id"],)).fetchall()
        timeline = db().execute(
            "SELECT e.*, u.name AS actor_name FROM order_event e LEFT JOIN \"user\" u "
            "ON u.id = e.actor_id WHERE e.order_id = ? ORDER BY e.created_at DESC, e.id DESC",
            (order["id"],)).fetchall()
        shipments = [dict(s) for s in db().execute(
            "SELECT * FROM shipment WHERE order_id = ? ORDER BY shipped_at, id",
            (order["id"],))]
        by_id = {shipment["id"]: shipment for shipment in shipments}
        for shipment in shipments:
            shipment["tracking"] = []
        if shipments:
            marks = ", ".join("?" for _ in by_id)
            for event in db().execute(
                    f"SELECT * FROM tracking_event WHERE shipment_id IN ({marks}) "
                    "ORDER BY occurred_at DESC, id DESC", list(by_id)):
                by_id[event["shipment_id"]]["tracking"].append(event)
        return render_template("bare_detail.html", order=order, lines=lines,
                               timeline=timeline, shipments=shipments, buyer=buyer)

    app.jinja_env.filters["money"] = lambda minor: f"${minor / 100:,.2f}"
    app.jinja_env.filters["day"] = lambda value: _stamp(value).strftime("%b %d, %Y")
    app.jinja_env.filters["when"] = \
        lambda value: _stamp(value).strftime("%b %d, %Y, %I:%M %p")
    return app
