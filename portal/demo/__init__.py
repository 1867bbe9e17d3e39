"""Demo data: shops, products, buyers and orders in every status, with timelines.

``flask --app portal seed-demo [--orders N]`` fills an empty database. The demo
logins are fixed (README.md lists them); larger ``--orders`` values add more
shops (up to 100) and buyers (up to 100,000) so benchmarks see realistic spreads.
``people`` makes the users, ``shops`` the catalogues, ``orders`` the order rows;
this module stores them: bulk inserts with explicit ids, a chunk of orders at a
time, a million orders in well under a minute on two cores (bench/seed.py).
"""

import gc
import marshal
import multiprocessing
import random
import traceback
from contextlib import contextmanager
from datetime import datetime, timedelta
from queue import Empty

import click
from flask.cli import with_appcontext

from portal.demo.bulk import bulk_load
from portal.db import database, drop_schema, insert_rows, reset_sequences, upgrade_schema
from portal.demo.coupons import make_coupons
from portal.demo.orders import OrderMaker
from portal.demo.people import DEMO_LOGINS, make_people
from portal.demo.reviews import make_reviews
from portal.demo.shops import make_shops
from portal.models import ALL_MODELS, Order, Shop, User, utcnow
from portal.orders import delays
from portal.orders.bulk import COLUMNS, ORDER_TABLES

CHUNK = 10_000  # orders per transaction, and per progress step
IN_BACKGROUND_FROM = 20_000  # orders; below that a second process is not worth starting


def seed(n_orders: int, *, seed_value: int = 2026, now: datetime | None = None,
         progress=None, in_background: bool | None = None, with_requests: bool = True) -> None:
    """Fill an empty database with demo data; ``progress(k)`` is told of each chunk.

    With ``in_background`` (the default from 20,000 orders) a second process
    makes the rows while this one stores them; the data is the same either way.
    ``with_requests`` adds a few buyer requests waiting for the demo seller.
    """
    rng, now = random.Random(seed_value), now or utcnow()
    with database.atomic():
        people = make_people(n_orders, now)
        shops = make_shops(people.seller_ids, rng)
        make_coupons(shops[0].shop_id, now)  # the demo seller's shop
        maker = OrderMaker(rng, now, people, shops)
    if in_background is None:
        in_background = n_orders >= IN_BACKGROUND_FROM
    spans = [(start, min(n_orders, start + CHUNK)) for start in range(0, n_orders, CHUNK)]
    chunks = (_made_in_background(maker, spans) if in_background
              else (maker.chunk(*span) for span in spans))
    with _no_cycle_collection(), bulk_load(*ORDER_TABLES):
        for (start, stop), rows in zip(spans, chunks):
            with database.atomic():
                for model, model_rows in rows.items():
                    insert_rows(model, COLUMNS[model], model_rows)
            if progress:
                progress(stop - start)
    reset_sequences(*ORDER_TABLES)
    if with_requests:
        with database.atomic():
            _requests(people, now)
    with database.atomic():  # a few reviews and replies in the demo shops
        make_reviews(people.seller_ids[:2], people.buyer_ids[0], now)
    with database.atomic():
        delays.mark_told(now)  # the seeded history's lateness is old news to its people


