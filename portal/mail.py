"""E-mail: the one function the portal sends mail through.

There is no SMTP yet: until the notifications work brings it, :func:`send` writes
the whole message to the log (logger ``portal.mail``, level INFO), so a developer
running ``make run`` can follow a password-reset link from the terminal, and tests
read the messages from the log.
"""

import logging

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
    """Send a plain-text message to ``to`` (today: written to the ``portal.mail`` log)."""
    log.info("To: %s\nSubject: %s\n\n%s", to, subject, text)
