"""What the benchmarks share: a demo database of N orders, built once per size.

Databases live in ``instance/bench/orders-<N>.sqlite3`` (git ignores instance/).
A database is built under a temporary name and renamed when complete, so an
interrupted build is never reused.
"""

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `python bench/x.py` uses the portal of this checkout

import click  # noqa: E402

from portal import create_app  # noqa: E402
from portal.db import database, upgrade_schema  # noqa: E402

BENCH_CONFIG = {"SECRET_KEY": "bench-only-secret"}  # everything else as in production


def database_path(n_orders: int) -> Path:
    return ROOT / "instance" / "bench" / f"orders-{n_orders}.sqlite3"


def portal_app(path: Path, **config):
    return create_app({**BENCH_CONFIG, "DATABASE_URL": f"sqlite:///{path}", **config})


def seed_into(path: Path, n_orders: int) -> float:
    """Seed ``n_orders`` demo orders into a new SQLite file; return the seconds it took."""
    from portal.demo import seed

    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    app = portal_app(path)
    with app.app_context():
        upgrade_schema()
        with database.connection_context():
            started = time.perf_counter()
            with click.progressbar(length=n_orders, label=f"Seeding {n_orders:,} orders",
                                   file=sys.stderr) as bar:
                seed(n_orders, progress=bar.update)
            seconds = time.perf_counter() - started
    return seconds


def demo_database(n_orders: int) -> Path:
    """The database of ``n_orders`` orders, built first if there is none yet."""
    path = database_path(n_orders)
    if not path.exists():
        building = path.with_name(path.name + ".building")
        seconds = seed_into(building, n_orders)
        print(f"Built {path.relative_to(ROOT)} in {seconds:.1f} s "
              f"({n_orders / seconds:,.0f} orders/s)", file=sys.stderr)
        os.replace(building, path)
    else:  # built by an earlier version: bring its schema up to date (new tables only)
        with portal_app(path).app_context():
            upgrade_schema(echo=lambda text: print(f"{path.name}: {text}", file=sys.stderr))
    return path


def postgres_database(n_orders: int, url: str) -> str:
    """``url``, a PostgreSQL database holding the ``n_orders`` demo: an empty one is
    filled from the SQLite database of that size (built first if missing) by
    ``move-to-postgres`` (COPY, one transaction, counts and sums checked), then
    analysed, as an operator does after a bulk load. A full one is used as it is."""
    from peewee import ProgrammingError
    from playhouse.db_url import connect

    db = connect(url)
    try:
        orders = db.execute_sql("SELECT COUNT(*) FROM orders").fetchone()[0]
    except ProgrammingError:  # no schema yet
        orders = None
    finally:
        db.close()
    if orders:
        if orders != n_orders:
            sys.exit(f"{url} holds {orders:,} orders, not {n_orders:,}: give an empty database.")
        with portal_app(Path("unused"), DATABASE_URL=url).app_context():
            upgrade_schema(echo=lambda text: print(f"PostgreSQL: {text}", file=sys.stderr))
        return url
    from portal.move import move

    source = demo_database(n_orders)
    started = time.perf_counter()
    report = move(f"sqlite:///{source}", url, echo=lambda text: print(text, file=sys.stderr))
    copied = time.perf_counter() - started
    db = connect(url)
    try:
        db.execute_sql("ANALYZE")
    finally:
        db.close()
    print(f"Copied {report.rows:,} rows into PostgreSQL in {copied:.1f} s "
          f"(then ANALYZE, {time.perf_counter() - started - copied:.1f} s)", file=sys.stderr)
    return url
