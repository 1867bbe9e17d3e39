"""Server time of the buyer's pages on a big demo database, beside a bare Flask view.

    .venv/bin/python bench/buyer_pages.py [--orders N] [--runs R] [--database URL]

Builds (once per size) a SQLite database of N demo orders (default 1,000,000),
logs in through the login form (CSRF on, real argon2 parameters) as the demo
buyer and as a generated buyer, and times each page with Flask's test client:
the time from the WSGI call to the last byte of the body, so sessions, CSRF,
queries, templates and headers are in it and the test client is not. The bare
app (bench/bare.py) fetches the same rows with hand-written SQL and renders a
plain template, measured in the same run. With ``--database postgresql://...``
both run on PostgreSQL, filled from that SQLite database with COPY the first time
(bench/common.py ``postgres_database``). Also: SQL statements per page (peewee
logs each one) and the compressed size of the page's HTML plus its CSS.

Budgets (PRODUCT.md): Orders page and order detail 5 ms median, each within 2x
of the bare view; a constant number of queries; under 30 KB of HTML + CSS gzipped.
"""

import argparse
import gzip
import logging
import os
import platform
import re
import statistics
import sys
import time
from datetime import date

from common import ROOT, demo_database, portal_app, postgres_database

from bare import create_bare_app

PASSWORD = "buyer-demo"
BUDGET_MS, BUDGET_RATIO, BUDGET_KB = 5.0, 2.0, 30.0
STATUSES = ["pending", "processed", "shipped", "delivered", "cancelled", "returned"]
DEEP = 25  # the page reached by following "Older orders" 24 times


class ServerTimer:
    """WSGI middleware that remembers how long the app took for the last request."""

    def __init__(self, app):
        self.app, self.last = app, 0.0

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        result = self.app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        self.last = time.perf_counter() - started
        return [body]


