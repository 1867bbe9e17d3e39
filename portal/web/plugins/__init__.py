"""``/seller/plugins``: the installed plugins by family; the shop turns them on
and off and fills in their settings, validated by the form each plugin supplies.

Secrets are never sent back to the browser in clear: secret settings
(``PasswordField``) show whether one is stored and how it ends, and keep the
stored value when left empty; the webhook secret is shown masked, in full only
after the seller asks for it (a POST, not cached).
"""

from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from wtforms import Form

from portal.hooks import pluginmanager, shop_plugins
from portal.hooks.hooktypes import CarrierInfo
from portal.web.access import current_shop, seller_required

bp = Blueprint("plugins", __name__, url_prefix="/seller/plugins")


@dataclass
class PluginCard:
    name: str
    title: str
    source: str
    enabled: bool
    carrier: CarrierInfo | None = None
    problem: str = ""  # set when the plugin is unavailable
    form: Form | None = None
    webhook_url: str = ""
    secret: str = ""  # masked unless the seller asked to see it
    secret_shown: bool = False  # ``secret`` is the whole secret
    missing: tuple[str, ...] = ()  # required settings left empty: "Not configured"
    description: str = ""
    stored_secrets: dict | None = None  # secret field name -> masked stored value

    @property
    def not_configured(self) -> bool:
        return bool(self.missing)


def mask(secret: str) -> str:
    """A stored secret as the page shows it: its kind and last four characters at most."""
    if not secret:
        return ""
    head = secret[:6] if secret.startswith("whsec_") else ""
    tail = secret[-4:] if len(secret) >= 12 else ""
    return f"{head}{'•' * 8}{tail}"


def settings_form(name: str, formdata=None, data: dict | None = None) -> tuple[Form | None, str]:
    """The plugin's settings form filled with ``data`` (or the posted ``formdata``)."""
    return shop_plugins.build_form(name, formdata=formdata, data=data)


def _without_secrets(name: str, stored: dict) -> dict:
    form, _ = settings_form(name)
    secret = {f.short_name for f in form or () if shop_plugins.is_secret(f)}
    return {key: value for key, value in stored.items() if key not in secret}


def cards(setup: shop_plugins.ShopPlugins, posted: tuple[str, Form] | None = None,
          revealed: str = "") -> dict:
    """The page's plugins grouped by family; ``posted`` replaces one form (with its errors);
    the webhook secret of plugin ``revealed`` is shown in full."""
    shop = current_shop()
    groups: dict[str, list[PluginCard]] = {family: [] for family in pluginmanager.FAMILIES.values()}
    for plugin in pluginmanager.installed():
        if plugin.error:
            card = PluginCard(plugin.name, plugin.name, plugin.source or "?", False,
                              problem=pluginmanager.problem(plugin.name) or plugin.error)
            groups.setdefault("Other", []).append(card)
            continue
        carrier = shop_plugins.carrier_info(plugin.name)
        info = shop_plugins.plugin_info(plugin.name)
        card = PluginCard(plugin.name, shop_plugins.display_name(plugin.name), plugin.source,
                          setup.is_enabled(plugin.name), carrier,
                          description=info.description if info else "")
        if "carrier_info" in plugin.hooks and carrier is None:
            card.problem = "it did not describe itself (carrier_info failed)"
        stored = setup.settings(plugin.name)
        if posted and posted[0] == plugin.name:
            card.form = posted[1]
        else:
            # Secrets are never put back into the page, not even into a value attribute.
            card.form, problem = settings_form(plugin.name, data=_without_secrets(plugin.name, stored))
            card.problem = card.problem or problem
        card.problem = card.problem or pluginmanager.problem(plugin.name)
        if card.form is not None:
            card.stored_secrets = {f.short_name: mask(str(stored.get(f.short_name) or ""))
                                   for f in card.form if shop_plugins.is_secret(f)}
            card.missing = tuple(setup.missing(plugin.name)) if card.enabled else ()
        if shop_plugins.takes_webhooks(plugin.name):
            card.webhook_url = url_for("webhooks.carrier_push", code=plugin.name, shop=shop.slug,
                                       _external=True)
            secret = setup.secret(plugin.name)
            card.secret_shown = revealed == plugin.name
            card.secret = secret if card.secret_shown else mask(secret)
        for family in plugin.families:
            groups.setdefault(pluginmanager.FAMILIES.get(family, "Other"), []).append(card)
    return {family: items for family, items in groups.items() if items}


def _known(name: str) -> str:
    if name not in pluginmanager.plugin_names():
        abort(404)
    return name


def _page(groups, status: int = 200):
    response = render_template("plugins/index.html", groups=groups,
                               restart=pluginmanager.RESTART)
    return response, status, {"Cache-Control": "no-store"}


@bp.get("/")
@seller_required
def index():
    return _page(cards(shop_plugins.for_shop(current_shop())))


@bp.post("/<name>/enabled")
@seller_required
def set_enabled(name: str):
    _known(name)
    enabled = request.form.get("enabled") == "1"
    shop = current_shop()
    shop_plugins.set_enabled(shop, name, enabled)
    title = shop_plugins.display_name(name)
    missing = shop_plugins.for_shop(shop).missing(name) if enabled else []
    if missing:
        flash(f"{title} is on, but not configured yet: fill in {', '.join(missing)} and save; "
              "until then it is not offered when you ship.", "error")
    else:
        flash(f"{title} is {'on' if enabled else 'off'} for your shop.", "success")
    return redirect(url_for(".index", _anchor=f"plugin-{name}"), 303)


@bp.post("/<name>/settings")
@seller_required
def save_settings(name: str):
    _known(name)
    shop = current_shop()
    setup = shop_plugins.for_shop(shop)
    formdata = shop_plugins.keep_secrets(name, request.form, setup.settings(name))
    form, problem = settings_form(name, formdata=formdata)
    if form is None:
        abort(404 if not problem else 503)
    if not form.validate():
        return _page(cards(setup, (name, form)), 422)
    shop_plugins.save_settings(shop, name, form.data)
    flash(f"Settings of {shop_plugins.display_name(name)} saved.", "success")
    return redirect(url_for(".index", _anchor=f"plugin-{name}"), 303)


@bp.post("/<name>/secret")
@seller_required
def rotate_secret(name: str):
    _known(name)
    if not shop_plugins.takes_webhooks(name):
        abort(404)
    shop_plugins.rotate_secret(current_shop(), name)
    flash(f"A new webhook secret was made for {shop_plugins.display_name(name)}: press "
          "\u201cShow the secret\u201d to copy it into the carrier's dashboard. "
          "The old one no longer works.", "success")
    return redirect(url_for(".index", _anchor=f"plugin-{name}"), 303)


@bp.post("/<name>/secret/show")
@seller_required
def show_secret(name: str):
    """The page with this plugin's webhook secret in full (asked for with a POST, never cached)."""
    _known(name)
    if not shop_plugins.takes_webhooks(name):
        abort(404)
    return _page(cards(shop_plugins.for_shop(current_shop()), revealed=name))
