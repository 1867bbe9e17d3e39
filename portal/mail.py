"""E-mail about the account (reset links, address confirmations): one function.

With ``PORTAL_SMTP_URL`` set, :func:`send` hands the message to the background worker
(the ``send_mail`` Huey task), which sends it over SMTP through
:func:`portal.notifications.emails.send` and retries with back-off while the server
is down: the request that asked for it never waits for the mail server. Without
it, the whole message goes to the log (logger ``portal.mail``, level INFO), so a
developer can follow a link from the terminal, and tests read it there.
"""

import logging
from email.message import EmailMessage

from flask import current_app

log = logging.getLogger("portal.mail")


def show_in_terminal() -> None:
    """Make the messages visible where the app runs (stderr) when nothing else shows them:
    ``flask run`` sets up no logging, and INFO would be dropped. The worker's logging
    and pytest's capture already show them; then this does nothing."""
    if not log.hasHandlers():
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("-- e-mail (portal.mail) --\n%(message)s\n--"))
        log.addHandler(handler)
    if log.getEffectiveLevel() > logging.INFO:
        log.setLevel(logging.INFO)


def send(to: str, subject: str, text: str) -> None:
    """Send a plain-text message to ``to``: over SMTP from the worker when configured,
    else written to the ``portal.mail`` log."""
    if not current_app.config.get("SMTP_URL"):
        log.info("To: %s\nSubject: %s\n\n%s", to, subject, text)
        return
    try:
        current_app.extensions["portal.tasks"]["send_mail"](to, subject, text)
    except Exception:  # the queue is down: say so; the user can ask for the link again
        log.exception("could not queue the e-mail %r to %s", subject, to)


def message(to: str, subject: str, text: str, *, sender: str) -> EmailMessage:
    """The plain-text message :func:`send` sends."""
    mail = EmailMessage()
    mail["To"], mail["From"], mail["Subject"] = to, sender, subject
    mail.set_content(text)
    return mail
