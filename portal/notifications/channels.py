"""Notifications on the channels plugins bring (text messages, a chat app).

A plugin names its channels (hook ``notification_channels``) and sends on them
(``notification_send``). :data:`CHANNELS` is an outbox consumer of its own: each
channel and recipient of an event is a target (``<plugin>:<code>:<user id>``) that
the outbox delivers once, after the change is committed. A plugin that raises or
overruns its time budget fails only its target, which is tried again with back-off
(``flask --app portal outbox`` shows it); e-mail, the in-app notifications and the
other channels are told regardless.

Who is told on a channel: the plugin is enabled (and configured) by the order's
shop, the recipient turned the channel on for the notice's kind (off by default,
``preferences``), and has what the channel ``needs`` (a phone number).
"""

import logging
from dataclasses import dataclass

from flask import current_app

from portal import outbox
from portal.hooks import pluginmanager, shop_plugins
from portal.hooks.hooktypes import NotificationChannel, NotificationMessage
from portal.models import PluginConfig, User
from portal.notifications import preferences
from portal.notifications.events import EVENT_KINDS, KINDS, notices
from portal.notifications.inbox import order_path

log = logging.getLogger("portal.notifications.channels")

RESERVED = frozenset({preferences.EMAIL, preferences.INBOX})
MAX_CODE = 20  # notification_preference.channel


@dataclass(frozen=True)
class Channel:
    """A plugin's channel, with the plugin that sends on it."""

    plugin: str
    code: str
    name: str
    description: str = ""
    needs: str = ""


class ChannelFailed(Exception):
    """A channel plugin failed or overran: the outbox tries this target again later."""


def _said(plugin_name: str) -> tuple[NotificationChannel, ...] | None:
    """What the plugin's ``notification_channels`` answered (kept with the app's plugins),
    or None when it failed (asked again next time)."""
    cache = pluginmanager.current().cache.setdefault("channels", {})
    if plugin_name not in cache:
        outcome = pluginmanager.call(plugin_name, "notification_channels")
        if not outcome.ok:
            return None
        cache[plugin_name] = tuple(c for c in outcome.value or ()
                                   if isinstance(c, NotificationChannel))
    return cache[plugin_name]


def installed() -> list[Channel]:
    """Every channel of the registered plugins, in registration order; a code that is
    the portal's own, too long, or brought by an earlier plugin is left out (logged)."""
    found, seen = [], set(RESERVED)
    for name in pluginmanager.plugin_names():
        if not pluginmanager.implements(name, "notification_channels"):
            continue
        for c in _said(name) or ():
            if not isinstance(c.code, str) or not c.code or len(c.code) > MAX_CODE \
                    or c.code in seen:
                log.warning("plugin %s: channel code %r is taken, reserved or not 1-%s "
                            "characters; it is left out", name, c.code, MAX_CODE)
                continue
            seen.add(c.code)
            found.append(Channel(name, c.code, str(c.name or c.code), str(c.description or ""),
                                 str(c.needs or "")))
    return found


def offered() -> list[Channel]:
    """The channels some shop enabled: the columns of everyone's preferences (one query,
    none when no plugin brings a channel)."""
    channels = installed()
    if not channels:
        return []
    enabled = {name for (name,) in PluginConfig.select(PluginConfig.plugin).distinct()
               .where(PluginConfig.plugin.in_({c.plugin for c in channels})
                      & PluginConfig.enabled).tuples()}
    return [c for c in channels if c.plugin in enabled]


def _reachable(channel: Channel, user: User | None) -> bool:
    return user is not None and (channel.needs != "phone" or bool(user.phone)) \
        and (channel.needs != "email" or bool(user.email))


def _live(shop_id: int) -> tuple[list[Channel], shop_plugins.ShopPlugins | None]:
    """The channels of the plugins the shop enabled and configured."""
    channels = installed()
    if not channels:
        return [], None  # no plugin brings a channel: no query
    setup = shop_plugins.for_shop(shop_id)
    return [c for c in channels if setup.is_enabled(c.plugin) and setup.is_configured(c.plugin)
            ], setup


def _targets(event) -> list[str]:
    told = notices(event)
    if not told:
        return []
    channels, _ = _live(told[0].shop_id)
    if not channels:
        return []
    on = preferences.opted_in([n.user_id for n in told], [c.code for c in channels])
    wanted = [(n, c) for n in told for c in channels if (n.user_id, c.code, n.kind) in on]
    if not wanted:
        return []
    users = {u.id: u for u in User.select(User.id, User.email, User.phone)
             .where(User.id.in_({n.user_id for n, _ in wanted}))}
    return [f"{c.plugin}:{c.code}:{n.user_id}" for n, c in wanted
            if _reachable(c, users.get(n.user_id))]


def message(notice, user: User, event_id: int | None = None) -> NotificationMessage:
    """What a channel plugin is given of one notice to one user."""
    base = current_app.config["BASE_URL"].rstrip("/")
    return NotificationMessage(
        kind=notice.kind, title=KINDS.get(notice.kind, notice.kind), text=notice.text,
        url=base + order_path(notice), order_number=notice.number, shop_name=notice.shop_name,
        recipient_name=user.name, recipient_email=user.email, recipient_phone=user.phone or "",
        link=notice.link, to_seller=notice.to_seller, event_id=event_id)


def _deliver(event, target: str) -> None:
    plugin, code, user_id = target.rsplit(":", 2)
    notice = next((n for n in notices(event) if n.user_id == int(user_id)), None)
    if notice is None:
        return
    channels, setup = _live(notice.shop_id)
    channel = next((c for c in channels if c.plugin == plugin and c.code == code), None)
    if channel is None:
        return  # the shop turned the plugin off since (or it is gone): nothing to send
    if (int(user_id), code, notice.kind) not in preferences.opted_in([int(user_id)], [code]):
        return  # turned off since
    user = User.get_or_none(User.id == int(user_id))
    if not _reachable(channel, user):
        return
    outcome = pluginmanager.call(plugin, "notification_send", channel_code=code,
                                 message=message(notice, user, event.id),
                                 settings=setup.settings(plugin))
    if outcome.error:
        raise ChannelFailed(f"{plugin}: {outcome.error}")
    if outcome.refused:
        log.warning("plugin %s refused to send event %s on %s to user %s: %s", plugin,
                    event.id, code, user_id, outcome.refused)


CHANNELS = outbox.Consumer("channel", EVENT_KINDS, _targets, _deliver)
