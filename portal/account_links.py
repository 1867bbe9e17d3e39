"""Single-use links e-mailed to a user: a password reset, the confirmation of a new address.

The token travels only in the e-mail; the table keeps its SHA-256, so reading the
database opens no account. A link works once and for an hour: :func:`redeem`
marks it used in the same UPDATE that checks it, so two clicks at the same moment
cannot both pass. A user has one live link per purpose: a new one voids the older.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from portal.db import database
from portal.models import AccountLink, User, utcnow

PASSWORD_RESET = "password_reset"
EMAIL_CHANGE = "email_change"
LIFETIME = timedelta(hours=1)
# Links asked for one address per hour: a person who lost the first mail asks again,
# no one fills another person's mailbox through our form.
MAX_PER_HOUR = 3


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def too_many(user: User, purpose: str, now: datetime | None = None) -> bool:
    """Whether ``user`` was sent :data:`MAX_PER_HOUR` links of this kind in the last hour."""
    now = now or utcnow()
    return (AccountLink.select()
            .where((AccountLink.user == user.id) & (AccountLink.purpose == purpose)
                   & (AccountLink.created_at > now - timedelta(hours=1)))
            .count()) >= MAX_PER_HOUR


def issue(user: User, purpose: str, *, new_email: str = "", now: datetime | None = None) -> str:
    """A new link's token for ``user`` (the older unused ones of this purpose stop working)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    with database.atomic():
        void(user, purpose, now=now)
        AccountLink.create(user=user.id, purpose=purpose, token_hash=_hash(token),
                           new_email=new_email, created_at=now, expires_at=now + LIFETIME)
    return token


def _live(token: str, purpose: str, now: datetime):
    return ((AccountLink.token_hash == _hash(token)) & (AccountLink.purpose == purpose)
            & AccountLink.used_at.is_null() & (AccountLink.expires_at > now))


def peek(token: str, purpose: str, now: datetime | None = None) -> AccountLink | None:
    """The link if it would still work now, without using it (the page that asks to confirm)."""
    return AccountLink.get_or_none(_live(token, purpose, now or utcnow()))


def redeem(token: str, purpose: str, now: datetime | None = None) -> AccountLink | None:
    """Use the link: the link (now used) if it was unused and unexpired, else None.

    Call it inside the transaction of the change the link allows, so a change that
    fails leaves the link usable.
    """
    now = now or utcnow()
    link = peek(token, purpose, now)
    if link is None:
        return None
    taken = (AccountLink.update(used_at=now)
             .where(_live(token, purpose, now) & (AccountLink.id == link.id)).execute())
    if taken != 1:
        return None  # used by another request between the read and the update
    link.used_at = now
    return link


def void(user: User, purpose: str, now: datetime | None = None) -> None:
    """Every unused link of ``user`` for ``purpose`` stops working (a new password, a new link)."""
    (AccountLink.update(used_at=now or utcnow())
     .where((AccountLink.user == user.id) & (AccountLink.purpose == purpose)
            & AccountLink.used_at.is_null()).execute())
