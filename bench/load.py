"""`make load`: the portal under gunicorn, with its worker, loaded by Locust for a fixed time.

    .venv/bin/python bench/load.py                       # SQLite, 20,000 demo orders, 60 s
    .venv/bin/python bench/load.py --database postgresql://postgres@127.0.0.1/portal_load
    .venv/bin/python bench/load.py --seconds 120 --users 40

The database is built once with the demo seeder (`instance/bench/load-<N>.sqlite3`; an
empty PostgreSQL database is seeded) and reused. The mix is bench/locustfile.py: buyers'
and sellers' pages, messages and notes. Printed: requests a second, p50/p95/p99 per
kind of request, errors, "database is locked" in the server's log, and whether every
write Locust saw answered is in the database. Exit status 1 if any of those is wrong.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _flask(env: dict, *args: str) -> None:
    subprocess.run([str(BIN / "flask"), "--app", "portal", *args], env=env, cwd=ROOT, check=True)


def _prepare(url: str, orders: int, env: dict) -> None:
    """Build the database once: migrations, then the demo if it has no orders yet."""
    _flask(env, "init-db")
    from portal.db import open_database
    db = open_database(url)
    with db.connection_context():
        empty = not db.execute_sql("SELECT EXISTS (SELECT 1 FROM orders)").fetchone()[0]
    db.close_all() if hasattr(db, "close_all") else None
    if empty:
        print(f"Seeding {orders:,} demo orders (once) ...", flush=True)
        _flask(env, "seed-demo", "--orders", str(orders))


def _count_writes(url: str, run: str) -> dict:
    from portal.db import open_database
    db = open_database(url)
    like = f"%Load test {run}:%"
    with db.connection_context():
        notes = db.execute_sql("SELECT COUNT(*) FROM order_event WHERE kind = 'note' AND message LIKE "
                               + ("%s" if "postgres" in url else "?"), (like,)).fetchone()[0]
        messages = db.execute_sql("SELECT COUNT(*) FROM order_message WHERE body LIKE "
                                  + ("%s" if "postgres" in url else "?"), (like,)).fetchone()[0]
    return {"note": notes, "message": messages}


def _percentile(times: dict, share: float) -> float:
    """The response time (ms) under which ``share`` of the requests fell (Locust keeps
    times rounded into buckets: {ms: count})."""
    total, seen = sum(times.values()), 0
    for ms, count in sorted((float(k), v) for k, v in times.items()):
        seen += count
        if seen >= share * total:
            return ms
    return 0.0


def _stats(path: Path, seconds: int) -> list[dict]:
    """Per request name, and "Aggregated": count, errors, p50/p95/p99, from Locust's final
    JSON (the CSV files are written on a timer and may miss the last second)."""
    entries = json.loads(path.read_text())
    rows, every = [], {}
    for entry in sorted(entries, key=lambda e: e["name"]):
        times = entry["response_times"]
        for ms, count in times.items():
            every[ms] = every.get(ms, 0) + count
        rows.append(_row(entry["name"], entry["num_requests"], entry["num_failures"], times, seconds))
    rows.append(_row("Aggregated", sum(e["num_requests"] for e in entries),
                     sum(e["num_failures"] for e in entries), every, seconds))
    return rows


def _row(name, count, failures, times, seconds) -> dict:
    return {"name": name, "count": count, "errors": failures, "rps": count / seconds,
            **{f"p{int(q * 100)}": _percentile(times, q) for q in (0.5, 0.95, 0.99)}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="", help="a postgresql:// URL (default: SQLite)")
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="portal-load-"))
    url = args.database or f"sqlite:///{ROOT / 'instance' / 'bench' / f'load-{args.orders}.sqlite3'}"
    (ROOT / "instance" / "bench").mkdir(parents=True, exist_ok=True)
    run = uuid.uuid4().hex[:8]
    env = {**os.environ, "PORTAL_DATABASE_URL": url, "PORTAL_INSTANCE_PATH": str(folder),
           "PORTAL_SECRET_KEY": "load-test", "PORTAL_LOGIN_RATE_LIMIT": "100000 per minute",
           "PORTAL_SMTP_URL": "", "PYTHONUNBUFFERED": "1"}
    _prepare(url, args.orders, env)

    port = _free_port()
    host = f"http://127.0.0.1:{port}"
    server_log, worker_log = folder / "gunicorn.log", folder / "worker.log"
    server = subprocess.Popen([str(BIN / "gunicorn"), "--workers", str(args.workers), "--threads", "4",
                               "--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT), "wsgi:app"],
                              env=env, stdout=open(server_log, "wb"), stderr=subprocess.STDOUT)
    worker = subprocess.Popen([str(BIN / "flask"), "--app", "portal", "worker"], env=env, cwd=ROOT,
                              stdout=open(worker_log, "wb"), stderr=subprocess.STDOUT)
    try:
        for _ in range(150):
            try:
                if requests.get(f"{host}/login", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        prefix, report = str(folder / "locust"), folder / "writes.json"
        print(f"Load: {args.users} users for {args.seconds} s against {host} "
              f"({'PostgreSQL' if 'postgres' in url else 'SQLite'}, {args.workers} gunicorn workers)",
              flush=True)
        subprocess.run([str(BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
                        "-u", str(args.users), "-r", str(max(1, args.users // 4)),
                        "-t", f"{args.seconds}s", "--host", host, "--json-file", prefix, "--only-summary",
                        "--loglevel", "WARNING", "--exit-code-on-error", "0"],
                       env={**env, "LOAD_RUN_ID": run, "LOAD_REPORT": str(report),
                            "LOAD_BUYERS": str(min(1000, max(1, args.orders // 10 - 2)))},
                       check=True)
        time.sleep(2)  # the last answers' transactions are committed; the worker catches up
    finally:
        server.terminate()
        worker.terminate()
        server.wait(30)
        worker.wait(30)

    rows = _stats(Path(prefix + ".json"), args.seconds)
    print(f"\n{'request':<38}{'count':>8}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for row in rows:
        print(f"{row['name'][:37]:<38}{row['count']:>8}{row['errors']:>8}"
              f"{row['p50']:>9.0f}{row['p95']:>9.0f}{row['p99']:>9.0f}")
    total = rows[-1]
    errors = total["errors"]
    locked = sum(log.read_text(errors="replace").count("database is locked")
                 for log in (server_log, worker_log))
    server_errors = server_log.read_text(errors="replace").count("Traceback")
    answered = json.loads(report.read_text()) if report.exists() else {}
    stored = _count_writes(url, run)
    print(f"\nrequests/s {total['rps']:.1f} · p50 {total['p50']:.0f} ms · "
          f"p95 {total['p95']:.0f} ms · p99 {total['p99']:.0f} ms · errors {errors} · "
          f"'database is locked' {locked} · tracebacks in the server log {server_errors}")
    writes_ok = all(stored.get(kind, 0) == n for kind, n in answered.items())
    print("writes answered: " + ", ".join(f"{k} {v}" for k, v in sorted(answered.items()))
          + " · in the database: " + ", ".join(f"{k} {v}" for k, v in sorted(stored.items()))
          + (" · all present" if writes_ok else " · MISSING WRITES"))
    print(f"logs: {folder}")
    return 0 if errors == 0 and locked == 0 and server_errors == 0 and writes_ok else 1


if __name__ == "__main__":
    sys.exit(main())
