"""The order conversation's page parts, for both sides: the form, the thread fragment
(``_messages.html``), posting (htmx: the fragment in place; plain: 303 to the order's
``#messages``), the nav badge, and links made clickable in message text.

The buyer's and the seller's views (``web/buyer/messages.py``, ``web/seller/messages.py``)
find the order their way (a 404 for anyone else's) and hand it here.
"""

import re
from typing import NamedTuple

from flask import g, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from peewee import Select
from wtforms import TextAreaField

from portal.db import prepared
from portal.notifications import inbox
from portal.orders import messages
from portal.orders.errors import MessageRefused
from portal.web.render import wants_fragment

# http(s) only: a javascript: or data: "link" stays text. Trailing punctuation is the
# sentence's, not the link's ("see https://example.com.").
_LINK = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""


class MessageForm(FlaskForm):
    """One message; the domain says what it may be (1-2,000 characters)."""

    body = TextAreaField("Your message", render_kw={"rows": 3,
                                                    "maxlength": messages.MAX_LENGTH})


def linkify(text: str) -> Markup:
    """``text`` escaped, its http and https links clickable (nofollow, noopener)."""
    parts, last = [], 0
    for match in _LINK.finditer(text or ""):
        url = match.group(0).rstrip(_TRAILING)
        if len(url) <= len("https://"):
            continue
        parts.append(escape(text[last:match.start()]))
        parts.append(Markup('<a href="{0}" rel="nofollow noopener" target="_blank">{0}</a>')
                     .format(url))
        last = match.start() + len(url)
    parts.append(escape((text or "")[last:]))
    return Markup("").join(parts)


_CONTACT = re.compile(r"message the shop", re.IGNORECASE)


def contact_link(text: str) -> Markup:
    """``text`` escaped; on a buyer's order page, where it tells the buyer to "message the
    shop", those words link to the order's messages."""
    number = (request.view_args or {}).get("number")
    if request.blueprint != "buyer" or not isinstance(number, str):
        return escape(text)
    href = url_for("buyer.order_detail", number=number, _anchor="messages")
    return Markup(_CONTACT.sub(
        lambda m: str(Markup('<a href="{}">{}</a>').format(href, m.group(0))), str(escape(text))))


def nav_unread() -> int:
    """Unread messages for the signed-in person's nav badge. The same statement counts
    the unread notifications, which the nav's other badge reads next (from ``g``): one
    query for both."""
    if not current_user.is_authenticated:
        return 0
    badges = _seller_badges if current_user.is_seller else _buyer_badges
    unread, g._unread_notifications = next(iter(badges(current_user.id)))
    return unread or 0


class _Reader(NamedTuple):  # who a badge counts for, as messages.unread_query asks
    id: int
    is_seller: bool


def _badges(user_id, is_seller: bool) -> Select:
    return Select(columns=[messages.unread_query(_Reader(user_id, is_seller)),
                           inbox.unread_query(user_id)]).tuples()


_buyer_badges = prepared(lambda user_id: _badges(user_id, False))
_seller_badges = prepared(lambda user_id: _badges(user_id, True))


def init_app(app) -> None:
    app.add_template_filter(linkify)
    app.add_template_filter(contact_link)
    # Lazy: a page that draws no nav (a fragment) spends no query on it.
    app.jinja_env.globals.update(nav_unread=nav_unread)


def thread_context(order, *, shop=None, post_url: str, form=None) -> dict:
    """What ``_messages.html`` draws: the thread (read now by the reader's side), the
    form, where it posts."""
    messages.mark_read(order, current_user, shop=shop)
    return {"thread": messages.thread(order, current_user, shop=shop),
            "message_form": form or MessageForm(formdata=None), "post_url": post_url,
            "me": messages.role_of(order, current_user, shop), "order": order,
            # The seller's pages hold the shop already; the buyer's order comes with it.
            "shop_name": shop.name if shop is not None else order.shop.name}


def fragment(order, *, shop=None, post_url: str, form=None, status: int = 200):
    """``_messages.html`` alone (the answer to htmx; the same URL redirects a browser)."""
    response = make_response(render_template("_messages.html", **thread_context(
        order, shop=shop, post_url=post_url, form=form)), status)
    response.vary.add("HX-Request")
    return response


def post(order, *, shop=None, post_url: str, back_url: str, render_page):
    """Post the form's message as the signed-in person. htmx gets the thread back in
    place (a refusal: 422 with the text kept); a plain form a 303 to ``back_url``, or the
    order page (``render_page(status=..., message_form=form)``) with the reason."""
    form = MessageForm()
    try:
        if not form.validate_on_submit():  # the CSRF token, missing or stale
            raise MessageRefused("form.csrf", "The form expired; send the message again.")
        messages.post(order, current_user, form.body.data, shop=shop)
    except MessageRefused as exc:
        form.body.errors = [exc.message]
        if wants_fragment():
            return fragment(order, shop=shop, post_url=post_url, form=form, status=422)
        return render_page(status=422, message_form=form)
    if wants_fragment():
        return fragment(order, shop=shop, post_url=post_url)
    return redirect(back_url, code=303)
