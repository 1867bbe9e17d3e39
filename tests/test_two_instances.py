"""Several machines: two gunicorn instances and two workers sharing only PostgreSQL and
Redis (docs/deploy.md). A session started on one works on the other, an order changed
through one is seen through the other, the login limit counts across both, and the
outbox event the change wrote is delivered once though two workers take from one queue.

Runs in the PostgreSQL pass with a redis-server on the PATH (``.ci/run`` installs
Debian's and sets PORTAL_TEST_REQUIRE_REDIS=1, so there it cannot be skipped).
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from portal.models import Notification, Order, OutboxDelivery
from tests.factories import PASSWORD, make_order
from tests.test_auth import csrf_token
from tests.test_notifications import ready_to_process

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG = os.environ.get("PORTAL_TEST_DATABASE_URL", "")
REDIS = shutil.which("redis-server")
_why = ("needs PostgreSQL (PORTAL_TEST_DATABASE_URL)" if not PG.startswith("postgres")
        else "needs redis-server on the PATH" if not REDIS else "")
pytestmark = pytest.mark.skipif(bool(_why) and not (
    PG.startswith("postgres") and os.environ.get("PORTAL_TEST_REQUIRE_REDIS")), reason=_why)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(check, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (OSError, requests.RequestException):
            pass
        time.sleep(0.2)
    raise AssertionError(f"{what} did not come up in {seconds} s")


@pytest.fixture
def redis_url(tmp_path):
    port = _free_port()
    server = subprocess.Popen([REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(tmp_path)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis
    _wait(lambda: redis.Redis(port=port).ping(), "redis-server")
    yield f"redis://127.0.0.1:{port}"
    server.terminate()
    server.wait(10)


@pytest.fixture
def cluster(app, database_url, redis_url, tmp_path):
    """Start processes sharing the database and Redis, each with an instance folder of its
    own (no shared disk); return a function that starts one more."""
    env = {**os.environ, "PORTAL_DATABASE_URL": database_url,
           "PORTAL_SECRET_KEY": "shared-by-every-instance",
           "PORTAL_HUEY_URL": f"{redis_url}/1",
           "PORTAL_RATELIMIT_STORAGE_URI": f"{redis_url}/2",
           "PORTAL_LOGIN_RATE_LIMIT": "3 per minute",
           "PORTAL_TRUSTED_PROXIES": "0"}
    processes = []

    def start(kind: str) -> str:
        folder = tmp_path / f"{kind}-{len(processes)}"
        folder.mkdir()
        logs = open(folder / "log", "wb")
        if kind == "web":
            port = _free_port()
            command = [str(BIN / "gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{port}",
                       "--chdir", str(ROOT), "wsgi:app"]
        else:
            command = [str(BIN / "flask"), "--app", "portal", "worker", "--workers", "2"]
        processes.append(subprocess.Popen(command, cwd=folder, env={**env, "PORTAL_INSTANCE_PATH": str(folder)},
                                          stdout=logs, stderr=subprocess.STDOUT))
        if kind != "web":
            return ""
        base = f"http://127.0.0.1:{port}"
        _wait(lambda: requests.get(f"{base}/login", timeout=2).status_code == 200, base)
        return base

    yield start
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(15)


def test_an_order_changed_on_one_instance_is_seen_on_the_other(cluster, buyer, seller, shop):
    order = ready_to_process(make_order(buyer, shop))
    one, two = cluster("web"), cluster("web")
    browser = requests.Session()  # cookies go to 127.0.0.1 whatever the port: any instance

    page = browser.get(f"{one}/login").text
    response = browser.post(f"{two}/login", allow_redirects=False, data={
        "email": "seller@example.com", "password": PASSWORD, "csrf_token": csrf_token(page)})
    assert response.status_code == 303  # a form from one instance, posted to the other

    page = browser.get(f"{two}/seller/orders/{order.number}")
    assert page.status_code == 200 and order.number in page.text
    response = browser.post(f"{two}/seller/orders/{order.number}/process", allow_redirects=False,
                            data={"version": order.version, "csrf_token": csrf_token(page.text)})
    assert response.status_code == 303

    seen = browser.get(f"{one}/seller/orders/{order.number}").text
    assert "Processed" in seen
    assert Order.get_by_id(order.id).status == "processed"

    # The event it wrote waits in Redis; two workers take from the one queue, and the
    # buyer is told once.
    cluster("worker"), cluster("worker")
    _wait(lambda: Notification.select().where(Notification.user == buyer.id).exists(),
          "the buyer's notification")
    time.sleep(1.5)  # time for a second, wrong delivery to show
    assert Notification.select().where(Notification.user == buyer.id).count() == 1
    targets = [d.target for d in OutboxDelivery.select()]
    assert len(targets) == len(set(targets))


def test_the_login_limit_counts_across_instances(cluster, buyer):
    one, two = cluster("web"), cluster("web")
    browser = requests.Session()
    token = csrf_token(browser.get(f"{one}/login").text)
    answers = []
    for k, base in enumerate([one, two, one, two]):
        # A new address each time: the per-address lockout in the database stays out of it.
        answers.append(browser.post(f"{base}/login", allow_redirects=False, data={
            "email": f"nobody{k}@example.com", "password": "wrong", "csrf_token": token}
        ).status_code)
    # "3 per minute" for this client in all: with a limit per instance the fourth try
    # (the second on `two`) would still be answered.
    assert answers == [422, 422, 422, 429]
