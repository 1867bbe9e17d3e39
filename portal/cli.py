"""Commands for operators: ``flask --app portal <command>`` (``--help`` lists them all).

The database ones live here; the worker, the outbox and the plugin list beside
what they run (``portal.background``, ``portal.hooks.pluginmanager``), the demo's
in ``portal.demo``.
"""

import click
from flask.cli import with_appcontext

from portal.db import database, upgrade_schema


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Create the database, or bring it up to date (the same as ``db upgrade``)."""
    upgrade_schema(echo=click.echo)
    click.echo(f"Database ready: {database.obj.database}")


@click.group("db")
def db_command():
    """The database schema: where it stands, and bringing it up to date."""


@db_command.command("upgrade")
@with_appcontext
def db_upgrade_command():
    """Run the migrations this database has not had yet."""
    ran = upgrade_schema(echo=click.echo)
    click.echo(f"{database.obj.database}: " + (f"{len(ran)} migration(s) run."
                                                if ran else "already up to date."))


@db_command.command("status")
@with_appcontext
def db_status_command():
    """List the migrations, with when this database ran each."""
    from portal import migrations
    with database.connection_context():
        steps = migrations.status(database.obj)
    for step in steps:
        when = f"{step.applied_at:%Y-%m-%d %H:%M} UTC" if step.applied_at else "not yet run"
        click.echo(f"{step.migration.title:<40} {when:<22} {step.migration.summary}")
    waiting = sum(1 for step in steps if step.applied_at is None)
    click.echo(f"{waiting} waiting: run `flask --app portal db upgrade`." if waiting
               else "Up to date.")


@click.command("move-to-postgres")
@click.argument("target_url", metavar="POSTGRESQL_URL")
@with_appcontext
def move_to_postgres_command(target_url: str):
    """Copy this SQLite installation into an empty PostgreSQL database, and check it.

    Stop the web server and the worker first; afterwards point PORTAL_DATABASE_URL at
    POSTGRESQL_URL (e.g. postgresql://portal@127.0.0.1/portal).
    """
    from flask import current_app

    from portal.move import MoveRefused, move
    try:
        report = move(current_app.config["DATABASE_URL"], target_url, echo=click.echo)
    except MoveRefused as refused:
        raise click.ClickException(str(refused)) from None
    if report.skipped:
        click.echo(f"Not copied (SQLite's own search tables, PostgreSQL indexes instead): "
                   f"{', '.join(report.skipped)}")
    click.echo(f"Moved {report.rows:,} rows in {len(report.tables)} tables; every count and "
               "sum matches.")
