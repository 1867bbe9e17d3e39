"""An example notification channel plugin: text messages through an HTTP SMS gateway.

Each shop that enables it sets its gateway's URL (and a sender name); the plugin posts
``{"to": ..., "from": ..., "text": ...}`` as JSON there. A gateway that answers 4xx
refused the number for good (``PluginRefusal``: not tried again); anything else that
fails raises, and the portal tries again later. ``tests/test_notification_channels.py``
runs it against a real local HTTP server.
"""

import json
import urllib.error
import urllib.request

from wtforms import Form, StringField, URLField
from wtforms.validators import URL, DataRequired, Length

from portal import hookimpl
from portal.hooktypes import NotificationChannel, PluginInfo, PluginRefusal

GATEWAY_TIMEOUT = 5  # seconds; the portal's own time budget may be shorter


class SmsSettings(Form):
    gateway_url = URLField("Gateway URL", validators=[DataRequired(), URL(require_tld=False)])
    sender = StringField("Sender name", default="Shop", validators=[Length(max=11)])


@hookimpl
def plugin_info(plugin_name):
    return PluginInfo(name="Text messages", description="Order news by SMS, for buyers who "
                                                        "turn it on.")


@hookimpl
def plugin_settings_form(plugin_name):
    return SmsSettings


@hookimpl
def notification_channels():
    return [NotificationChannel(code="sms", name="Text message", needs="phone",
                                description="To your phone number; standard rates apply.")]


def sms_text(message) -> str:
    """What the phone shows: the shop, what happened, the order's link."""
    return f"{message.shop_name}: {message.text} {message.url}"


@hookimpl
def notification_send(channel_code, message, settings):
    if channel_code != "sms":
        return None
    body = json.dumps({"to": message.recipient_phone, "from": settings.get("sender") or "Shop",
                       "text": sms_text(message), "id": f"{message.event_id}:{message.kind}"})
    request = urllib.request.Request(settings["gateway_url"], data=body.encode(),
                                     headers={"Content-Type": "application/json"},
                                     method="POST")
    try:
        with urllib.request.urlopen(request, timeout=GATEWAY_TIMEOUT) as answer:
            answer.read()
    except urllib.error.HTTPError as exc:
        if 400 <= exc.code < 500:
            raise PluginRefusal(f"The SMS gateway refused the message ({exc.code}).") from exc
        raise  # the gateway is down or busy: the portal tries again later
    return True
