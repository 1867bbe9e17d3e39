"""Accounts: register, log in, log out."""

from flask import (Blueprint, current_app, flash, redirect, render_template,
                   request, session, url_for)
from flask_login import current_user, login_required, login_user, logout_user
from peewee import IntegrityError

from portal import accounts
from portal.web.extensions import limiter, login_manager
from portal.models import User
from portal.web.security import hash_password, verify_password
from portal.web.auth.forms import LoginForm, RegisterForm
from portal.web.guards import safe_local_path

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(session_id: str):
    # "id:token": a token replaced by log-out or a new password ends the session.
    return accounts.user_for_session(session_id)


def home_for(user) -> str:
    return url_for("seller.dashboard") if user.is_seller else url_for("buyer.orders")


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _register_limit() -> str:
    return current_app.config["REGISTER_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"],
               error_message="Too many login attempts. Please wait a minute and try again.")
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data
        held = accounts.throttled(email)
        if held:
            minutes = -(-held.retry_after // 60)
            form.password.errors.append(
                "Too many wrong passwords for this e-mail address. "
                f"Please try again in {minutes} minute{'s' if minutes != 1 else ''}.")
            return (render_template("auth/login.html", form=form), 429,
                    {"Retry-After": str(held.retry_after)})
        user = User.get_or_none(User.email == email)
        # One argon2 verification whether or not the address has an account.
        if verify_password(user.password_hash if user else None, form.password.data) and user:
            accounts.login_succeeded(email)
            accounts.start_session(user)
            login_user(user, remember=form.remember.data)
            return redirect(safe_local_path(request.args.get("next")) or home_for(user), code=303)
        accounts.login_failed(email)
        form.password.errors.append("That e-mail and password do not match an account.")
    return render_template("auth/login.html", form=form), 200 if not form.errors else 422


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_register_limit, methods=["POST"],
               error_message="Too many sign-ups from your address. Please try again later.")
def register():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = RegisterForm()
    if form.validate_on_submit():
        if User.select().where(User.email == form.email.data).exists():
            form.email.errors.append("An account with this e-mail already exists. Log in instead?")
        else:
            try:
                user = User.create(email=form.email.data, name=form.name.data,
                                   password_hash=hash_password(form.password.data))
            except IntegrityError:  # registered twice at the same moment
                form.email.errors.append("An account with this e-mail already exists.")
            else:
                accounts.start_session(user)
                login_user(user)
                flash("Welcome! Your account is ready.", "success")
                return redirect(home_for(user), code=303)
    return render_template("auth/register.html", form=form), 200 if not form.errors else 422


@bp.post("/logout")
@login_required
def logout():
    # A new session token ends this session, the remember cookie and any copy of
    # either, on every device.
    accounts.end_all_sessions(current_user._get_current_object())
    logout_user()  # also marks the remember cookie to be deleted ("_remember": "clear")
    remember = session.get("_remember")
    session.clear()  # nothing of this user's session is left for the next one
    if remember:
        session["_remember"] = remember
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"), code=303)


from portal.web.auth import passwords  # noqa: E402,F401  (its routes join this blueprint)
