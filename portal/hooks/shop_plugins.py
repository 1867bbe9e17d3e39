"""Which plugins a shop turned on, and their settings (one PluginConfig row each).

Plugins are off until the shop enables them, except carriers that say they
are ``always_on`` (the manual fallback), which are on until the shop turns
them off. Settings are stored as JSON, exactly as the plugin's settings form
validated them, and handed to the plugin's hooks as ``settings``.

A plugin whose form has a required field that is empty (stored empty, and no
default) is "not configured": it may be on, but shipping does not offer it
until the seller fills the field in. Fields of type ``PasswordField`` are
secrets (API keys): never shown back, and left empty on the page they keep
the stored value.
"""

import json
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime

from werkzeug.datastructures import MultiDict
from wtforms import Form, PasswordField

from portal.hooks import pluginmanager
from portal.hooks.hooktypes import CarrierInfo, PluginInfo
from portal.models import PluginConfig, Shop, utcnow



def _cache(kind: str) -> dict:
    """What plugins said about themselves (``kind``: carrier, info, form), by plugin name:
    kept with the current app's plugins, asked anew when a plugin is registered."""
    return pluginmanager.current().cache.setdefault(kind, {})


class SettingsRefused(ValueError):
    """Settings the plugin's settings form refuses; ``errors`` maps field name to messages."""

    def __init__(self, plugin: str, errors: dict[str, list[str]]):
        self.plugin, self.errors = plugin, errors
        detail = "; ".join(f"{name}: {' '.join(map(str, messages))}"
                           for name, messages in errors.items())
        super().__init__(f"The settings form of plugin {plugin!r} refuses these settings: {detail}")


def carrier_info(plugin_name: str) -> CarrierInfo | None:
    """The plugin's :class:`CarrierInfo` (cached), or None for a non-carrier or a failing one."""
    cache = _cache("carrier")
    if plugin_name not in cache:
        outcome = pluginmanager.call(plugin_name, "carrier_info")
        if not outcome.ok:
            return None  # ask again next time
        cache[plugin_name] = outcome.value
    return cache[plugin_name]


def forget_carriers() -> None:
    """Forget what plugins said about themselves (carrier, name, settings form)."""
    pluginmanager.current().cache.clear()


def plugin_info(plugin_name: str) -> PluginInfo | None:
    """The plugin's own :class:`PluginInfo` (hook ``plugin_info``), cached; None if it has none."""
    cache = _cache("info")
    if plugin_name not in cache:
        outcome = pluginmanager.call(plugin_name, "plugin_info", plugin_name=plugin_name)
        if not outcome.ok:
            return None
        cache[plugin_name] = outcome.value if isinstance(outcome.value, PluginInfo) else None
    return cache[plugin_name]


def display_name(plugin_name: str) -> str:
    """What sellers read: the plugin's own name, else its carrier's, else its registered name."""
    info = plugin_info(plugin_name)
    if info and info.name:
        return info.name
    carrier = carrier_info(plugin_name)
    return carrier.name if carrier else plugin_name


def form_class(plugin_name: str) -> tuple[type | None, str]:
    """The plugin's settings form class (cached) and, if it failed to give one, why."""
    cache = _cache("form")
    if plugin_name in cache:
        return cache[plugin_name], ""
    outcome = pluginmanager.call(plugin_name, "plugin_settings_form", plugin_name=plugin_name)
    if not outcome.ok:
        return None, outcome.error or outcome.refused
    cls = outcome.value
    if cls is not None and not (isinstance(cls, type) and issubclass(cls, Form)):
        return None, "its settings form is not a WTForms form"
    cache[plugin_name] = cls
    return cls, ""


def build_form(plugin_name: str, formdata=None, data: dict | None = None) -> tuple[Form | None, str]:
    """The plugin's settings form (fields prefixed ``<name>-``), and a problem if it has none."""
    cls, problem = form_class(plugin_name)
    if cls is None:
        return None, problem
    return cls(formdata=formdata, data=data, prefix=f"{plugin_name}-"), ""


def is_secret(form_field) -> bool:
    """A setting that is never shown back: a ``PasswordField`` (API keys, passwords)."""
    return isinstance(form_field, PasswordField)


def keep_secrets(plugin_name: str, formdata, stored: dict) -> MultiDict:
    """``formdata`` where every secret field left empty carries the stored secret."""
    form, _ = build_form(plugin_name)
    merged = MultiDict(formdata)
    for f in form or ():
        if is_secret(f) and not merged.get(f.name, "").strip() and stored.get(f.short_name):
            merged.setlist(f.name, [str(stored[f.short_name])])
    return merged


def missing_settings(plugin_name: str, stored: dict) -> list[str]:
    """Labels of the required settings that are empty (stored empty, no default)."""
    form, _ = build_form(plugin_name, data=stored)
    return [f.label.text for f in form or () if f.flags.required and f.data in (None, "", [])]


