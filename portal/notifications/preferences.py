"""Who hears of what on which channel, per kind, and the signed links that turn e-mail off.

In the app, every kind is always on. E-mail is on until the user turns a kind off; a
plugin's channel (text messages) is off until the user turns a kind on, as an SMS
opt-in works. Either choice is a ``notification_preference`` row (user, channel, kind);
a seller's e-mail also follows the shop's "notification e-mails" setting. The
unsubscribe link carries the user and the kind, signed with the app's secret: it
works without logging in, forever, and for nothing else.
"""

from itsdangerous import BadSignature, URLSafeSerializer

from portal.models import NotificationPreference, utcnow
from portal.notifications.events import KINDS, Notice

EMAIL = "email"
INBOX = "inbox"  # in the app: always on, never stored
_SALT = "portal.notifications.unsubscribe"


def email_on(notice: Notice) -> bool:
    """Whether ``notice`` goes out by e-mail to its user."""
    if notice.to_seller and not notice.shop_emails:
        return False
    off = (NotificationPreference.select(NotificationPreference.id)
           .where((NotificationPreference.user == notice.user_id)
                  & (NotificationPreference.channel == EMAIL)
                  & (NotificationPreference.kind == notice.kind)
                  & ~NotificationPreference.enabled).exists())
    return not off


def set_email(user_id: int, kind: str, enabled: bool) -> None:
    """Turn e-mail of one kind on or off for the user (an upsert: once per user and kind)."""
    (NotificationPreference
     .insert(user=user_id, kind=kind, channel=EMAIL, enabled=enabled, updated_at=utcnow())
     .on_conflict(conflict_target=[NotificationPreference.user, NotificationPreference.channel,
                                   NotificationPreference.kind],
                  update={NotificationPreference.enabled: enabled,
                          NotificationPreference.updated_at: utcnow()})
     .execute())


def on_by_default(channel: str) -> bool:
    """E-mail is on until turned off; a plugin's channel is off until turned on."""
    return channel == EMAIL


def choices(user_id: int) -> dict[tuple[str, str], bool]:
    """The user's stored choices, (channel, kind) -> on, in one query; a pair not in it
    keeps its channel's default (:func:`is_on`)."""
    rows = (NotificationPreference
            .select(NotificationPreference.channel, NotificationPreference.kind,
                    NotificationPreference.enabled)
            .where(NotificationPreference.user == user_id).tuples())
    return {(channel, kind): bool(enabled) for channel, kind, enabled in rows}


def is_on(stored: dict[tuple[str, str], bool], channel: str, kind: str) -> bool:
    """Whether ``kind`` goes out on ``channel``, given the user's :func:`choices`."""
    if channel == INBOX:
        return True
    return stored.get((channel, kind), on_by_default(channel))


def opted_in(user_ids, channels) -> set[tuple[int, str, str]]:
    """(user, channel, kind) of the users who turned a kind on for one of ``channels``
    (plugin channels, off by default), in one query."""
    user_ids, channels = list(set(user_ids)), list(set(channels))
    if not user_ids or not channels:
        return set()
    rows = (NotificationPreference
            .select(NotificationPreference.user, NotificationPreference.channel,
                    NotificationPreference.kind)
            .where(NotificationPreference.user.in_(user_ids)
                   & NotificationPreference.channel.in_(channels)
                   & NotificationPreference.enabled).tuples())
    return {(user, channel, kind) for user, channel, kind in rows}


def save(user_id: int, wanted: dict[tuple[str, str], bool]) -> None:
    """Store the user's choices, (channel, kind) -> on: one row each, replaced when the
    pair has one (an upsert), all in one statement."""
    if not wanted:
        return
    now = utcnow()
    rows = [{"user": user_id, "channel": channel, "kind": kind, "enabled": on, "updated_at": now}
            for (channel, kind), on in sorted(wanted.items())]
    (NotificationPreference.insert_many(rows)
     .on_conflict(conflict_target=[NotificationPreference.user, NotificationPreference.channel,
                                   NotificationPreference.kind],
                  preserve=[NotificationPreference.enabled, NotificationPreference.updated_at])
     .execute())


def unsubscribe_token(secret: str, user_id: int, kind: str) -> str:
    return URLSafeSerializer(secret, salt=_SALT).dumps([user_id, kind])


def read_token(secret: str, token: str) -> tuple[int, str] | None:
    """The (user id, kind) a token was signed for, or None for anything else."""
    try:
        data = URLSafeSerializer(secret, salt=_SALT).loads(token)
    except (BadSignature, UnicodeError, ValueError):
        return None
    if (not isinstance(data, list) or len(data) != 2 or not isinstance(data[0], int)
            or isinstance(data[0], bool) or data[1] not in KINDS):
        return None
    return data[0], data[1]
