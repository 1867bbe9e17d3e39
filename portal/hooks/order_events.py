"""The shop's plugins as a consumer of the outbox (the ``order_*`` hooks).

Only plugins the order's shop enabled are told, each once per event, after the
change is committed. A plugin that fails or overruns is tried again later with
back-off (``portal.outbox``); one that refuses (``PluginRefusal``) has answered.
"""

from datetime import datetime

from portal import outbox
from portal.hooks import pluginmanager, shop_plugins
from portal.hooks.hooktypes import OrderChange, PlacedOrder, TrackingStatus, TrackingUpdate
from portal.models import Order
from portal.orders import placing

HOOKS = {"placed": "order_placed", "status_changed": "order_status_changed",
         "tracking_updated": "order_tracking_updated"}


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


def placed_order(event) -> PlacedOrder:
    """The order as its "placed" event carries it (``placing.placed_details``); an event
    written without its figures (an order the demo made) is told from the order's row."""
    data = outbox.payload(event)
    if "total" not in data:
        data = {**data, **placing.placed_details(Order.get_by_id(event.order_id))}
    return PlacedOrder(
        number=data["number"], shop_id=event.shop_id, currency=data["currency"],
        total=data["total"], item_count=data["item_count"], item_summary=data["item_summary"],
        subtotal=data["subtotal"], discount_total=data["discount_total"],
        shipping_total=data["shipping_total"], fee_total=data["fee_total"],
        payment_method=data["payment_method"],
        placed_at=datetime.fromisoformat(data["placed_at"]))


def _arguments(event) -> dict:
    if event.kind == "placed":
        return {"order": placed_order(event), "event_id": event.id}
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