def _requests(people, now: datetime) -> None:
    """A few buyer requests waiting for the demo seller, so the dashboard has some."""
    from portal.addresses import AddressCheck
    from portal.orders import editing, requests
    bea, ben = (User.get_by_id(i) for i in people.buyer_ids[:2])
    shop = Shop.get(Shop.owner == people.seller_ids[0])  # seller@example.com's
    first = {}
    for o in Order.select().where((Order.shop == shop.id) & Order.buyer.in_([bea.id, ben.id]))\
            .order_by(Order.id.desc()):
        first[o.buyer_id, o.status] = o  # the earliest of each, the demo's planned ones
    processed, delivered = first.get((bea.id, "processed")), first.get((bea.id, "delivered"))
    if processed:
        new_address = {**editing.address_of(processed), "line1": "500 Harbor Way"}
        requests.buyer_change_address(processed, AddressCheck(new_address), buyer=bea,
                                      version=processed.version)
    if delivered:  # one item back, as a buyer asks on the order page
        from portal.orders import returns
        line = requests.returnable_lines(delivered)[0]
        requests.buyer_return(delivered, shop, buyer=bea, today=now.date(), items=[
            returns.Wanted(line.id, 1, "not_as_described", "The colour is not what I expected")])
    if (ben.id, "processed") in first:
        requests.buyer_cancel(first[ben.id, "processed"], buyer=ben, reason="Ordered twice",
                              version=first[ben.id, "processed"].version)
    shipped = first.get((bea.id, "shipped"))
    if shipped:  # a conversation, its answer not yet read by the buyer
        from portal.orders import messages
        seller = User.get_by_id(people.seller_ids[0])
        messages.post(shipped, bea, "Hi! Will this arrive before Friday? It is a present.",
                      shop=shop, now=now - timedelta(hours=5))
        messages.post(shipped, seller, "Hello Bea, it left yesterday and should be with you "
                      "on Thursday. The tracking link is on this page.", shop=shop,
                      now=now - timedelta(hours=2))


@contextmanager
def _no_cycle_collection():
    """Millions of new tuples would start the cycle collector thousands of times
    for nothing: none of them can be part of a cycle."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _made_in_background(maker: OrderMaker, spans: list[tuple[int, int]]):
    """Yield ``maker.chunk(*span)`` for each span, made by a forked child process.

    On two cores, building rows in Python and storing them then run side by
    side. One child makes every chunk in turn, so the random choices, and the
    data, are those the maker would have made here. Chunks travel as marshal
    data: the fastest format for plain tuples, and they never leave the machine.
    """
    context = multiprocessing.get_context("fork")
    queue = context.Queue(maxsize=4)
    child = context.Process(target=_make_chunks, args=(maker, spans, queue), daemon=True)
    child.start()
    try:
        for _ in spans:
            while True:
                try:
                    item = queue.get(timeout=1)
                    break
                except Empty:
                    if not child.is_alive():
                        raise RuntimeError("The demo data process stopped unexpectedly.")
            if isinstance(item, str):
                raise RuntimeError(f"The demo data process failed:\n{item}")
            yield dict(zip(ORDER_TABLES, marshal.loads(item)))
    finally:
        if child.is_alive():
            child.terminate()
        child.join()


def _make_chunks(maker: OrderMaker, spans, queue) -> None:
    try:
        for span in spans:
            rows = maker.chunk(*span)
            queue.put(marshal.dumps([rows[model] for model in ORDER_TABLES]))
    except BaseException:
        queue.put(traceback.format_exc())


def print_logins() -> None:
    click.echo("Demo logins:")
    for email, password, _, role in DEMO_LOGINS:
        click.echo(f"  {role:<7} {email:<22} password: {password}")


@click.command("seed-demo")
@with_appcontext
@click.option("--orders", "n_orders", default=300, show_default=True, type=click.IntRange(1),
              help="How many orders to create.")
@click.option("--reset", is_flag=True, help="Drop every table first.")
def seed_demo_command(n_orders: int, reset: bool):
    """Fill the database with demo shops, buyers and orders in every status."""
    with database.connection_context():
        if reset:
            drop_schema()
        upgrade_schema()
        if User.select().where(User.email == DEMO_LOGINS[0][0]).exists():
            raise click.ClickException(
                "Demo data is already there. Run again with --reset to start over.")
        started = datetime.now()
        with click.progressbar(length=n_orders, label="Creating orders") as bar:
            seed(n_orders, progress=bar.update)
        seconds = (datetime.now() - started).total_seconds()
        click.echo(f"Created {n_orders:,} orders in {seconds:.1f} s "
                   f"({n_orders / max(seconds, 1e-6):,.0f} orders/s) in {database.obj.database}.")


@click.command("demo-logins")
@with_appcontext
def demo_logins_command():
    """Print the demo logins."""
    print_logins()