class StatementCounter(logging.Handler):
    """Counts the SQL statements peewee logs (at DEBUG, on logger "peewee")."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record):
        # peewee logs each statement as (sql, params); other records (the
        # connection pool's "Returning ... to pool") are not statements.
        if isinstance(record.msg, tuple):
            self.count += 1


def timed(client, timer, url, runs, headers=None) -> list[float]:
    for _ in range(3):  # warm: templates compiled, pages in SQLite's cache
        assert client.get(url, headers=headers).status_code == 200, url
    times = []
    for _ in range(runs):
        response = client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.status_code)
        times.append(timer.last * 1000)
    return times


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def log_in(client, email: str, password: str = PASSWORD) -> None:
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    response = client.post("/login", data={"email": email, "password": password,
                                           "csrf_token": token})
    assert response.status_code == 303, f"could not log in as {email}"


def older_link(html: str) -> str | None:
    match = re.search(r'<a href="([^"]+)"[^>]*rel="next"', html)
    return match.group(1).replace("&amp;", "&") if match else None


def pages_for(client, buyer_id: int, detail_number: str, search: str) -> list[tuple]:
    """(label, portal URL, bare URL, headers) of every page to time for one buyer."""
    bare = f"buyer={buyer_id}"
    pages = [("Orders, first page", "/orders", f"/orders?{bare}", None)]
    pages += [(f"Orders, {s} tab", f"/orders?status={s}", f"/orders?{bare}&status={s}", None)
              for s in STATUSES]
    pages.append((f"Orders, search {search!r}", f"/orders?q={search}",
                  f"/orders?{bare}&q={search}", None))
    url, depth = "/orders", 1
    while depth < DEEP:
        url = older_link(client.get(url).get_data(as_text=True))
        if url is None:
            break
        depth += 1
    if depth == DEEP:
        before = re.search(r"before=([^&]+)", url).group(1)
        pages.append((f"Orders, page {DEEP} (Older x{DEEP - 1})", url,
                      f"/orders?{bare}&before={before}", None))
    pages.append(("Orders, htmx fragment", "/orders", f"/orders?{bare}",
                  {"HX-Request": "true"}))
    pages.append(("Order detail (delivered)", f"/orders/{detail_number}",
                  f"/orders/{detail_number}?{bare}", None))
    return pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=50, help="timed requests per page")
    parser.add_argument("--database", help="a postgresql:// URL (empty: filled by COPY)")
    args = parser.parse_args()
    path = demo_database(args.orders)
    url = postgres_database(args.orders, args.database) if args.database else None

    app = portal_app(path, **({"DATABASE_URL": url} if url else {}))
    app.wsgi_app = portal_timer = ServerTimer(app.wsgi_app)
    bare_app = create_bare_app(url or str(path))
    bare_app.wsgi_app = bare_timer = ServerTimer(bare_app.wsgi_app)
    bare_client = bare_app.test_client()
    css = (ROOT / "static" / "css" / "portal.css").read_bytes()
    css_gz = len(gzip.compress(css))
    htmx_path = ROOT / "static" / "vendor" / "htmx.min.js"
    htmx_gz = len(gzip.compress(htmx_path.read_bytes())) if htmx_path.exists() else 0
    counter = StatementCounter()
    peewee_log = logging.getLogger("peewee")

    from portal.db import database
    from portal.models import Order, User

    n_buyers = min(100_000, args.orders // 10)
    generated = f"buyer{max(3, min(50_000, n_buyers // 2))}@example.com"
    print(f"# bench/buyer_pages.py, {date.today()}, {args.orders:,} orders, {args.runs} runs "
          f"per page; {os.cpu_count()} cores, Python {platform.python_version()}, "
          + (f"PostgreSQL ({url.rsplit('@', 1)[-1]})" if url
             else f"SQLite {__import__('sqlite3').sqlite_version}"))
    print("# ms = server time, median and p90; bare = the bare view's median; "
          "q = SQL statements; KB = gzipped HTML + CSS")
    over = []
    for email, search in (("buyer@example.com", "mug"), (generated, "tee")):
        with app.app_context(), database.connection_context():
            buyer = User.get(User.email == email)
            n_orders = Order.select().where(Order.buyer == buyer.id).count()
            detail = (Order.select(Order.number).where(
                (Order.buyer == buyer.id) & (Order.status == "delivered"))
                .order_by(Order.placed_at.desc()).first())
        client = app.test_client()
        log_in(client, email)
        print(f"\n{email} ({n_orders:,} orders)")
        print(f"  {'page':<36} {'median':>7} {'p90':>6} {'bare':>6} {'ratio':>6} "
              f"{'q':>3} {'KB':>5}")
        for label, url, bare_url, headers in pages_for(client, buyer.id, detail.number,
                                                      search):
            times = timed(client, portal_timer, url, args.runs, headers)
            bare_times = timed(bare_client, bare_timer, bare_url, args.runs, headers)
            peewee_log.addHandler(counter)
            peewee_log.setLevel(logging.DEBUG)
            counter.count = 0
            html = client.get(url, headers=headers).get_data()
            queries = counter.count
            peewee_log.removeHandler(counter)
            peewee_log.setLevel(logging.WARNING)
            kb = (len(gzip.compress(html)) + (0 if headers else css_gz)) / 1024
            median, ratio = statistics.median(times), \
                statistics.median(times) / statistics.median(bare_times)
            flags = [name for name, missed in (
                ("time", median > BUDGET_MS), ("ratio", ratio > BUDGET_RATIO),
                ("size", kb > BUDGET_KB)) if missed]
            if flags:
                over.append(f"{email}: {label}: {', '.join(flags)}")
            print(f"  {label:<36} {median:7.2f} {p90(times):6.2f} "
                  f"{statistics.median(bare_times):6.2f} {ratio:5.1f}x {queries:3d} "
                  f"{kb:5.1f}{'  over budget: ' + ', '.join(flags) if flags else ''}")
    print(f"\nCSS {css_gz / 1024:.1f} KB gzipped (counted in each whole page); "
          f"htmx {htmx_gz / 1024:.1f} KB gzipped (not counted; cached across pages)")
    print("Over budget:" if over else "Every page is within budget.")
    for line in over:
        print(f"  {line}")
    sys.exit(0)


if __name__ == "__main__":
    main()
