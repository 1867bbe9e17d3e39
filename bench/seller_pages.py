"""Server time of the seller's Order Management pages on a big demo database.

    .venv/bin/python bench/seller_pages.py [--orders 1000000] [--runs 30] [--database URL]

Uses the same database as buyer_pages.py (instance/bench/orders-<N>.sqlite3, built
first if missing) and the same timer (WSGI, from the call to the last byte). The
demo seller's shop has about 1 % of the orders (10,000 at a million). Budget
(PRODUCT.md): 10 ms for any tab, search, sort or page depth, 50 rows.
"""

import argparse
import logging
import re
import statistics

from common import demo_database, portal_app, postgres_database

from buyer_pages import ServerTimer, StatementCounter, log_in, p90, timed

BUDGET_MS = 10.0
SELLER = "seller@example.com"


def next_link(html: str) -> str | None:
    match = re.search(r'href="([^"]+)" hx-get="[^"]+" rel="next"', html)
    return match.group(1).replace("&amp;", "&") if match else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30, help="timed requests per page")
    parser.add_argument("--database", help="a postgresql:// URL (empty: filled by COPY)")
    args = parser.parse_args()

    path = demo_database(args.orders)
    url = postgres_database(args.orders, args.database) if args.database else None
    app = portal_app(path, **({"DATABASE_URL": url} if url else {}))
    timer = ServerTimer(app.wsgi_app)
    app.wsgi_app = timer
    client = app.test_client()
    log_in(client, SELLER, "seller-demo")
    html = client.get("/seller/orders").get_data(as_text=True)
    total = re.search(r'All <span class="count">(\d+)', html).group(1)
    deep = "/seller/orders"
    for _ in range(20):
        deep = next_link(client.get(deep).get_data(as_text=True)) or deep
    pages = [("first page", "/seller/orders", None),
             ("pending tab", "/seller/orders?status=pending", None),
             ("delivered tab", "/seller/orders?status=delivered", None),
             ("delayed tab", "/seller/orders?status=delayed", None),
             ("requests tab", "/seller/orders?status=requests", None),
             ("sorted by total", "/seller/orders?sort=total_high", None),
             ("search: buyer", "/seller/orders?q=buyer5", None),  # 11,111 people
             ("search: one buyer", "/seller/orders?q=Bea+Buyer", None),  # 17 orders
             ("search: product", "/seller/orders?q=tote", None),
             ("search: no match", "/seller/orders?q=zzqqxx", None),
             ("date range", "/seller/orders?placed_from=2026-10-01&placed_to=2026-10-31", None),
             ("page 21", deep, None),
             ("htmx fragment", "/seller/orders?status=shipped", {"HX-Request": "true"}),
             ("dashboard", "/seller/", None)]
    counter = StatementCounter()
    logging.getLogger("peewee").setLevel(logging.DEBUG)
    logging.getLogger("peewee").addHandler(counter)
    print(f"# bench/seller_pages.py, {'PostgreSQL' if url else 'SQLite'}, {args.orders:,} orders; "
          f"{SELLER}'s shop has {total}; "
          f"{args.runs} runs per page")
    print(f"  {'page':20} {'median':>7} {'p90':>7}   q")
    for label, url, headers in pages:
        times = timed(client, timer, url, args.runs, headers)
        counter.count = 0
        client.get(url, headers=headers)
        median = statistics.median(times)
        flag = "  over budget" if median > BUDGET_MS else ""
        print(f"  {label:20} {median:7.2f} {p90(times):7.2f} {counter.count:3d}{flag}")


if __name__ == "__main__":
    main()
