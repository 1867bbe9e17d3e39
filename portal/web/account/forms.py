"""The forms of ``/account``: each has its own field names, so that one page holds them all
and a refused one shows its errors beside its own fields."""

import phonenumbers
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

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


class PhoneForm(FlaskForm):
    """The account's phone number, for channels that need one (empty removes it)."""

    phone = StringField("Phone number (with its country code)",
                        filters=[lambda v: (v or "").strip()], validators=[Length(max=40)])

    def validate_phone(self, field):
        """Keep the number in E.164 (``+14155550123``); refuse what is not a number."""
        if not field.data:
            return
        try:
            parsed = phonenumbers.parse(field.data, None)
        except phonenumbers.NumberParseException:
            raise ValidationError("Write the number with its country code, "
                                  "e.g. +1 415 555 0123.") from None
        if not phonenumbers.is_valid_number(parsed):
            raise ValidationError("This phone number is not valid for its country.")
        field.data = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)

