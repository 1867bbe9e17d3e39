"""Carrier webhooks taken in and applied per second, each event once though every one is sent twice.

    .venv/bin/python bench/webhooks.py                  # 2,000 events, SQLite
    .venv/bin/python bench/webhooks.py --events 5000 --database postgresql://...

A shop with the EasyPost plugin and 500 shipped parcels; each event is a signed
`tracker.updated` push with one new scan for one parcel. A push is taken in (verified,
parsed, stored as a receipt with its reports, answered 200) and applied just after by
the background worker (``portal.shipping.webhook_apply``). Figures:

- **in process**: the events posted through the portal's WSGI app one after another (no
  network, no client): what one Python thread of the portal takes in; then what one
  thread applies (``apply_pending``, as the worker's task does);
- **gunicorn**: the same through HTTP to `gunicorn --workers 2 --threads 4`, from 16
  client threads (``http.client``, a kept-alive connection each), each event sent twice
  at about the same time (a carrier's retry), with `flask worker` beside it applying;
  then how long until every one was applied, and the server processes' CPU a request
  (Linux), which says what they could take in without the client beside them.

Both check that the database holds each event once: one receipt and one new scan each.
Budget (issue 12): 1,000 events a second taken in on this machine.
"""

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import BENCH_CONFIG, ROOT

import requests  # noqa: E402

from portal import create_app  # noqa: E402
from portal.db import database, upgrade_schema  # noqa: E402

