"""Notifications in the app: written from the outbox, listed, marked read.

The consumer :data:`INBOX` turns each order event into its notices
(:mod:`portal.notifications.events`) and stores them once: the outbox delivers at
least once, and the unique (user, event) index keeps a second delivery from
writing a second row. Every read and write here is limited to one user's own rows.
"""

from flask import current_app
from peewee import SQL, Select, fn

from portal import outbox
from portal.models import Notification, utcnow
from portal.notifications.events import EVENT_KINDS, Notice, notices

BADGE_CAP = 99  # the nav says "99+" beyond it: counting further costs without telling more


def order_path(notice: Notice) -> str:
    """The page of the notice's order for its reader (the buyer's or the seller's)."""
    endpoint = "seller.order" if notice.to_seller else "buyer.order_detail"
    return current_app.url_map.bind("localhost").build(endpoint, {"number": notice.number})


def _targets(event) -> list[str]:
    return ["inbox"] if notices(event) else []  # an event that tells no one is not recorded


def _deliver(event, target: str) -> None:
    rows = [{"user": n.user_id, "order": n.order_id, "event_id": event.id, "kind": n.kind,
             "text": n.text, "url": order_path(n), "created_at": event.created_at}
            for n in notices(event)]
    if rows:  # a second delivery of the same event changes nothing
        Notification.insert_many(rows).on_conflict_ignore().execute()


INBOX = outbox.Consumer("notifications", EVENT_KINDS, _targets, _deliver)


def unread_count(user_id: int) -> int:
    """How many of the user's notifications are unread, counted up to ``BADGE_CAP + 1``."""
    return unread_query(user_id).bind(Notification._meta.database).scalar()


def unread_query(user_id: int) -> Select:
    """:func:`unread_count` as a query not yet run (one value), for a page to ask it
    together with others in one statement."""
    unread = (Notification.select(Notification.id)
              .where((Notification.user == user_id) & Notification.read_at.is_null())
              .limit(BADGE_CAP + 1))
    return Select(from_list=[unread.alias("unread")], columns=[fn.COUNT(SQL("*"))])


def page(user_id: int, *, unread_only: bool = False, before: int | None = None,
         size: int = 20) -> tuple[list[Notification], int | None]:
    """The user's notifications, newest first, ``size`` of them older than ``before``
    (an id: keyset pages cost the same at any depth); and the cursor of the next page."""
    query = Notification.select().where(Notification.user == user_id)
    if unread_only:
        query = query.where(Notification.read_at.is_null())
    if before is not None:
        query = query.where(Notification.id < before)
    rows = list(query.order_by(Notification.id.desc()).limit(size + 1))
    more = len(rows) > size
    rows = rows[:size]
    return rows, (rows[-1].id if more else None)


def mark_read(user_id: int, notification_id: int) -> Notification | None:
    """Mark one of the user's notifications read; None if it is not theirs (or none)."""
    (Notification.update(read_at=utcnow())
     .where((Notification.id == notification_id) & (Notification.user == user_id)
            & Notification.read_at.is_null()).execute())
    return Notification.get_or_none((Notification.id == notification_id)
                                    & (Notification.user == user_id))


def mark_all_read(user_id: int, *, up_to: int | None = None) -> int:
    """Mark the user's unread notifications read, those up to id ``up_to`` when given
    (the newest the page showed: one that arrived since stays unread). Returns how many."""
    query = Notification.update(read_at=utcnow()).where(
        (Notification.user == user_id) & Notification.read_at.is_null())
    if up_to is not None:
        query = query.where(Notification.id <= up_to)
    return query.execute()
