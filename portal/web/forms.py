"""Forms both the buyer's and the seller's pages use."""

import re
from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from portal.addresses import FIELDS, AddressCheck, check_address, country_choices
from portal.money import from_decimal
from portal.orders.errors import BadInput


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms 3.3+ wants select choices."""
    return [SelectChoice(value, label) for value, label in pairs]


def strip(value):
    """Surrounding spaces off; a field missing from the post is empty text, not None."""
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else value


def parse_int(value, *, maximum: int = 1_000_000_000) -> int | None:
    """A whole number typed in a form (ASCII digits only, up to ``maximum``), else None.

    ``str.isdigit()`` is not enough: "²" and "٣" pass it, and int() refuses the first.
    """
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not (value.isascii() and value.isdigit()) or len(value) > len(str(maximum)):
        return None
    number = int(value)
    return number if number <= maximum else None


_AMOUNT = re.compile(r"^\d{1,9}(\.\d+)?$")


def parse_money(value, currency: str) -> int | None:
    """An amount typed in major units ("12.50", "1,200") as minor units of ``currency``;
    None when it is not one (a sign, letters, an exponent, more decimals than the
    currency has)."""
    if not isinstance(value, str):
        return None
    value = value.strip().replace(",", "")
    if not (value.isascii() and _AMOUNT.match(value)):
        return None
    try:
        return from_decimal(Decimal(value), currency)
    except ValueError:
        return None


class VersionedForm(FlaskForm):
    """Every form that changes an order carries the version it was built from."""

    version = HiddenField(validators=[InputRequired()])

    @property
    def expected_version(self) -> int:
        try:
            version = int(self.version.data)
        except (TypeError, ValueError):
            return -1  # a forged or missing version can only be stale
        # Beyond any stored version (and any database's integer): stale too, not a 500.
        return version if 0 <= version <= 2**31 - 1 else -1


class AddressForm(VersionedForm):
    name = StringField("Recipient", filters=[strip], validators=[Length(max=120)])
    line1 = StringField("Street address", filters=[strip], validators=[Length(max=200)])
    line2 = StringField("Apartment, suite (optional)", filters=[strip],
                        validators=[Length(max=200)])
    city = StringField("City", filters=[strip], validators=[Length(max=100)])
    region = StringField("State / region", filters=[strip], validators=[Length(max=100)])
    postal_code = StringField("Postal code", filters=[strip], validators=[Length(max=20)])
    country = SelectField("Country")
    phone = StringField("Phone (optional)", filters=[strip], validators=[Length(max=32)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = options(country_choices())


def checked_address(form: AddressForm) -> AddressCheck | None:
    """The form's address checked for its country; None (errors on the fields) if not valid."""
    check = check_address({key: form[key].data for key in FIELDS})
    for key, message in check.errors.items():
        form[key].errors = [*form[key].errors, message]
    return check if check.valid else None


def line_changes(formdata, lines) -> dict[int, tuple[int, int]]:
    """Each line's chosen variant and quantity (inputs ``variant-<id>`` and ``qty-<id>``).

    Raises :class:`~portal.orders.errors.BadInput` (``form.bad_line``) for a value that
    is not a whole number; lines without inputs are left out (unchanged).
    """
    changes = {}
    for line in lines:
        variant, quantity = formdata.get(f"variant-{line.id}"), formdata.get(f"qty-{line.id}")
        if variant is None or quantity is None:
            continue
        variant_id, count = parse_int(variant), parse_int(quantity)
        if variant_id is None or count is None:
            raise BadInput("form.bad_line", f"{line.product_name}: choose a size/colour and "
                           "a whole quantity.")
        changes[line.id] = (variant_id, count)
    return changes