BIN = Path(sys.executable).parent
PARCELS = 500
CLIENT_THREADS = 16


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its children alive now (Linux /proc; 0
    elsewhere): the gunicorn master and its workers."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0.0
    try:
        pids = [pid] + [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        for each in pids:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    except (OSError, ValueError, IndexError):
        return 0.0
    return total


def _setup(url: str, folder: Path):
    from portal.models import Shop, TrackingEvent, WebhookReceipt  # noqa: F401
    from portal.testing import enable, make_shipped_order
    from tests.factories import make_shop, make_user
    # The app's queue in the run's folder, where this run's worker reads it.
    app = create_app({**BENCH_CONFIG, "DATABASE_URL": url,
                      "HUEY_URL": f"sqlite:///{folder / 'huey.sqlite3'}"})
    with app.app_context():
        upgrade_schema()
        with database.connection_context():
            seller = make_user("webhooks-seller@example.com", name="Hook Seller", role="seller")
            shop = make_shop(seller, "Webhook Bench")
            enable(shop, "easypost")
            codes = []
            for k in range(PARCELS):
                code = f"9400100000000000{k:06d}"
                make_shipped_order(shop, "easypost", code)
                codes.append(code)
            from portal.hooks import shop_plugins
            secret = shop_plugins.for_shop(shop).secret("easypost")
    return app, shop.slug, secret, codes


def _events(first: int, n: int, codes: list[str]) -> list[bytes]:
    from portal.models import utcnow
    from portal.testing import easypost_event
    now = utcnow()
    return [json.dumps(easypost_event(codes[k % len(codes)], [("in_transit", f"Sorted, scan {k}")],
                                      event_id=f"evt_bench_{k}", created_at=now)).encode()
            for k in range(first, first + n)]


def _counts(app) -> tuple[int, int]:
    from portal.models import TrackingEvent, WebhookReceipt
    with app.app_context(), database.connection_context():
        return WebhookReceipt.select().count(), TrackingEvent.select().count()


def _waiting(app) -> int:
    from portal.shipping import webhook_apply
    with app.app_context(), database.connection_context():
        return webhook_apply.pending()


def _apply_here(app) -> tuple[int, float]:
    """Apply what waits in this thread, as the worker's task does: (receipts, seconds)."""
    from portal.shipping import webhook_apply
    with app.app_context(), database.connection_context():
        started = time.perf_counter()
        applied = webhook_apply.apply_pending()
        return applied.receipts, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--database", default="", help="an empty postgresql:// database")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="portal-webhooks-"))
    url = args.database or f"sqlite:///{folder / 'webhooks.sqlite3'}"
    print(f"Setting up a shop with {PARCELS} parcels ...", file=sys.stderr)
    app, slug, secret, codes = _setup(url, folder)
    from portal.plugins.easypost import sign
    path = f"/webhooks/carriers/easypost?shop={slug}"
    n = args.events

    # 1. In process, one thread.
    bodies = _events(0, n, codes)
    receipts0, scans0 = _counts(app)
    client = app.test_client()
    started = time.perf_counter()
    statuses = [client.post(path, data=body, content_type="application/json",
                            headers={"X-Hmac-Signature": sign(secret, body)}).status_code
                for body in bodies]
    seconds = time.perf_counter() - started
    receipts, taken_scans = _counts(app)
    print(f"in process:  {n:,} events taken in in {seconds:.2f} s = {n / seconds:,.0f} events/s "
          f"(budget 1,000); answers {sorted(set(statuses))}; new receipts {receipts - receipts0:,} "
          f"(want {n:,}), scans before the apply {taken_scans - scans0:,}")
    applied, seconds = _apply_here(app)
    receipts, scans = _counts(app)
    print(f"             {applied:,} applied in one thread in {seconds:.2f} s = "
          f"{applied / seconds:,.0f} events/s; new scans {scans - scans0:,} (want {n:,})")

    # 2. Through gunicorn, every event twice, from 16 threads.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PORTAL_DATABASE_URL": url, "PORTAL_SECRET_KEY": BENCH_CONFIG["SECRET_KEY"],
           "PORTAL_INSTANCE_PATH": str(folder)}
    server = subprocess.Popen([str(BIN / "gunicorn"), "--workers", "2", "--threads", "4", "--bind",
                               f"127.0.0.1:{port}", "--chdir", str(ROOT), "wsgi:app"], env=env,
                              stdout=open(folder / "gunicorn.log", "wb"), stderr=subprocess.STDOUT)
    worker = subprocess.Popen([str(BIN / "flask"), "--app", "portal", "worker"], env=env, cwd=ROOT,
                              stdout=open(folder / "worker.log", "wb"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                requests.get(f"{base}/login", timeout=2)
                break
            except requests.RequestException:
                time.sleep(0.2)
        bodies = _events(n, n, codes)
        twice = [b for body in bodies for b in (body, body)]
        receipts0, scans0 = _counts(app)
        signed = [(body, sign(secret, body)) for body in twice]  # signed before the clock runs
        connections = threading.local()

        def post(item: tuple[bytes, str]) -> int:
            # http.client on a kept-alive connection per thread: the client's own CPU, on the
            # same 2 cores as the server, is a fraction of what requests' costs.
            body, signature = item
            for _ in range(3):
                conn = getattr(connections, "conn", None)
                if conn is None:
                    conn = connections.conn = http.client.HTTPConnection("127.0.0.1", port,
                                                                         timeout=30)
                try:
                    conn.request("POST", path, body, {"Content-Type": "application/json",
                                                      "X-Hmac-Signature": signature})
                    response = conn.getresponse()
                    response.read()
                    return response.status
                except (http.client.HTTPException, OSError):
                    conn.close()
                    connections.conn = None
            raise RuntimeError("the server did not answer three times")

        server_cpu0 = _cpu_seconds(server.pid)
        started = time.perf_counter()
        with ThreadPoolExecutor(CLIENT_THREADS) as pool:
            statuses = list(pool.map(post, signed))
        seconds = time.perf_counter() - started
        server_cpu = _cpu_seconds(server.pid) - server_cpu0
        receipts, taken_scans = _counts(app)
        waiting = _waiting(app)
        while _waiting(app) and time.perf_counter() - started < seconds + 120:
            time.sleep(0.05)
        applied_after = time.perf_counter() - started
    finally:
        server.terminate()
        worker.terminate()
        server.wait(30)
        worker.wait(30)
    _, scans = _counts(app)
    print(f"gunicorn:    {n:,} events sent twice ({2 * n:,} requests) in {seconds:.2f} s = "
          f"{n / seconds:,.0f} events/s, {2 * n / seconds:,.0f} requests/s taken in (budget "
          f"1,000 events/s); answers {sorted(set(statuses))}; new receipts {receipts - receipts0:,} "
          f"(want {n:,}), {waiting:,} still to apply at the last answer")
    print(f"             all applied by the worker {applied_after:.2f} s after the first post "
          f"({n / applied_after:,.0f} events/s end to end); new scans {scans - scans0:,} "
          f"(want {n:,}); scans applied while taking in: {taken_scans - scans0:,}")
    if server_cpu:
        print(f"             the server's CPU: {server_cpu * 1e3 / (2 * n):.2f} ms a request, so its "
              f"processes alone could take in about {2 / (server_cpu / n):,.0f} events/s (each "
              f"sent twice) on 2 cores")
    locked = sum((folder / log).read_text(errors="replace").count("database is locked")
                 for log in ("gunicorn.log", "worker.log"))
    print(f"'database is locked' in the server and worker logs: {locked}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
