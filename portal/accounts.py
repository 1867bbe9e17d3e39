"""Accounts: revocable sessions and the per-account login throttle.

A session (and a "keep me logged in" cookie) names the user *and* the user's
current session token. Log-out and a password change replace the token, so
every session of that user ends, on every device and in every copied cookie.

The throttle counts wrong passwords per e-mail address in the database, so it
holds across gunicorn workers and machines; the per-address limit in
``portal.web.auth`` stops one client from trying many accounts.

A new password (changed, or set through a reset link) and a new e-mail address
(confirmed through a link sent to it) are written here; the links themselves are
``portal.account_links``.
"""

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from peewee import IntegrityError

from portal import account_links
from portal.db import database, prepared
from portal.models import LoginFailure, User, utcnow

# Ten wrong passwords for one e-mail address in fifteen minutes lock it for the
# rest of those fifteen minutes: enough for a person who forgot which password,
# far too few for guessing.
MAX_FAILURES = 10
FAILURE_WINDOW = timedelta(minutes=15)


def user_for_session(session_id: str) -> User | None:
    """The user a session or remember cookie names, if its token is still current."""
    user_id, _, token = session_id.partition(":")
    if not (user_id.isascii() and user_id.isdigit() and token):
        return None  # a cookie from before tokens, or a forged one
    user = next(iter(_user(int(user_id))), None)
    if user is None or not user.session_token:
        return None
    return user if hmac.compare_digest(user.session_token, token) else None


@prepared
def _user(user_id):
    return User.select().where(User.id == user_id).limit(1)


def start_session(user: User) -> None:
    """Give ``user`` a session token if they have none yet (their first log-in)."""
    if not user.session_token:
        user.session_token = secrets.token_urlsafe(32)
        User.update(session_token=user.session_token).where(
            (User.id == user.id) & User.session_token.is_null()).execute()
        # Two first log-ins at once: keep the token that was written first.
        user.session_token = User.get_by_id(user.id).session_token


def end_all_sessions(user: User) -> None:
    """Every session and remember cookie of ``user`` stops working (log-out, new password)."""
    user.session_token = secrets.token_urlsafe(32)
    User.update(session_token=user.session_token).where(User.id == user.id).execute()


@dataclass(frozen=True)
class Throttled:
    """Too many wrong passwords for this address: try again in ``retry_after`` seconds."""

    retry_after: int


def throttled(email: str, now=None) -> Throttled | None:
    """Whether log-ins to ``email`` are held back now, and for how long."""
    now = now or utcnow()
    recent = (LoginFailure.select(LoginFailure.failed_at)
              .where((LoginFailure.email == email) & (LoginFailure.failed_at > now - FAILURE_WINDOW))
              .order_by(LoginFailure.failed_at.desc()).limit(MAX_FAILURES))
    times = [row.failed_at for row in recent]
    if len(times) < MAX_FAILURES:
        return None
    oldest = min(times)
    return Throttled(max(1, int((oldest + FAILURE_WINDOW - now).total_seconds()) + 1))


def login_failed(email: str, now=None) -> None:
    now = now or utcnow()
    LoginFailure.create(email=email, failed_at=now)
    # Keep the table small: what is older than the window no longer counts.
    LoginFailure.delete().where((LoginFailure.email == email)
                                & (LoginFailure.failed_at <= now - FAILURE_WINDOW)).execute()


def login_succeeded(email: str) -> None:
    LoginFailure.delete().where(LoginFailure.email == email).execute()


def set_password(user: User, password_hash: str) -> None:
    """Store a new password (already hashed): every session and remember cookie of
    ``user`` ends, and every reset link not used yet stops working."""
    with database.atomic():
        User.update(password_hash=password_hash).where(User.id == user.id).execute()
        user.password_hash = password_hash
        end_all_sessions(user)
        account_links.void(user, account_links.PASSWORD_RESET)
    login_succeeded(user.email)  # the wrong guesses before no longer count


def reset_password(token: str, password_hash: str) -> User | None:
    """Set the password of the reset link's user and use the link up; None when the
    link is unknown, used or expired (nothing changes then)."""
    with database.atomic():
        link = account_links.redeem(token, account_links.PASSWORD_RESET)
        if link is None:
            return None
        user = User.get_by_id(link.user_id)
        set_password(user, password_hash)
    return user


@dataclass(frozen=True)
class EmailChanged:
    """The confirmed change: ``user`` now has ``new_email``; ``old_email`` is told."""

    user: User
    old_email: str
    new_email: str


class EmailTaken(Exception):
    """The new address belongs to another account by now."""


def email_taken(email: str) -> bool:
    return User.select().where(User.email == email).exists()


def confirm_email_change(token: str) -> EmailChanged | None:
    """Give the link's user the address the link was sent to, and use the link up.

    None when the link is unknown, used or expired; :class:`EmailTaken` (the link
    still usable) when another account took the address since it was sent.
    """
    try:
        with database.atomic():
            link = account_links.redeem(token, account_links.EMAIL_CHANGE)
            if link is None:
                return None
            user = User.get_by_id(link.user_id)
            old = user.email
            if email_taken(link.new_email):
                raise EmailTaken(link.new_email)
            User.update(email=link.new_email).where(User.id == user.id).execute()
            # A reset link sent to the old address no longer opens the account.
            account_links.void(user, account_links.PASSWORD_RESET)
    except IntegrityError:  # taken at the same moment by a sign-up
        raise EmailTaken(link.new_email) from None
    user.email = link.new_email
    return EmailChanged(user, old, link.new_email)
