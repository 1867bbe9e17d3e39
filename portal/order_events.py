"""Telling plugins what happened to orders (the ``order_*`` hooks).

Only plugins the order's shop enabled are told; a plugin that fails is
logged by the plugin boundary and the order's change stands regardless.
"""

from portal import pluginmanager, shop_plugins
from portal.hooktypes import OrderChange


def listeners(shop_id: int, hook_name: str) -> list[str]:
    """The shop's enabled plugins that implement ``hook_name`` (no query when none could)."""
    if not any(pluginmanager.implements(n, hook_name) for n in pluginmanager.plugin_names()):
        return []
    return [n for n in shop_plugins.for_shop(shop_id).enabled()
            if pluginmanager.implements(n, hook_name)]


def status_changed(order, before: str, after: str, actor_role: str, reason: str = "") -> None:
    change = OrderChange(order.number, order.shop_id, before, after, actor_role, reason)
    for name in listeners(order.shop_id, "order_status_changed"):
        pluginmanager.call(name, "order_status_changed", change=change)
