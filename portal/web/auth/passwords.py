"""Forgotten passwords: ``/password/forgot`` e-mails a link, ``/password/reset/<token>``
sets a new password with it.

The answer to "forgot" is the same whether or not the address has an account, and
so is the work behind it: one argon2 verification either way, as the login does.
"""

import secrets

from flask import current_app, flash, redirect, render_template, url_for

from portal import account_links, accounts, mail
from portal.models import User
from portal.web.auth import bp
from portal.web.auth.forms import ForgotPasswordForm, ResetPasswordForm
from portal.web.extensions import limiter
from portal.web.security import hash_password, verify_password

SENT = ("If an account exists for that address, we sent it a link to choose a new "
        "password. The link works once, for an hour.")
DEAD_LINK_STATUS = 410  # Gone: the link was used, expired, or never existed


def tell_password_changed(user: User) -> None:
    """Tell the account's address its password changed (someone else may have done it)."""
    mail.send(user.email, "Your password was changed", render_template(
        "mail/password_changed.txt", user=user,
        url=url_for("auth.forgot_password", _external=True)))


def _forgot_limit() -> str:
    return current_app.config["PASSWORD_RESET_RATE_LIMIT"]


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_forgot_limit, methods=["POST"],
               error_message="Too many password resets asked from your address. "
                             "Please try again later.")
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = User.get_or_none(User.email == form.email.data)
        # The argon2 run costs the same for an unknown address (a fixed dummy hash)
        # and a known one (its own hash, with a password that never matches): the
        # answer's timing does not tell who has an account.
        verify_password(user.password_hash if user else None, secrets.token_urlsafe(16))
        if user is not None and not account_links.too_many(user, account_links.PASSWORD_RESET):
            token = account_links.issue(user, account_links.PASSWORD_RESET)
            mail.send(user.email, "Choose a new password", render_template(
                "mail/password_reset.txt", user=user,
                url=url_for("auth.reset_password", token=token, _external=True)))
        flash(SENT, "info")
        return redirect(url_for("auth.forgot_password"), code=303)
    return render_template("auth/forgot_password.html", form=form), 200 if not form.errors else 422


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    # Opening the link (a GET, which mail scanners also do) only shows the form; the
    # link is used up by the form's POST.
    if account_links.peek(token, account_links.PASSWORD_RESET) is None:
        return render_template("auth/reset_password.html", form=None), DEAD_LINK_STATUS
    form = ResetPasswordForm()
    if form.validate_on_submit():
        user = accounts.reset_password(token, hash_password(form.password.data))
        if user is None:  # used by another request meanwhile
            return render_template("auth/reset_password.html", form=None), DEAD_LINK_STATUS
        tell_password_changed(user)
        flash("Your new password is set, and every session of your account has ended. "
              "Log in with the new password.", "success")
        return redirect(url_for("auth.login"), code=303)
    return render_template("auth/reset_password.html", form=form), 200 if not form.errors else 422
