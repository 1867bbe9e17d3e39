"""``/seller/plugins``: the installed plugins by family; the shop turns them on
and off and fills in their settings, validated by the form each plugin supplies.
"""

from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from wtforms import Form

from portal import pluginmanager, shop_plugins
from portal.hooktypes import CarrierInfo
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
    secret: str = ""


def settings_form(name: str, formdata=None, data: dict | None = None) -> tuple[Form | None, str]:
    """The plugin's settings form filled with ``data`` (or the posted ``formdata``)."""
    outcome = pluginmanager.call(name, "plugin_settings_form", plugin_name=name)
    if not outcome.ok:
        return None, outcome.error
    form_class = outcome.value
    if form_class is None:
        return None, ""
    if not (isinstance(form_class, type) and issubclass(form_class, Form)):
        return None, "its settings form is not a WTForms form"
    return form_class(formdata=formdata, data=data, prefix=f"{name}-"), ""


def cards(setup: shop_plugins.ShopPlugins, posted: tuple[str, Form] | None = None) -> dict:
    """The page's plugins grouped by family; ``posted`` replaces one form (with its errors)."""
    shop = current_shop()
    groups: dict[str, list[PluginCard]] = {family: [] for family in pluginmanager.FAMILIES.values()}
    for plugin in pluginmanager.installed():
        if plugin.error:
            card = PluginCard(plugin.name, plugin.name, plugin.source or "?", False,
                              problem=plugin.error)
            groups.setdefault("Other", []).append(card)
            continue
        carrier = shop_plugins.carrier_info(plugin.name)
        card = PluginCard(plugin.name, carrier.name if carrier else plugin.name, plugin.source,
                          setup.is_enabled(plugin.name), carrier)
        if "carrier_info" in plugin.hooks and carrier is None:
            card.problem = "It did not describe itself; it is unavailable for now."
        if posted and posted[0] == plugin.name:
            card.form = posted[1]
        else:
            card.form, problem = settings_form(plugin.name, data=setup.settings(plugin.name))
            card.problem = card.problem or problem
        if shop_plugins.takes_webhooks(plugin.name):
            card.webhook_url = url_for("webhooks.carrier_push", code=plugin.name, shop=shop.slug,
                                       _external=True)
            card.secret = setup.secret(plugin.name)
        for family in plugin.families:
            groups.setdefault(pluginmanager.FAMILIES.get(family, "Other"), []).append(card)
    return {family: items for family, items in groups.items() if items}


def _known(name: str) -> str:
    if name not in pluginmanager.plugin_names():
        abort(404)
    return name


@bp.get("/")
@seller_required
def index():
    return render_template("plugins/index.html", groups=cards(shop_plugins.for_shop(current_shop())))


@bp.post("/<name>/enabled")
@seller_required
def set_enabled(name: str):
    _known(name)
    enabled = request.form.get("enabled") == "1"
    shop_plugins.set_enabled(current_shop(), name, enabled)
    flash(f"{name} is {'on' if enabled else 'off'} for your shop.", "success")
    return redirect(url_for(".index", _anchor=f"plugin-{name}"), 303)


@bp.post("/<name>/settings")
@seller_required
def save_settings(name: str):
    _known(name)
    form, problem = settings_form(name, formdata=request.form)
    if form is None:
        abort(404 if not problem else 503)
    if not form.validate():
        setup = shop_plugins.for_shop(current_shop())
        return render_template("plugins/index.html", groups=cards(setup, (name, form))), 422
    shop_plugins.save_settings(current_shop(), name, form.data)
    flash(f"Settings of {name} saved.", "success")
    return redirect(url_for(".index", _anchor=f"plugin-{name}"), 303)


@bp.post("/<name>/secret")
@seller_required
def rotate_secret(name: str):
    _known(name)
    if not shop_plugins.takes_webhooks(name):
        abort(404)
    shop_plugins.rotate_secret(current_shop(), name)
    flash("A new webhook secret was made: paste it into the carrier's dashboard.", "success")
    return redirect(url_for(".index", _anchor=f"plugin-{name}"), 303)
