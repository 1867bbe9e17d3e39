"""The forms of ``/account``: each has its own field names, so that one page holds them all
and a refused one shows its errors beside its own fields."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from portal.web.auth.forms import NewPasswordForm, email_field
from portal.web.forms import AddressForm


class NameForm(FlaskForm):
    name = StringField("Your name", filters=[lambda v: (v or "").strip()],
                       validators=[DataRequired(), Length(max=120)])


class PasswordForm(NewPasswordForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])


class EmailForm(FlaskForm):
    email = email_field("New e-mail address")
    email_password = PasswordField("Current password", validators=[DataRequired()])


class SavedAddressForm(AddressForm):
    """The address form orders use, without the order's version (a saved address has none)."""

    version = None
