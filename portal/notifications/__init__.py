"""Notifications: order events told to the buyer and the seller, in the app and by e-mail.

``events`` says who is told what; ``inbox`` stores and lists them (``/notifications``);
``emails`` sends them over SMTP; ``preferences`` is who keeps e-mail on, and the signed
unsubscribe links; ``catcher`` is the development SMTP server ``make run`` starts. Both
consumers hear of events from the outbox, after the change is committed.
"""

from portal.notifications.emails import EMAIL
from portal.notifications.inbox import INBOX

__all__ = ["EMAIL", "INBOX"]
