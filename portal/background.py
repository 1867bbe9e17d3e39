"""Background work through Huey: polling carriers (which also moves demo parcels along).

The queue lives in ``instance/huey.sqlite3`` by default; set
``PORTAL_HUEY_URL=redis://host:6379/0`` for Redis. Tests run Huey in
immediate mode (``HUEY_IMMEDIATE``): a task runs at once, in the caller.
``flask --app portal worker`` runs the consumer, with the periodic tasks;
``make run`` starts it beside the web server.
"""

import logging

import click
from flask import Flask, current_app
from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab

from portal import tracking
from portal.db import database


def make_huey(config: dict, instance_path: str):
    url = config.get("HUEY_URL") or ""
    immediate = bool(config.get("HUEY_IMMEDIATE"))
    if immediate or url == "memory://":
        return MemoryHuey("portal", immediate=immediate)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("portal", url=url)
    filename = url.removeprefix("sqlite:///") if url else f"{instance_path}/huey.sqlite3"
    return SqliteHuey("portal", filename=filename)


def init_app(app: Flask) -> None:
    huey = make_huey(app.config, app.instance_path)
    app.extensions["huey"] = huey

    def in_app(fn):
        """Run a task with the app's config and a database connection of its own."""
        def run(*args, **kwargs):
            with app.app_context(), database.connection_context():
                return fn(*args, **kwargs)
        run.__name__ = fn.__name__
        return run

    tasks = {
        # Polling carriers (the demo carrier among them) once a minute.
        "poll_carriers": huey.periodic_task(crontab(minute="*"), name="poll_carriers")(
            in_app(tracking.poll_shipments)),
    }
    app.extensions["portal.tasks"] = tasks
    app.cli.add_command(worker_command)


def task(name: str):
    """A registered task of the current app, e.g. ``task("poll_carriers")()`` to enqueue it."""
    return current_app.extensions["portal.tasks"][name]


@click.command("worker")
@click.option("--workers", default=1, show_default=True, help="Worker threads.")
def worker_command(workers: int):
    """Run the background worker (Huey consumer with the periodic tasks)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    huey = current_app.extensions["huey"]
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=True,
                                    check_worker_health=True)
    click.echo(f"Background worker: {type(huey).__name__}, {workers} thread(s). Ctrl-C stops it.")
    consumer.run()
