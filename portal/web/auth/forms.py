from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length


def _email(value):
    return (value or "").strip().lower()


def email_field(label: str = "E-mail") -> EmailField:
    """An e-mail address as registration takes it: trimmed, lower case, checked."""
    return EmailField(label, filters=[_email], validators=[DataRequired(), Email(), Length(max=254)])


class LoginForm(FlaskForm):
    email = EmailField("E-mail", filters=[_email], validators=[DataRequired(), Email()])
    password = PasswordField("Password", validators=[DataRequired()])
    remember = BooleanField("Keep me logged in on this device")


class NewPasswordForm(FlaskForm):
    """A new password and its repetition: the rules registration, a change and a reset share."""

    password = PasswordField("Password", validators=[
        DataRequired(), Length(min=10, max=200, message="Use at least 10 characters.")])
    confirm = PasswordField("Repeat the password", validators=[
        DataRequired(), EqualTo("password", message="The two passwords differ.")])


class RegisterForm(NewPasswordForm):
    name = StringField("Your name", filters=[lambda v: (v or "").strip()],
                       validators=[DataRequired(), Length(max=120)])
    email = email_field()


class ForgotPasswordForm(FlaskForm):
    email = EmailField("E-mail", filters=[_email], validators=[DataRequired(), Email()])


class ResetPasswordForm(NewPasswordForm):
    pass
