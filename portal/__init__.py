"""The order portal: ``create_app()`` builds everything; nothing runs at import."""

from pathlib import Path

from flask import Flask, redirect, render_template, url_for
from flask_login import current_user

from portal.hookspecs import hookimpl  # for plugins: ``from portal import hookimpl``

__all__ = ["create_app", "hookimpl"]

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Build the portal. ``config`` overrides what the environment says (tests use it)."""
    app = Flask(__name__, instance_path=str(ROOT / "instance"),
                static_folder=str(ROOT / "static"), static_url_path="/static")

    from portal import config as settings
    app.config.update(settings.from_environment(Path(app.instance_path)))
    app.config.update(config or {})
    # The background queue's SQLite file and the generated secret key live here.
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = settings.secret_key(Path(app.instance_path))

    from portal import db, security
    from portal.extensions import csrf, htmx, limiter, login_manager
    from portal.web import filters, guards
    db.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    security.init_app(app)
    guards.init_app(app)
    filters.init_app(app)

    from portal import background, pluginmanager
    pluginmanager.configure(app.config)
    background.init_app(app)
    app.cli.add_command(pluginmanager.plugins_command)

    from portal.web import auth, buyer, plugins, seller, shipments, webhooks
    from portal.web.render import wants_fragment
    app.register_blueprint(auth.bp)
    app.register_blueprint(buyer.bp)
    app.register_blueprint(seller.bp)
    app.register_blueprint(plugins.bp)
    app.register_blueprint(shipments.bp)
    app.register_blueprint(webhooks.bp)

    from portal import demo
    app.cli.add_command(demo.seed_demo_command)
    app.cli.add_command(demo.demo_logins_command)

    @app.get("/")
    def index():
        if current_user.is_authenticated:
            return redirect(auth.home_for(current_user))
        return redirect(url_for("auth.login"))

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
