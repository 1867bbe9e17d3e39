"""Accounts: register, log in, log out."""

from urllib.parse import urlsplit

from flask import (Blueprint, current_app, flash, redirect, render_template,
                   request, session, url_for)
from flask_login import current_user, login_required, login_user, logout_user
from peewee import IntegrityError

from portal.extensions import limiter, login_manager
from portal.models import User
from portal.security import hash_password, verify_password
from portal.web.auth.forms import LoginForm, RegisterForm

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(user_id: str):
    return User.get_or_none(User.id == int(user_id)) if user_id.isdigit() else None


def home_for(user) -> str:
    return url_for("seller.dashboard") if user.is_seller else url_for("buyer.orders")


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: a login link must never bounce to another site."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"],
               error_message="Too many login attempts. Please wait a minute and try again.")
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = User.get_or_none(User.email == form.email.data)
        if verify_password(user.password_hash if user else None, form.password.data) and user:
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")) or home_for(user), code=303)
        form.password.errors.append("That e-mail and password do not match an account.")
    return render_template("auth/login.html", form=form), 200 if not form.errors else 422


@bp.route("/register", methods=["GET", "POST"])
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
                login_user(user)
                flash("Welcome! Your account is ready.", "success")
                return redirect(home_for(user), code=303)
    return render_template("auth/register.html", form=form), 200 if not form.errors else 422


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    session.clear()  # nothing of this user's session is left for the next one
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"), code=303)
