"""``/account``: the logged-in user's name, e-mail, password, saved shipping addresses,
and notification preferences with the phone number (``notifications``).

Plain forms and 303s. A new password ends every other session and remember cookie
(``portal.accounts``) while this browser stays logged in; a new e-mail address
counts only once the link sent to it is opened (``portal.account_links``).
"""

from flask import (Blueprint, abort, current_app, flash, redirect, render_template,
                   request, url_for)
from flask_login import current_user, login_required, login_user

from portal import account_links, accounts, checkout, mail
from portal.models import Address, User
from portal.web.account.forms import (EmailForm, NameForm, PasswordForm, PhoneForm,
                                       SavedAddressForm)
from portal.web.auth.passwords import tell_password_changed
from portal.web.forms import checked_address
from portal.web.security import hash_password, verify_password

bp = Blueprint("account", __name__, url_prefix="/account")

# Checkout offers a buyer's first 20 saved addresses: keeping more would hide some.
MAX_ADDRESSES = 20
MAX_ID = 2**31 - 1  # ids are 32-bit integers (PostgreSQL "integer")


def _me() -> User:
    return current_user._get_current_object()


def _page(status=200, **forms):
    prefs = notifications.context(forms.pop("phone_form", None))
    forms = {"name_form": NameForm(formdata=None, data={"name": current_user.name}),
             "email_form": EmailForm(formdata=None), "password_form": PasswordForm(formdata=None),
             **forms}
    addresses = list(Address.select().where(Address.user == current_user.id)
                     .order_by(Address.id))
    return render_template("account/account.html", addresses=addresses,
                           max_addresses=MAX_ADDRESSES, **prefs, **forms), status


def _to_page():
    return redirect(url_for(".page"), code=303)


