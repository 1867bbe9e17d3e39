"""Who keeps e-mail on, per kind, and the signed links that turn a kind off.

Every kind is on until the user turns it off (a ``notification_preference`` row);
a seller's e-mail also follows the shop's "notification e-mails" setting. The
unsubscribe link carries the user and the kind, signed with the app's secret: it
works without logging in, forever, and for nothing else.
"""

from itsdangerous import BadSignature, URLSafeSerializer

from portal.models import NotificationPreference, utcnow
from portal.notifications.events import KINDS, Notice

EMAIL = "email"
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