def _as_text(value) -> list[str]:
    if value is None or value is False:
        return []
    if value is True:
        return ["y"]
    if isinstance(value, (list, tuple, set)):
        return [t for v in value for t in _as_text(v)]
    if isinstance(value, (date, datetime)):
        return [value.isoformat()]
    return [str(value)]


def validate_settings(plugin_name: str, settings: dict, stored: dict | None = None) -> dict:
    """``settings`` (Python values by field name) as the plugin's form would store them.

    Fields not given keep the stored value or the form's default, as the
    seller's page shows them; raises :class:`SettingsRefused` when the form
    refuses them or a name is not one of its fields.
    """
    current, problem = build_form(plugin_name, data=stored or {})
    if current is None:
        if problem:
            raise SettingsRefused(plugin_name, {"": [f"it gives no settings form: {problem}"]})
        if settings:
            raise SettingsRefused(plugin_name, {
                name: ["the plugin has no settings form"] for name in settings})
        return {}
    names = {f.short_name for f in current}
    unknown = sorted(set(settings) - names)
    if unknown:
        raise SettingsRefused(plugin_name, {
            name: [f"not a field of its settings form (fields: {', '.join(sorted(names))})"]
            for name in unknown})
    formdata = MultiDict()
    for f in current:
        for text in _as_text(settings[f.short_name] if f.short_name in settings else f.data):
            formdata.add(f.name, text)
    form, _ = build_form(plugin_name, formdata=formdata)
    if not form.validate():
        raise SettingsRefused(plugin_name, {f.short_name: list(f.errors) for f in form if f.errors})
    return form.data


@dataclass
class ShopPlugins:
    """One shop's plugin set-up, read with one query."""

    shop_id: int
    rows: dict[str, PluginConfig] = field(default_factory=dict)

    def is_enabled(self, name: str) -> bool:
        row = self.rows.get(name)
        if row is not None:
            return row.enabled
        info = carrier_info(name)
        return bool(info and info.always_on)

    def enabled(self) -> list[str]:
        """The shop's enabled plugins, in registration order."""
        return [name for name in pluginmanager.plugin_names() if self.is_enabled(name)]

    def call_first(self, hook_name: str, /, **kwargs) -> "pluginmanager.Outcome | None":
        """Ask a ``firstresult`` hook of the shop's enabled, configured plugins at once, as
        pluggy orders them (the last registered first; ``tryfirst``/``trylast``
        honoured; their wrappers around): the first answer or refusal, else the first
        failure, else None (see :func:`portal.hooks.pluginmanager.call_first`). Each
        plugin, and each wrapper, gets its own ``settings``."""
        names = [n for n in self.enabled()
                 if not pluginmanager.implements(n, hook_name) or self.is_configured(n)]
        settings = pluginmanager.PerPlugin({n: self.settings(n) for n in names}, {})
        return pluginmanager.call_first(hook_name, names, **{"settings": settings, **kwargs})

    def missing(self, name: str) -> list[str]:
        """The labels of the plugin's required settings that the shop left empty."""
        return missing_settings(name, self.settings(name))

    def is_configured(self, name: str) -> bool:
        return not self.missing(name)

    def settings(self, name: str) -> dict:
        row = self.rows.get(name)
        return json.loads(row.settings) if row else {}

    def secret(self, name: str) -> str:
        row = self.rows.get(name)
        return row.webhook_secret if row else ""


def for_shop(shop: Shop | int) -> ShopPlugins:
    shop_id = shop if isinstance(shop, int) else shop.id
    rows = PluginConfig.select().where(PluginConfig.shop == shop_id)
    return ShopPlugins(shop_id, {row.plugin: row for row in rows})


def _row(shop: Shop, name: str) -> PluginConfig:
    row, _ = PluginConfig.get_or_create(shop=shop, plugin=name)
    return row


def set_enabled(shop: Shop, name: str, enabled: bool) -> PluginConfig:
    """Turn a plugin on or off for the shop; a webhook carrier, or a payment plugin that
    draws pages, gets the shop's secret for it on first use."""
    row = _row(shop, name)
    row.enabled, row.updated_at = enabled, utcnow()
    if enabled and not row.webhook_secret and needs_secret(name):
        row.webhook_secret = new_secret()
    row.save()
    return row


def takes_webhooks(name: str) -> bool:
    return pluginmanager.implements(name, "carrier_parse_webhook")


def needs_secret(name: str) -> bool:
    """Whether the plugin gets a secret per shop: to check a carrier's webhooks, or to
    sign the answers of its payment pages (``payment_page``)."""
    return takes_webhooks(name) or pluginmanager.implements(name, "payment_page")


def save_settings(shop: Shop, name: str, data: dict) -> PluginConfig:
    row = _row(shop, name)
    row.settings, row.updated_at = json.dumps(data, sort_keys=True, default=str), utcnow()
    row.save()
    return row


def rotate_secret(shop: Shop, name: str) -> str:
    row = _row(shop, name)
    row.webhook_secret, row.updated_at = new_secret(), utcnow()
    row.save()
    return row.webhook_secret


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)
