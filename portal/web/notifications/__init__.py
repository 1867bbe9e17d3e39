"""``/notifications``: what the portal told the logged-in user, newest first.

Each notification leads to its order (following it marks it read); one or all
can be marked read (plain forms, 303; htmx swaps the list in place). Only one's
own notifications, ever: anyone else's id is a 404. The unsubscribe link of an
e-mail (``/notifications/unsubscribe/<token>``) needs no log-in: its signature
names the user and the kind it turns off.
"""

from flask import (Blueprint, abort, current_app, flash, g, redirect, render_template, request,
                   url_for)
from flask_login import current_user, login_required

from portal.models import User
from portal.notifications import inbox, preferences
from portal.notifications.events import KINDS
from portal.web.forms import parse_int
from portal.web.render import page_or_fragment, wants_fragment

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

MAX_ID = 2**31 - 1


@bp.app_context_processor
def _badge():
    def unread_notifications() -> int:
        """The nav's badge: one query, made only by a page that draws the nav."""
        if not current_user.is_authenticated:
            return 0
        if "_unread_notifications" not in g:
            g._unread_notifications = inbox.unread_count(current_user.id)
        return g._unread_notifications
    return {"unread_notifications": unread_notifications, "badge_cap": inbox.BADGE_CAP}


def _cursor(name: str) -> int | None:
    raw = request.values.get(name)
    if raw is None or raw == "":
        return None
    value = parse_int(raw, maximum=MAX_ID)
    if value is None:
        abort(400, description="That page link is not valid. Start again from the first page.")
    return value


def _list_context() -> dict:
    unread_only = request.args.get("show") == "unread"
    before = _cursor("before")
    rows, next_before = inbox.page(current_user.id, unread_only=unread_only, before=before,
                                   size=current_app.config["PAGE_SIZE"])
    # "Mark all read" marks up to the newest one shown on the first page, so one arriving
    # while the page is open stays unread (on later pages: all of them).
    newest = rows[0].id if rows and before is None else None
    return {"rows": rows, "next_before": next_before, "unread_only": unread_only,
            "kinds": KINDS, "newest": newest}


def _badge_oob() -> str:
    return render_template("notifications/_badge.html", oob=True)


@bp.get("")
@login_required
def index():
    return page_or_fragment("notifications/index.html", "notifications/_list.html",
                            **_list_context())


@bp.get("/<int:notification_id>")
@login_required
def open_one(notification_id: int):
    """Follow a notification to its order (it is read now)."""
    row = inbox.mark_read(current_user.id, notification_id) if notification_id <= MAX_ID \
        else None
    if row is None:
        abort(404)
    return redirect(row.url if row.url.startswith("/") and not row.url.startswith("//")
                    else url_for(".index"), code=303)


@bp.post("/<int:notification_id>/read")
@login_required
def read_one(notification_id: int):
    row = inbox.mark_read(current_user.id, notification_id) if notification_id <= MAX_ID \
        else None
    if row is None:
        abort(404)
    if wants_fragment():  # the row, and the nav's badge counted again
        return render_template("notifications/_row.html", row=row, kinds=KINDS) + _badge_oob()
    return redirect(url_for(".index"), code=303)


@bp.post("/read")
@login_required
def read_all():
    """Mark read every notification up to the newest the page showed (``up_to``)."""
    count = inbox.mark_all_read(current_user.id, up_to=_cursor("up_to"))
    if wants_fragment():
        return render_template("notifications/_list.html", **_list_context()) + _badge_oob()
    flash(f"{count} notification{'s' if count != 1 else ''} marked read.", "info")
    return redirect(url_for(".index"), code=303)


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    """An e-mail's unsubscribe link: a page that asks, then turns that kind of e-mail off."""
    found = preferences.read_token(current_app.config["SECRET_KEY"], token)
    if found is None:
        abort(404, description="This unsubscribe link is not valid (perhaps cut short). "
                               "Use the whole link from the e-mail.")
    user_id, kind = found
    if User.get_or_none(User.id == user_id) is None:
        abort(404, description="This unsubscribe link is for an account that no longer exists.")
    if request.method == "POST":
        on = request.form.get("resubscribe") == "1"
        preferences.set_email(user_id, kind, on)
        return redirect(url_for(".unsubscribe", token=token, done="on" if on else "off"), 303)
    return render_template("notifications/unsubscribe.html", token=token, kind_label=KINDS[kind],
                           done=request.args.get("done"))
