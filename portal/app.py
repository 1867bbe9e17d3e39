"""``create_app()``: builds the portal, its database, plugins, blueprints and commands."""

import os
from pathlib import Path

from flask import Flask, render_template

ROOT = Path(__file__).resolve().parent.parent


def _init_database(app: Flask) -> None:
    """The app's own database: current whenever one of its contexts is pushed (a
    request, a command, a background task), so a second app never re-points this
    one; a connection per request, given back to the pool after it."""
    from flask import appcontext_pushed, g

    from portal import db
    own = app.extensions["portal.database"] = db.open_database(app.config["DATABASE_URL"])
    db.database.initialize(own)  # also the default outside any app (scripts, test set-up)

    def _use(sender, **_):
        g._portal_database = db.use(own)

    appcontext_pushed.connect(_use, app, weak=False)

    @app.teardown_appcontext  # registered first, so it runs last: after _close below
    def _release(exc):
        token = g.pop("_portal_database", None)
        if token is not None:
            db.release(token)

    @app.before_request
    def _open():
        db.database.connect(reuse_if_open=True)

    @app.teardown_appcontext
    def _close(exc):
        if not db.database.is_closed():
            db.database.close()


def _init_plugins(app: Flask) -> None:
    """The app's own plugin state (manager, time budget, resting and failing plugins),
    current whenever one of its contexts is pushed, as its database is."""
    from flask import appcontext_pushed, g

    from portal.hooks import pluginmanager
    own = app.extensions["portal.plugins"] = pluginmanager.new(app.config)

    def _use(sender, **_):
        g._portal_plugins = pluginmanager.use(own)

    appcontext_pushed.connect(_use, app, weak=False)

    @app.teardown_appcontext
    def _release(exc):
        token = g.pop("_portal_plugins", None)
        if token is not None:
            pluginmanager.release(token)


def create_app(config: dict | None = None) -> Flask:
    """Build the portal. ``config`` overrides what the environment says (tests use it)."""
    # PORTAL_INSTANCE_PATH: where this instance keeps its files (the SQLite database, the
    # generated secret key, the SQLite queue); each machine of a cluster has its own.
    app = Flask("portal", instance_path=os.environ.get("PORTAL_INSTANCE_PATH", str(ROOT / "instance")),
                static_folder=str(ROOT / "static"), static_url_path="/static")

    from portal import config as settings
    app.config.update(settings.from_environment(Path(app.instance_path)))
    app.config.update(config or {})
    # The background queue's SQLite file and the generated secret key live here.
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = settings.secret_key(Path(app.instance_path))

    if app.config.get("TRUSTED_PROXIES"):
        # The client's address (login limits), scheme and host as the proxy saw them.
        from werkzeug.middleware.proxy_fix import ProxyFix
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops,
                                x_prefix=hops)

    from portal.web import filters, guards, messaging, security
    from portal.web.extensions import csrf, htmx, limiter, login_manager
    _init_database(app)
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    security.init_app(app)
    guards.init_app(app)
    filters.init_app(app)
    messaging.init_app(app)

    from portal import background, mail
    from portal.hooks import pluginmanager
    mail.show_in_terminal()  # until SMTP exists, the log is where mail goes
    _init_plugins(app)
    background.init_app(app)
    app.cli.command("plugins")(pluginmanager.list_plugins)  # in the app's context

    from portal.web import (account, auth, buyer, checkout, notifications, payments, plugins,
                            seller, shipments, shop, webhooks)
    from portal.web.render import wants_fragment
    app.register_blueprint(auth.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(buyer.bp)
    app.register_blueprint(seller.bp)
    app.register_blueprint(plugins.bp)
    app.register_blueprint(shipments.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(shop.bp)
    app.register_blueprint(checkout.bp)
    app.register_blueprint(payments.bp)
    app.register_blueprint(notifications.bp)
    webhooks.init_app(app)  # plain carrier pushes are answered before Flask's request machinery

    from portal import cli, demo
    app.cli.add_command(cli.init_db_command)
    app.cli.add_command(cli.db_command)
    app.cli.add_command(cli.move_to_postgres_command)
    app.cli.add_command(demo.seed_demo_command)
    app.cli.add_command(demo.demo_logins_command)
    from portal.notifications import catcher
    app.cli.add_command(catcher.mail_catcher_command)

    @app.get("/")
    def index():  # the shops, for everyone; the nav leads to Orders / Seller Center
        return shop.shops_page()

    @app.errorhandler(400)
    @app.errorhandler(404)
    @app.errorhandler(409)
    @app.errorhandler(413)
    @app.errorhandler(429)
    def _error_page(error):
        headers = {}
        if wants_fragment():  # an htmx swap: show the error as the whole page
            headers = {"HX-Retarget": "body", "HX-Reswap": "innerHTML", "HX-Push-Url": "false"}
        return render_template("error.html", error=error), error.code, headers

    return app
