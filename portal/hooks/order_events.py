"""The shop's plugins as a consumer of the outbox (the ``order_*`` hooks).

Only plugins the order's shop enabled are told, each once per event, after the
change is committed. A plugin that fails or overruns is tried again later with
back-off (``portal.outbox``); one that refuses (``PluginRefusal``) has answered.
"""

from datetime import datetime

from portal import outbox
from portal.hooks import pluginmanager, shop_plugins
from portal.hooks.hooktypes import OrderChange, TrackingStatus, TrackingUpdate

HOOKS = {"status_changed": "order_status_changed", "tracking_updated": "order_tracking_updated"}


def listeners(shop_id: int, hook_name: str) -> list[str]:
    """The shop's enabled plugins that implement ``hook_name`` (no query when none could)."""
    if not any(pluginmanager.implements(n, hook_name) for n in pluginmanager.plugin_names()):
        return []
    return [n for n in shop_plugins.for_shop(shop_id).enabled()
            if pluginmanager.implements(n, hook_name)]


class Undelivered(Exception):
    """A plugin failed or overran: the outbox tries it again later."""


def _targets(event) -> list[str]:
    return listeners(event.shop_id, HOOKS[event.kind]) if event.shop_id else []


def _arguments(event) -> dict:
    data = outbox.payload(event)
    if event.kind == "status_changed":
        return {"change": OrderChange(data["number"], event.shop_id, data["before"],
                                      data["after"], data["actor_role"], data.get("reason", ""),
                                      event_id=event.id)}
    return {"order_number": data["number"], "shop_id": event.shop_id,
            "tracking_number": data["tracking_number"], "status": TrackingStatus(data["status"]),
            "updates": [TrackingUpdate(datetime.fromisoformat(u["occurred_at"]),
                                       TrackingStatus(u["status"]), u["description"],
                                       u["location"], u["external_id"]) for u in data["updates"]],
            "event_id": event.id}


def _deliver(event, plugin_name: str) -> None:
    outcome = pluginmanager.call(plugin_name, HOOKS[event.kind], **_arguments(event))
    if outcome.error:
        raise Undelivered(f"{plugin_name}: {outcome.error}")


PLUGINS = outbox.Consumer("plugin", frozenset(HOOKS), _targets, _deliver)
