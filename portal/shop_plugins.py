"""Which plugins a shop turned on, and their settings (one PluginConfig row each).

Plugins are off until the shop enables them, except carriers that say they
are ``always_on`` (the manual fallback), which are on until the shop turns
them off. Settings are stored as JSON, exactly as the plugin's settings form
validated them, and handed to the plugin's hooks as ``settings``.
"""

import json
import secrets
from dataclasses import dataclass, field

from portal import pluginmanager
from portal.hooktypes import CarrierInfo
from portal.models import PluginConfig, Shop, utcnow

_carrier_cache: dict[str, CarrierInfo | None] = {}


def carrier_info(plugin_name: str) -> CarrierInfo | None:
    """The plugin's :class:`CarrierInfo` (cached), or None for a non-carrier or a failing one."""
    if plugin_name not in _carrier_cache:
        outcome = pluginmanager.call(plugin_name, "carrier_info")
        if not outcome.ok:
            return None  # ask again next time
        _carrier_cache[plugin_name] = outcome.value
    return _carrier_cache[plugin_name]


def forget_carriers() -> None:
    _carrier_cache.clear()


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
    """Turn a plugin on or off for the shop; a webhook carrier gets a secret on first use."""
    row = _row(shop, name)
    row.enabled, row.updated_at = enabled, utcnow()
    if enabled and not row.webhook_secret and takes_webhooks(name):
        row.webhook_secret = new_secret()
    row.save()
    return row


def takes_webhooks(name: str) -> bool:
    return pluginmanager.implements(name, "carrier_parse_webhook")


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
