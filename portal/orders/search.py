"""The text index behind both order searches: which buyers, shops and product names
contain what was typed, answered from an index instead of a ``LIKE '%…%'`` scan.

What is indexed (built by migration 0018, kept in step inside the writing transaction):

- buyers' names and e-mail addresses (``user``), the shops' product names (``product``)
  and the shops' names (``shop``): the rows themselves;
- the product names written on order lines, once each, in ``line_name``: a trigger
  on ``order_line`` adds a line's name when the line is written or renamed. Names
  are never removed: one that no line carries any more matches nothing.

On SQLite the index is an FTS5 table per column set with the trigram tokenizer
(external content, so the text is not stored twice) and triggers on the rows; on
PostgreSQL it is a ``pg_trgm`` GIN index per column, which PostgreSQL keeps in step
itself, and ``ILIKE`` uses it (``line_name`` has its trigger on both). A migration
that rebuilds one of these tables on SQLite must make its triggers again:
tests/test_search_index.py would see the index fall behind.

Both answer "contains" for three characters or more (a trigram needs three).
Shorter text cannot use a trigram index; the callers fall back to searches bounded
by the shop's catalogue or the buyer's own orders (see :data:`MIN_LENGTH`).
"""

from peewee import SQL, CharField, Model, NodeList, SqliteDatabase, fn

from portal.db import database, is_sqlite
from portal.models import Product, Shop, User

MIN_LENGTH = 3  # characters: a trigram index cannot answer less

# The index as the schema holds it: migration 0018 builds the same (with its own
# copy, as migrations never change); tests/test_migrations.py checks the two agree.
SQLITE_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS "line_name" (
        "id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(200) NOT NULL)""",
    'CREATE UNIQUE INDEX IF NOT EXISTS "line_name_name" ON "line_name" ("name")',
    """CREATE VIRTUAL TABLE IF NOT EXISTS "user_search" USING fts5(
        name, email, content='user', content_rowid='id', tokenize='trigram')""",
    """CREATE VIRTUAL TABLE IF NOT EXISTS "product_search" USING fts5(
        name, content='product', content_rowid='id', tokenize='trigram')""",
    """CREATE VIRTUAL TABLE IF NOT EXISTS "shop_search" USING fts5(
        name, content='shop', content_rowid='id', tokenize='trigram')""",
    """CREATE VIRTUAL TABLE IF NOT EXISTS "line_name_search" USING fts5(
        name, content='line_name', content_rowid='id', tokenize='trigram')""",
]
POSTGRES_SCHEMA = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """CREATE TABLE IF NOT EXISTS "line_name" (
        "id" SERIAL NOT NULL PRIMARY KEY, "name" VARCHAR(200) NOT NULL)""",
    'CREATE UNIQUE INDEX IF NOT EXISTS "line_name_name" ON "line_name" ("name")',
    'CREATE INDEX IF NOT EXISTS "user_name_trgm" ON "user" USING gin ("name" gin_trgm_ops)',
    'CREATE INDEX IF NOT EXISTS "user_email_trgm" ON "user" USING gin ("email" gin_trgm_ops)',
    'CREATE INDEX IF NOT EXISTS "product_name_trgm" ON "product" USING gin ("name" gin_trgm_ops)',
    'CREATE INDEX IF NOT EXISTS "shop_name_trgm" ON "shop" USING gin ("name" gin_trgm_ops)',
    'CREATE INDEX IF NOT EXISTS "line_name_name_trgm" ON "line_name" USING gin ("name" gin_trgm_ops)',
]


def install_schema(db) -> None:
    """Create the index's tables and indexes in ``db`` (not its triggers nor its rows:
    migration 0018 does those). For comparing the migrations' schema with this one."""
    for statement in SQLITE_SCHEMA if isinstance(db, SqliteDatabase) else POSTGRES_SCHEMA:
        db.execute_sql(statement)


def is_short(text: str) -> bool:
    """Too short for the index: the callers' bounded fallbacks take it."""
    return len(text.strip()) < MIN_LENGTH


def _phrase(text: str) -> str:
    """``text`` as one FTS5 phrase: quoted, its quotes doubled, so that AND, OR, NOT,
    ``*``, ``^``, ``:``, brackets and quotes are plain characters to look for."""
    return '"' + text.replace('"', '""') + '"'


def _fts_rowids(table: str, text: str):
    """``(SELECT rowid FROM table WHERE table MATCH phrase)``, for an ``IN``."""
    return NodeList((SQL(f'SELECT rowid FROM "{table}" WHERE "{table}" MATCH ?',
                         [_phrase(text)]),), parens=True)


def user_ids_containing(text: str, limit: int) -> list[int]:
    """Up to ``limit`` ids of the people whose name or e-mail contains ``text`` (3+
    characters): one read of the index that stops at ``limit`` (SQLite only)."""
    cursor = database.execute_sql(
        'SELECT rowid FROM "user_search" WHERE "user_search" MATCH ? LIMIT ?',
        [_phrase(text.strip()), limit])
    return [row[0] for row in cursor]


def users_containing(text: str):
    """Ids of the people whose name or e-mail address contains ``text`` (3+ characters)."""
    text = text.strip()
    if is_sqlite():
        return _fts_rowids("user_search", text)
    return User.select(User.id).where(User.name.contains(text) | User.email.contains(text))


def products_containing(shop_id: int, text: str):
    """Ids of the shop's products whose name contains ``text`` (3+ characters)."""
    text = text.strip()
    if is_sqlite():
        return Product.select(Product.id).where(
            (Product.shop == shop_id) & Product.id.in_(_fts_rowids("product_search", text)))
    return Product.select(Product.id).where((Product.shop == shop_id)
                                            & Product.name.contains(text))


def shops_containing(text: str):
    """Ids of the shops whose name contains ``text`` (3+ characters)."""
    text = text.strip()
    if is_sqlite():
        return _fts_rowids("shop_search", text)
    return Shop.select(Shop.id).where(Shop.name.contains(text))


class LineName(Model):
    """``line_name``: each product name written on an order line, once (filled by a
    trigger). Not in ``ALL_MODELS``: it belongs to the index, which migration 0018 builds."""

    name = CharField(max_length=200, unique=True)

    class Meta:
        database = database
        table_name = "line_name"


FEW_NAMES = 500  # line names matching a search, up to which they are fetched first


def line_name_contains(column, text: str):
    """A condition on ``column`` (an order line's product name): it is one of the
    product names that contain ``text`` (3+ characters); None when no name does.
    The names are looked up once per query, not once per line tested."""
    text = text.strip()
    if is_sqlite():
        # Fetched first (a read that stops past FEW_NAMES): when none match, which is
        # what a typo or an order number gives, the caller tests no line at all.
        found = [name for (name,) in database.execute_sql(
            'SELECT "name" FROM "line_name" WHERE "id" IN (SELECT rowid FROM '
            '"line_name_search" WHERE "line_name_search" MATCH ? LIMIT ?)',
            [_phrase(text), FEW_NAMES + 1])]
        if not found:
            return None
        if len(found) <= FEW_NAMES:
            return column.in_(found)
        return column.in_(LineName.select(LineName.name).where(  # built once: uncorrelated
            LineName.id.in_(_fts_rowids("line_name_search", text))))
    # ARRAY(...) makes PostgreSQL compute the names once (an InitPlan); a plain IN
    # inside the per-order EXISTS is pulled up into a join it would run per order.
    return column == fn.ANY(fn.ARRAY(
        LineName.select(LineName.name).where(LineName.name.contains(text))))
