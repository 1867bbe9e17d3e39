"""The load mix `make load` runs (bench/load.py starts Locust headless with this file).

Buyers (three in four users) read their Orders list, a status tab and an order, and now
and then write to the shop; sellers read Order Management (tabs, a search, an order)
and add internal notes. Every user logs in through the form once, with a generated demo
account. Each write carries the run's marker (LOAD_RUN_ID) and is counted when the
portal answers it; on stop the counts go to LOAD_REPORT, and bench/load.py checks that
the database holds exactly that many.
"""

import json
import os
import random
import re
from collections import Counter

from locust import HttpUser, between, events, task

RUN = os.environ.get("LOAD_RUN_ID", "local")
BUYERS = int(os.environ.get("LOAD_BUYERS", "1000"))
WRITES: Counter = Counter()
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _token(html: str) -> str:
    found = _TOKEN.search(html)
    return found.group(1) if found else ""


class Portal(HttpUser):
    abstract = True
    wait_time = between(0.05, 0.3)
    email = password = ""
    link = re.compile("")

    def on_start(self):
        page = self.client.get("/login", name="/login").text
        with self.client.post("/login", name="/login [POST]", allow_redirects=False,
                              data={"email": self.email, "password": self.password,
                                    "csrf_token": _token(page)}, catch_response=True) as r:
            if r.status_code != 303:
                r.failure(f"log-in answered {r.status_code}")
        self.numbers = []

    def _list(self, path: str, name: str):
        html = self.client.get(path, name=name).text
        self.numbers = self.link.findall(html) or self.numbers
        return html

    def _write(self, path: str, name: str, kind: str, data: dict) -> None:
        page = self.client.get(path.rsplit("/", 1)[0], name=name.rsplit("/", 1)[0]).text
        with self.client.post(path, name=name + " [POST]", allow_redirects=False,
                              data={**data, "csrf_token": _token(page)},
                              catch_response=True) as r:
            if r.status_code == 303:
                WRITES[kind] += 1
            else:
                r.failure(f"{kind} answered {r.status_code}")


class Buyer(Portal):
    weight = 3
    password = "buyer-demo"
    link = re.compile(r'href="/orders/([A-Z0-9-]{6,})"')

    def on_start(self):
        self.email = f"buyer{random.randint(3, BUYERS + 2)}@example.com"
        super().on_start()

    @task(6)
    def orders(self):
        self._list("/orders", "/orders")

    @task(2)
    def delivered_tab(self):
        self.client.get("/orders?status=delivered", name="/orders?status=")

    @task(3)
    def one_order(self):
        if self.numbers:
            self.client.get(f"/orders/{random.choice(self.numbers)}", name="/orders/<number>")

    @task(1)
    def message(self):
        if self.numbers:
            number = random.choice(self.numbers)
            self._write(f"/orders/{number}/messages", "/orders/<number>/messages", "message",
                        {"body": f"Load test {RUN}: is it on its way?"})


class Seller(Portal):
    weight = 1
    email, password = "seller@example.com", "seller-demo"
    link = re.compile(r'href="/seller/orders/([A-Z0-9-]{6,})"')

    @task(5)
    def order_management(self):
        self._list("/seller/orders", "/seller/orders")

    @task(3)
    def tab(self):
        status = random.choice(["pending", "processed", "shipped", "delivered", "delayed"])
        self.client.get(f"/seller/orders?status={status}", name="/seller/orders?status=")

    @task(1)
    def search(self):
        self.client.get(f"/seller/orders?q={random.choice(['Linen', 'Buyer 4', 'Tote'])}",
                        name="/seller/orders?q=")

    @task(3)
    def one_order(self):
        if self.numbers:
            self.client.get(f"/seller/orders/{random.choice(self.numbers)}",
                            name="/seller/orders/<number>")

    @task(1)
    def note(self):
        if self.numbers:
            number = random.choice(self.numbers)
            self._write(f"/seller/orders/{number}/notes", "/seller/orders/<number>/notes",
                        "note", {"text": f"Load test {RUN}: packed"})


@events.test_stop.add_listener
def _report(environment, **_):
    path = os.environ.get("LOAD_REPORT")
    if path:
        with open(path, "w") as out:
            json.dump(dict(WRITES), out)
