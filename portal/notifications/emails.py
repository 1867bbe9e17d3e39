"""Notifications by e-mail: one outbox target per recipient, sent over SMTP.

:data:`EMAIL` is an outbox consumer of its own, so each recipient of an event is a
target (``email:<user id>``) that the outbox delivers once, after the change is
committed, from the background worker's ``deliver_outbox`` task. A refused or
unreachable SMTP server is an exception there: the order change is long
committed, the other targets are unaffected, and the outbox tries this one again
with back-off; ``flask --app portal outbox`` shows what is failing and why.

``PORTAL_SMTP_URL`` (``smtp://host:port``, ``smtps://user:password@host:port``)
says where mail goes; unset, each e-mail is written to the log instead.
"""

import logging
import smtplib
import time
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from urllib.parse import unquote, urlsplit

from flask import current_app

from portal import outbox
from portal.models import User
from portal.notifications import preferences
from portal.notifications.events import EVENT_KINDS, KINDS, Notice, notices
from portal.notifications.inbox import order_path

log = logging.getLogger("portal.notifications.email")

SMTP_TIMEOUT = 10  # seconds: a hung server fails this target, the worker moves on
# After a server could not be reached, the next e-mails fail at once for this long (and
# are retried by the outbox) instead of each waiting its SMTP_TIMEOUT: a dead server
# must not hold up the worker's other deliveries for minutes.
UNREACHABLE_REST = 30.0


class MailServerResting(Exception):
    """The SMTP server was unreachable moments ago: not asked again yet."""


def _targets(event) -> list[str]:
    return [f"email:{n.user_id}" for n in notices(event) if preferences.email_on(n)]


def _deliver(event, target: str) -> None:
    user_id = int(target.removeprefix("email:"))
    notice = next((n for n in notices(event) if n.user_id == user_id), None)
    if notice is None or not preferences.email_on(notice):
        return  # turned off since: nothing to send
    user = User.get_or_none(User.id == user_id)
    if user is None:
        return
    send(compose(notice, user, event_id=event.id))


EMAIL = outbox.Consumer("email", EVENT_KINDS, _targets, _deliver)


def _absolute(path: str) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + path


def unsubscribe_url(user_id: int, kind: str) -> str:
    token = preferences.unsubscribe_token(current_app.config["SECRET_KEY"], user_id, kind)
    return _absolute(current_app.url_map.bind("localhost").build(
        "notifications.unsubscribe", {"token": token}))


def compose(notice: Notice, user: User, *, event_id: int) -> EmailMessage:
    """The e-mail of one notice: plain text and HTML, from the shop's name, with the
    order's link and a link that turns this kind of e-mail off (``List-Unsubscribe``)."""
    config = current_app.config
    context = {"notice": notice, "user": user, "kind_label": KINDS[notice.kind],
               "order_url": _absolute(order_path(notice)),
               "unsubscribe_url": unsubscribe_url(user.id, notice.kind)}
    env = current_app.jinja_env  # not render_template: no request, no context processors
    message = EmailMessage()
    message["Subject"] = f"{KINDS[notice.kind]}: order {notice.number}"
    message["From"] = formataddr((notice.shop_name or "Order portal", config["MAIL_FROM"]))
    message["To"] = formataddr((user.name, user.email))
    message["Message-ID"] = make_msgid(f"n{event_id}.u{user.id}",
                                       domain=config["MAIL_FROM"].rpartition("@")[2] or None)
    message["List-Unsubscribe"] = f"<{context['unsubscribe_url']}>"
    message.set_content(env.get_template("notifications/email.txt").render(context))
    message.add_alternative(env.get_template("notifications/email.html").render(context),
                            subtype="html")
    return message


def send(message: EmailMessage) -> None:
    """Hand ``message`` to the SMTP server of ``PORTAL_SMTP_URL`` (raises if it fails),
    or to the log when none is set."""
    url = current_app.config.get("SMTP_URL") or ""
    if not url:
        log.info("e-mail (PORTAL_SMTP_URL is not set, so it goes here):\n%s", message)
        return
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("PORTAL_SMTP_URL must be smtp://host:port or smtps://user:password@"
                         "host:port")
    resting = current_app.extensions.setdefault("portal.smtp_resting", {})
    if resting.get(url, 0) > time.monotonic():
        raise MailServerResting(f"the mail server {parts.hostname}:{parts.port} was "
                                "unreachable moments ago; tried again later")
    try:
        _send(message, parts)
    except smtplib.SMTPException:
        raise  # the server answered (e.g. "try again later"): it is there
    except OSError:  # refused, timed out, no such host
        resting[url] = time.monotonic() + UNREACHABLE_REST
        raise


def _send(message: EmailMessage, parts) -> None:
    secure = parts.scheme == "smtps"
    connect = smtplib.SMTP_SSL if secure else smtplib.SMTP
    with connect(parts.hostname, parts.port or (465 if secure else 25),
                 timeout=SMTP_TIMEOUT) as smtp:
        if parts.username:
            if not secure:
                smtp.starttls()
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(message)
