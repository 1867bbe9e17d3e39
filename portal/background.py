"""Background work through Huey: delivering the outbox, polling carriers (which also
moves demo parcels along), telling people of orders that turned late.

The queue lives in ``instance/huey.sqlite3`` by default; set
``PORTAL_HUEY_URL=redis://host:6379/0`` for Redis. Tests run Huey in
immediate mode (``HUEY_IMMEDIATE``): a task runs at once, in the caller.
``flask --app portal worker`` runs the consumer, with the periodic tasks;
``make run`` starts it beside the web server.
"""

import logging
import threading
import time
from email.utils import formataddr

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab

from portal.hooks import order_events
from portal import mail, notifications, outbox, payments
from portal.notifications import emails as _emails  # noqa: F401 (notifications.emails below)
from portal.shipping import carrier_webhooks, tracking, webhook_apply
from portal.db import database
from portal.orders import delays, ledger
from portal.demo import life as demo_life

log = logging.getLogger("portal.background")

# Carrier pushes taken in by one web process start at most one apply per this many
# seconds; the apply then runs once more this much later for the pushes taken in
# while it ran (see ApplyDue).
APPLY_WINDOW = 0.5


class ApplyDue:
    """Coalesces the apply of carrier pushes in one web process: the first push of a
    window enqueues ``apply_webhooks``, the others of the window rely on it. Nothing is
    left behind: a push skipped at time t was committed before t < start + window, and
    the apply that was enqueued at ``start`` runs again (its follow-up) after
    its end + window, so one of its two runs reads the push. The worker's sweep
    catches what a crash or a failed enqueue left."""

    def __init__(self, window: float = APPLY_WINDOW):
        self.window = window
        self._next = 0.0
        self._lock = threading.Lock()

    def claim(self) -> bool:
        """Whether this push should enqueue the apply (the window's first)."""
        with self._lock:
            now = time.monotonic()
            if now < self._next:
                return False
            self._next = now + self.window
            return True

    def release(self) -> None:
        """The enqueue failed: let the next push try again."""
        with self._lock:
            self._next = 0.0


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

    # Who hears of outbox events: plugins, payments (capture on delivery), notifications
    # in the app, by e-mail and on plugins' channels (each recipient its own target).
    # Webhooks join here.
    consumers = app.extensions["portal.outbox_consumers"] = [order_events.PLUGINS,
                                                             payments.ON_DELIVERY,
                                                             notifications.INBOX,
                                                             notifications.EMAIL,
                                                             notifications.CHANNELS]

    def deliver_outbox():
        return outbox.deliver_due(consumers)

    def in_app(fn):
        """Run a task with the app's config and a database connection of its own; events
        the task wrote are delivered before it ends (its transactions have committed)."""
        def run(*args, **kwargs):
            with app.app_context(), database.connection_context():
                result = fn(*args, **kwargs)
                if fn is not deliver_outbox and outbox.take_written():
                    deliver_outbox()
                return result
        run.__name__ = fn.__name__
        return run

    tasks = {
        # Polling carriers (the demo carrier among them) once a minute.
        "poll_carriers": huey.periodic_task(crontab(minute="*"), name="poll_carriers")(
            in_app(tracking.poll_shipments)),
        # Retries, and events written where no request was there to start a delivery.
        "deliver_outbox": huey.periodic_task(crontab(minute="*"), name="deliver_outbox")(
            in_app(deliver_outbox)),
        # Payment calls whose outcome is unknown (overran, crashed) or not made yet: asked
        # (again) with the same idempotency key until the plugin knows (portal.payments).
        "reconcile_payments": huey.periodic_task(crontab(minute="*"), name="reconcile_payments")(
            in_app(payments.reconcile)),
        # Orders that turned late: their buyer and shop are told, once (portal.orders.delays).
        "notice_delays": huey.periodic_task(crontab(minute="*"), name="notice_delays")(
            in_app(delays.notice_delays)),
        # The demo shop's life: processes, ships and places demo orders (demo databases only).
        "demo_life": huey.periodic_task(crontab(minute="*/10"), name="demo_life")(
            in_app(demo_life.keep_going)),
    }
    def apply_webhooks(follow_up: bool = False):
        applied = webhook_apply.apply_pending()
        if follow_up and not huey.immediate:
            tasks["apply_webhooks"].schedule(args=(False,), delay=due.window)
        return applied

    # Carrier pushes taken in: applied after the commit of each (coalesced), and swept
    # once a minute for what a crash between intake and apply left.
    due = app.extensions["portal.webhook_apply_due"] = ApplyDue()
    tasks["apply_webhooks"] = huey.task(name="apply_webhooks")(in_app(apply_webhooks))
    tasks["sweep_webhooks"] = huey.periodic_task(crontab(minute="*"), name="sweep_webhooks")(
        in_app(webhook_apply.apply_pending))

    def send_mail(to: str, subject: str, text: str) -> None:
        # An account's e-mail (portal.mail): raised while the server is down, so Huey
        # tries again, a minute apart, for about an hour.
        notifications.emails.send(mail.message(
            to, subject, text, sender=formataddr(("Order portal", app.config["MAIL_FROM"]))))

    tasks["send_mail"] = huey.task(retries=60, retry_delay=60, name="send_mail")(
        in_app(send_mail))
    app.extensions["portal.tasks"] = tasks

    @app.teardown_request
    def _deliver_after_commit(exc=None):
        # The view's transactions are over: what it wrote to the outbox is committed
        # (or was never written). The worker delivers it; in tests it runs here, at once.
        if carrier_webhooks.take_taken_in() and exc is None:
            # In tests (immediate) every push is applied here, before the next request.
            if huey.immediate or due.claim():
                try:
                    tasks["apply_webhooks"](True)
                except Exception:
                    due.release()
                    log.exception("could not start applying carrier pushes; the sweep does")
        if ledger.take_requested() and exc is None:  # payment calls a change asked for
            try:
                tasks["reconcile_payments"]()
            except Exception:
                log.exception("could not start the payment calls; the worker makes them")
        if outbox.take_written() and exc is None:
            try:
                tasks["deliver_outbox"]()
            except Exception:  # the queue being down must not fail a finished request
                log.exception("could not start the outbox delivery; the worker retries it")

    # The carrier webhook's bare route (portal.web.webhooks), outside Flask's request, calls it too.
    app.extensions["portal.after_commit"] = _deliver_after_commit
    app.cli.add_command(worker_command)
    app.cli.add_command(outbox_command)


