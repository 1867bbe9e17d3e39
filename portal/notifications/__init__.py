"""Notifications: order events told to the buyer and the seller, in the app, by e-mail
and on plugins' channels.

``events`` says who is told what; ``inbox`` stores and lists them (``/notifications``);
``emails`` sends them over SMTP; ``channels`` on the channels plugins bring (SMS);
``preferences`` is who hears of what on which channel, and the signed unsubscribe
links; ``catcher`` is the development SMTP server ``make run`` starts. The consumers hear
of events from the outbox, after the change is committed.
"""

from portal.notifications.channels import CHANNELS
from portal.notifications.emails import EMAIL
from portal.notifications.inbox import INBOX

__all__ = ["CHANNELS", "EMAIL", "INBOX"]
