"""E-mail: the one function the portal sends mail through.

There is no SMTP yet: until the notifications work brings it, :func:`send` writes
the whole message to the log (logger ``portal.mail``, level INFO), so a developer
running ``make run`` can follow a password-reset link from the terminal, and tests
read the messages from the log.
"""

import logging

log = logging.getLogger("portal.mail")


def send(to: str, subject: str, text: str) -> None:
    """Send a plain-text message to ``to`` (today: written to the ``portal.mail`` log)."""
    log.info("To: %s\nSubject: %s\n\n%s", to, subject, text)
