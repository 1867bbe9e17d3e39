"""Time seed-demo: N orders (default 1,000,000) into a new SQLite file.

    .venv/bin/python bench/seed.py [--orders N] [--keep]

Prints the time and orders per second (budget: 1,000,000 orders in under a
minute). The file goes to instance/bench/seed-timing.sqlite3 and is deleted
afterwards unless --keep; with --keep it becomes the database that
bench/buyer_pages.py reuses for that size.
"""

import argparse
import os
import platform
from pathlib import Path

from common import ROOT, database_path, seed_into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true",
                        help="keep the database for bench/buyer_pages.py")
    args = parser.parse_args()
    path = ROOT / "instance" / "bench" / "seed-timing.sqlite3"
    seconds = seed_into(path, args.orders)
    size = path.stat().st_size / 2**20
    print(f"seed-demo: {args.orders:,} orders in {seconds:.1f} s = "
          f"{args.orders / seconds:,.0f} orders/s (budget: 1,000,000 in 60 s); "
          f"{size:,.0f} MiB; {os.cpu_count()} cores, Python {platform.python_version()}")
    if args.keep:
        os.replace(path, database_path(args.orders))
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
