"""Search index: trigram indexes for both order searches (SQLite FTS5, PostgreSQL pg_trgm).

Over buyers' names and e-mails, product and shop names and the product names on order
lines, so that neither search scans a table with ``LIKE '%…%'``.

SQLite: FTS5 tables with the trigram tokenizer (external content: the text stays in its
table) and triggers that keep them in step in the writing transaction. PostgreSQL:
``pg_trgm`` GIN indexes, which it keeps in step itself. Both: ``line_name``, each product
name written on an order line once, filled by a trigger on ``order_line``.

Built for the rows already there (a million orders' lines take a few seconds). Written
so that running it again over leftovers (a test database whose tables were dropped but
not ``line_name``) does no harm. Numbered 0018: 0015-0017 are reserved by work done at
the same time."""

from peewee import SqliteDatabase

SQLITE = [
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

# An external-content FTS5 table is told what leaves it (the old values, exactly as
# indexed) and what enters it; the triggers do both for every write of the columns.
_FTS_TRIGGERS = {  # table: (fts table, indexed columns)
    "user": ("user_search", ("name", "email")),
    "product": ("product_search", ("name",)),
    "shop": ("shop_search", ("name",)),
    "line_name": ("line_name_search", ("name",)),
}


def _sqlite_triggers() -> list[str]:
    statements = []
    for table, (fts, columns) in _FTS_TRIGGERS.items():
        names = ", ".join(columns)
        new = ", ".join(f'new."{c}"' for c in columns)
        old = ", ".join(f'old."{c}"' for c in columns)
        add = f'INSERT INTO "{fts}"(rowid, {names}) VALUES (new."id", {new});'
        remove = (f'INSERT INTO "{fts}"("{fts}", rowid, {names}) '
                  f"VALUES ('delete', old.\"id\", {old});")
        statements += [
            f'CREATE TRIGGER IF NOT EXISTS "{fts}_insert" AFTER INSERT ON "{table}" '
            f"BEGIN {add} END",
            f'CREATE TRIGGER IF NOT EXISTS "{fts}_delete" AFTER DELETE ON "{table}" '
            f"BEGIN {remove} END",
            f'CREATE TRIGGER IF NOT EXISTS "{fts}_update" AFTER UPDATE OF {names} ON "{table}" '
            f"BEGIN {remove} {add} END",
        ]
    # No "INSERT OR IGNORE": a trigger takes the conflict rule of the statement that
    # fired it, so an outer INSERT OR REPLACE would turn it into a replace.
    keep = ('INSERT INTO "line_name"("name") SELECT new."product_name" WHERE NOT EXISTS '
            '(SELECT 1 FROM "line_name" WHERE "name" = new."product_name");')
    statements += [
        f'CREATE TRIGGER IF NOT EXISTS "order_line_name_insert" AFTER INSERT ON "order_line" '
        f"BEGIN {keep} END",
        f'CREATE TRIGGER IF NOT EXISTS "order_line_name_update" '
        f'AFTER UPDATE OF "product_name" ON "order_line" BEGIN {keep} END',
    ]
    return statements


POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """CREATE TABLE IF NOT EXISTS "line_name" (
        "id" SERIAL NOT NULL PRIMARY KEY, "name" VARCHAR(200) NOT NULL)""",
    'CREATE UNIQUE INDEX IF NOT EXISTS "line_name_name" ON "line_name" ("name")',
    'CREATE INDEX IF NOT EXISTS "user_name_trgm" ON "user" USING gin ("name" gin_trgm_ops)',
    'CREATE INDEX IF NOT EXISTS "user_email_trgm" ON "user" USING gin ("email" gin_trgm_ops)',
    'CREATE INDEX IF NOT EXISTS "product_name_trgm" ON "product" USING gin ("name" gin_trgm_ops)',
    'CREATE INDEX IF NOT EXISTS "shop_name_trgm" ON "shop" USING gin ("name" gin_trgm_ops)',
    'CREATE INDEX IF NOT EXISTS "line_name_name_trgm" ON "line_name" USING gin ("name" gin_trgm_ops)',
    # ON CONFLICT: two transactions writing the same new name at once both succeed.
    """CREATE OR REPLACE FUNCTION "portal_keep_line_name"() RETURNS trigger AS $$
    BEGIN
        INSERT INTO "line_name"("name") VALUES (NEW."product_name") ON CONFLICT DO NOTHING;
        RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    'DROP TRIGGER IF EXISTS "order_line_name" ON "order_line"',
    """CREATE TRIGGER "order_line_name" AFTER INSERT OR UPDATE OF "product_name"
        ON "order_line" FOR EACH ROW EXECUTE FUNCTION "portal_keep_line_name"()""",
]


def upgrade(db, migrator) -> None:
    sqlite = isinstance(db, SqliteDatabase)
    for statement in (SQLITE + _sqlite_triggers()) if sqlite else POSTGRES:
        db.execute_sql(statement)
    if sqlite:  # the rows already there
        for fts in ("user_search", "product_search", "shop_search"):
            db.execute_sql(f"INSERT INTO \"{fts}\"(\"{fts}\") VALUES ('rebuild')")
        # line_name's own trigger indexes each name as it goes in.
        db.execute_sql('INSERT INTO "line_name"("name") SELECT DISTINCT "product_name" '
                       'FROM "order_line" WHERE "product_name" NOT IN '
                       '(SELECT "name" FROM "line_name")')
    else:
        db.execute_sql('INSERT INTO "line_name"("name") SELECT DISTINCT "product_name" '
                       'FROM "order_line" ON CONFLICT DO NOTHING')