def _password_ok(user: User, password: str, field) -> bool:
    """Whether ``password`` is the user's own; a wrong one counts towards the login throttle,
    so a borrowed session cannot be used to guess it."""
    held = accounts.throttled(user.email)
    if held:
        minutes = -(-held.retry_after // 60)
        field.errors.append("Too many wrong passwords. Please try again in "
                            f"{minutes} minute{'s' if minutes != 1 else ''}.")
        return False
    if verify_password(user.password_hash, password):
        return True
    accounts.login_failed(user.email)
    field.errors.append("That is not your current password.")
    return False


@bp.get("")
@login_required
def page():
    return _page()


@bp.post("/name")
@login_required
def name():
    form = NameForm()
    if not form.validate_on_submit():
        return _page(422, name_form=form)
    User.update(name=form.name.data).where(User.id == current_user.id).execute()
    flash("Your name is saved.", "success")
    return _to_page()


@bp.post("/phone")
@login_required
def phone():
    """The phone number channels such as SMS need, in E.164 (empty removes it)."""
    form = PhoneForm()
    if not form.validate_on_submit():
        return _page(422, phone_form=form)
    User.update(phone=form.phone.data).where(User.id == current_user.id).execute()
    flash("Your phone number is saved." if form.phone.data else "Your phone number is removed.",
          "success")
    return redirect(url_for(".page", _anchor="phone"), code=303)


@bp.post("/password")
@login_required
def password():
    form = PasswordForm()
    user = _me()
    if not (form.validate_on_submit()
            and _password_ok(user, form.current_password.data, form.current_password)):
        return _page(422, password_form=form)
    accounts.set_password(user, hash_password(form.password.data))
    # The new session token ended every session, this one too: log this browser in
    # again with it, keeping its "keep me logged in" cookie if it had one.
    remember_cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    login_user(user, remember=remember_cookie in request.cookies)
    tell_password_changed(user)
    flash("Your new password is set. You were logged out everywhere else.", "success")
    return _to_page()


@bp.post("/email")
@login_required
def email():
    form = EmailForm()
    user = _me()
    if not (form.validate_on_submit()
            and _password_ok(user, form.email_password.data, form.email_password)):
        return _page(422, email_form=form)
    new = form.email.data
    if new == user.email:
        form.email.errors.append("This is your e-mail address already.")
    elif accounts.email_taken(new):
        # What registration says, and no more.
        form.email.errors.append("An account with this e-mail already exists.")
    elif account_links.too_many(user, account_links.EMAIL_CHANGE):
        form.email.errors.append("We sent several links in the last hour: please open the "
                                 "latest one, or try again later.")
    if form.email.errors:
        return _page(422, email_form=form)
    token = account_links.issue(user, account_links.EMAIL_CHANGE, new_email=new)
    mail.send(new, "Confirm your new e-mail address", render_template(
        "mail/email_confirm.txt", user=user,
        url=url_for(".confirm_email", token=token, _external=True)))
    mail.send(user.email, "A new e-mail address was asked for your account", render_template(
        "mail/email_change_asked.txt", user=user, new_email=new))
    flash(f"We sent a link to {new}. Your address changes when you open it (within an hour).",
          "info")
    return _to_page()


@bp.route("/email/<token>", methods=["GET", "POST"])
def confirm_email(token: str):
    # Opening the link only shows a button (mail scanners open links too); its POST
    # makes the change.
    link = account_links.peek(token, account_links.EMAIL_CHANGE)
    if link is None:
        return render_template("account/confirm_email.html", link=None), 410
    if request.method == "GET":
        return render_template("account/confirm_email.html", link=link)
    try:
        changed = accounts.confirm_email_change(token)
    except accounts.EmailTaken:
        flash("An account with this e-mail already exists.", "error")
        return render_template("account/confirm_email.html", link=None), 409
    if changed is None:
        return render_template("account/confirm_email.html", link=None), 410
    mail.send(changed.old_email, "Your e-mail address was changed", render_template(
        "mail/email_changed.txt", user=changed.user, new_email=changed.new_email))
    flash(f"Your e-mail address is now {changed.new_email}.", "success")
    return redirect(url_for(".page") if current_user.is_authenticated else url_for("auth.login"),
                    code=303)


# -- saved shipping addresses ---------------------------------------------------------

def _mine(address_id: int) -> Address:
    """One of the user's own addresses; anyone else's is not found."""
    if not 0 < address_id <= MAX_ID:  # beyond any id, and any database's integer
        abort(404)
    row = Address.get_or_none((Address.id == address_id) & (Address.user == current_user.id))
    if row is None:
        abort(404)
    return row


def _checked(form: SavedAddressForm) -> dict | None:
    """The row's values when the form holds an address valid for its country (and a phone
    number valid there, or none), as checkout checks them; else None, errors on the fields."""
    if not form.validate_on_submit():
        checked_address(form)  # the country's own errors too, all at once
        return None
    check = checked_address(form)
    phone, phone_error = checkout.check_phone(form.phone.data, form.country.data)
    if phone_error:
        form.phone.errors = [*form.phone.errors, phone_error]
    if check is None or phone_error:
        return None
    a = check.address
    return dict(full_name=a["name"], line1=a["line1"], line2=a["line2"], city=a["city"],
                region=a["region"], postal_code=a["postal_code"], country=a["country"],
                phone=phone)


def _address_page(form, row=None, status=200):
    return render_template("account/address.html", form=form, row=row), status


@bp.route("/addresses/new", methods=["GET", "POST"])
@login_required
def new_address():
    form = SavedAddressForm()
    if request.method == "GET":
        return _address_page(form)
    values = _checked(form)
    if values is None:
        return _address_page(form, status=422)
    if Address.select().where(Address.user == current_user.id).count() >= MAX_ADDRESSES:
        flash(f"You can keep up to {MAX_ADDRESSES} addresses: delete one first.", "error")
        return _address_page(form, status=409)
    Address.create(user=current_user.id, **values)
    flash("The address is saved; checkout offers it.", "success")
    return _to_page()


@bp.route("/addresses/<int:address_id>", methods=["GET", "POST"])
@login_required
def edit_address(address_id: int):
    row = _mine(address_id)
    if request.method == "GET":
        form = SavedAddressForm(formdata=None, data=dict(
            name=row.full_name, line1=row.line1, line2=row.line2, city=row.city,
            region=row.region, postal_code=row.postal_code, country=row.country, phone=row.phone))
        return _address_page(form, row)
    form = SavedAddressForm()
    values = _checked(form)
    if values is None:
        return _address_page(form, row, status=422)
    Address.update(**values).where(Address.id == row.id).execute()
    flash("The address is saved.", "success")
    return _to_page()


@bp.post("/addresses/<int:address_id>/delete")
@login_required
def delete_address(address_id: int):
    row = _mine(address_id)
    Address.delete().where(Address.id == row.id).execute()
    flash("The address is deleted. Orders sent there keep it.", "info")
    return _to_page()


# The preferences' routes live on this blueprint in their own module.
from portal.web.account import notifications  # noqa: E402