def task(name: str):
    """A registered task of the current app, e.g. ``task("poll_carriers")()`` to enqueue it."""
    return current_app.extensions["portal.tasks"][name]


@click.command("outbox")
@with_appcontext
@click.option("--retry", is_flag=True, help="Try the events that were given up again.")
@click.option("--deliver", is_flag=True, help="Deliver what is due now, here.")
def outbox_command(retry: bool, deliver: bool):
    """Show the events not delivered yet: waiting, failing (with why) or given up."""
    with database.connection_context():
        if retry:
            click.echo(f"{outbox.retry_given_up()} given-up event(s) are due again.")
        if deliver:
            applied = webhook_apply.apply_pending()
            click.echo(f"Applied {applied.receipts} carrier push(es), {applied.scans} new "
                       f"scan(s), {applied.failed} with a report that failed.")
            report = outbox.deliver_due(current_app.extensions["portal.outbox_consumers"])
            click.echo(f"Delivered {report.delivered}, retrying {report.retrying}, "
                       f"given up {len(report.given_up)}.")
        events = outbox.undelivered()
        waiting, failed_pushes = webhook_apply.pending(), webhook_apply.failed()
    for event in events:
        state = (f"due {event.next_attempt_at:%Y-%m-%d %H:%M:%S}" if event.next_attempt_at
                 else "GIVEN UP")
        click.echo(f"#{event.id} {event.kind} order {event.order_id} · {event.attempts} "
                   f"attempt(s) · {state}" + (f" · {event.last_error}" if event.last_error else ""))
    click.echo(f"{len(events)} undelivered event(s)." if events else "Every event is delivered.")
    for receipt in failed_pushes:
        click.echo(f"Carrier push #{receipt.id} ({receipt.carrier_code}, received "
                   f"{receipt.received_at:%Y-%m-%d %H:%M:%S}) NOT APPLIED · {receipt.error}")
    if waiting:
        click.echo(f"{waiting} carrier push(es) waiting to be applied.")


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
