"""``/account``'s notification preferences (kinds x channels) and the phone number that
channels such as SMS need.

In the app every kind is always on; e-mail is on until turned off (an e-mail's
unsubscribe link turns one off too, and the table shows it); a plugin's channel is
off until the user turns it on. Sellers choose among the kinds told to sellers, buyers
among the buyers' kinds. A plain form with a 303, or the section in place with htmx.
"""

from dataclasses import dataclass

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal.models import Shop
from portal.notifications import channels, preferences
from portal.notifications.events import KINDS, kinds_for
from portal.web.account import bp
from portal.web.account.forms import PhoneForm
from portal.web.render import wants_fragment


@dataclass(frozen=True)
class Column:
    code: str
    name: str
    description: str = ""
    needs: str = ""


@dataclass(frozen=True)
class Cell:
    name: str  # the checkbox's name: "<channel>:<kind>"
    label: str  # for screen readers: "Package shipped by Text message"
    on: bool


def _columns(offered) -> list[Column]:
    return [Column(preferences.EMAIL, "E-mail"),
            *(Column(c.code, c.name, c.description, c.needs) for c in offered)]


def context(phone_form: PhoneForm | None = None, *, saved: bool = False) -> dict:
    """What the page's notification and phone sections show (two queries: the channels
    shops offer, the user's choices; a third for a seller: their shop's e-mail setting)."""
    columns = _columns(channels.offered())
    stored = preferences.choices(current_user.id)
    rows = [(KINDS[kind], [Cell(f"{col.code}:{kind}", f"{KINDS[kind]} by {col.name}",
                                preferences.is_on(stored, col.code, kind)) for col in columns])
            for kind in kinds_for(current_user.is_seller)]
    phone_codes = {col.code for col in columns if col.needs == "phone"}
    wants_phone = any(cell.on and cell.name.split(":", 1)[0] in phone_codes
                      for _, cells in rows for cell in cells)
    shop_emails = []  # a seller's e-mail also follows their shop's setting
    if current_user.is_seller:
        shop_emails = [on for (on,) in Shop.select(Shop.notify_by_email)
                       .where(Shop.owner == current_user.id).tuples()]
    return {"pref_columns": columns, "pref_rows": rows, "prefs_saved": saved,
            "shop_emails_off": bool(shop_emails) and not any(shop_emails),
            "phone_needed": bool(phone_codes or current_user.phone
                                 or (phone_form and phone_form.errors)),
            "phone_missing": wants_phone and not current_user.phone,
            "phone_form": phone_form or PhoneForm(formdata=None,
                                                  data={"phone": current_user.phone})}


@bp.post("/notifications")
@login_required
def notifications():
    """Save the table: every cell the page showed, checked or not (CSRF is checked for
    every POST by the app's CSRFProtect; a checkbox name it did not show is ignored)."""
    stored = preferences.choices(current_user.id)
    codes = [col.code for col in _columns(channels.offered())]
    wanted = {(code, kind): request.form.get(f"{code}:{kind}") is not None
              for code in codes for kind in kinds_for(current_user.is_seller)}
    preferences.save(current_user.id, {key: on for key, on in wanted.items()
                                       if preferences.is_on(stored, *key) != on})
    if wants_fragment():
        return render_template("account/_notifications.html", **context(saved=True))
    flash("Your notification choices are saved.", "success")
    return redirect(url_for(".page", _anchor="notifications"), code=303)
