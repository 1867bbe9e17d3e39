"""The Seller Center's forms. Per-line inputs (checklist ticks, quantities to
ship, line edits) are named ``<what>-<line id>`` and read by the views."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (BooleanField, DateField, HiddenField, IntegerField, RadioField, SelectField,
                     SelectMultipleField, StringField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (DataRequired, InputRequired, Length, NumberRange, Optional,
                                ValidationError)
from wtforms.widgets import CheckboxInput, ListWidget

from portal.addresses import country_choices
from portal.money import to_decimal
from portal.orders.management import SORTS
from portal.orders.shop_settings import FLAT_RATE_DAYS, time_zones
from portal.web.forms import AddressForm, VersionedForm, parse_money, strip, options  # noqa: F401


class FilterForm(FlaskForm):
    """The list's filters: a GET form whose values are the page's URL."""

    class Meta:
        csrf = False

    status = HiddenField()
    q = StringField("Search", filters=[strip], validators=[Optional(), Length(max=100)])
    placed_from = DateField("Placed from", validators=[Optional()])
    placed_to = DateField("Placed to", validators=[Optional()])
    sort = SelectField("Sort", choices=options((k, v[0]) for k, v in SORTS.items()), default="newest")

    def validate_placed_from(self, field):
        _plausible(field)

    def validate_placed_to(self, field):
        _plausible(field)
        if field.data and self.placed_from.data and field.data < self.placed_from.data:
            raise ValidationError("The end date is before the start date.")


def _plausible(field) -> None:
    # 9999-12-31 is a valid date, but the day after it (the range's end) is not.
    if field.data and not 1970 <= field.data.year <= 2999:
        raise ValidationError("Choose a date between 1970 and 2999.")


class BulkForm(FlaskForm):
    action = SelectField("With the ticked orders", choices=options([
        ("process", "Mark as processed"), ("packing_slips", "Print packing slips")]))


class UploadForm(FlaskForm):
    file = FileField("CSV file (order_number,carrier,tracking_number)",
                     validators=[FileRequired("Choose a CSV file to upload.")])


class ChecklistForm(VersionedForm):
    address_verified = BooleanField("Shipping address verified")


class ShipForm(VersionedForm):
    carrier = SelectField("Carrier")
    tracking_number = StringField("Tracking number", filters=[strip],
                                  validators=[DataRequired("Enter the tracking number.")])


class LabelForm(VersionedForm):
    """Buy a label at one of the quoted rates; its value is ``carrier:service``."""

    rate = RadioField("Service", validators=[InputRequired("Choose a shipping service.")],
                      validate_choice=False)


class CancelForm(VersionedForm):
    reason = TextAreaField("Reason (the buyer sees it)", filters=[strip],
                           validators=[DataRequired("Say why the order is cancelled."),
                                       Length(max=300)])


class DecisionForm(FlaskForm):
    """Approve or refuse a buyer's request; a refusal says why."""

    decision = HiddenField()
    response = TextAreaField("Answer to the buyer", filters=[strip], validators=[Length(max=300)])


class NoteForm(FlaskForm):
    text = TextAreaField("Internal note (only your shop sees it)", filters=[strip],
                         validators=[DataRequired("Write something in the note first."),
                                     Length(max=500)])


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SettingsForm(FlaskForm):
    ship_from_name = StringField("Name or company", filters=[strip], validators=[Length(max=120)])
    ship_from_line1 = StringField("Street address", filters=[strip], validators=[Length(max=200)])
    ship_from_line2 = StringField("Apartment, suite (optional)", filters=[strip],
                                  validators=[Length(max=200)])
    ship_from_city = StringField("City", filters=[strip], validators=[Length(max=100)])
    ship_from_region = StringField("State / region", filters=[strip],
                                   validators=[Length(max=100)])
    ship_from_postal_code = StringField("Postal code", filters=[strip],
                                        validators=[Length(max=20)])
    ship_from_country = SelectField("Country")
    return_name = StringField("Name or company", filters=[strip], validators=[Length(max=120)])
    return_line1 = StringField("Street address", filters=[strip], validators=[Length(max=200)])
    return_line2 = StringField("Apartment, suite (optional)", filters=[strip],
                               validators=[Length(max=200)])
    return_city = StringField("City", filters=[strip], validators=[Length(max=100)])
    return_region = StringField("State / region", filters=[strip], validators=[Length(max=100)])
    return_postal_code = StringField("Postal code", filters=[strip], validators=[Length(max=20)])
    return_country = SelectField("Country")
    handling_days = IntegerField("Handling time (days to ship)", validators=[
        InputRequired("How many days do you need to ship?"),
        NumberRange(0, 30, "From 0 to 30 days.")])
    modification_window_hours = IntegerField("Modification window (hours)", validators=[
        InputRequired("How long may buyers ask for changes?"),
        NumberRange(0, 168, "From 0 to 168 hours (a week).")])
    return_window_days = IntegerField("Return window (days after delivery)", validators=[
        InputRequired("How long may buyers return items?"),
        NumberRange(0, 365, "From 0 to 365 days.")])
    non_returnable = MultiCheckboxField("Products that cannot be returned", coerce=int)
    notify_by_email = BooleanField("Send me e-mails about new orders and requests")
    flat_rate = StringField("Flat shipping rate", filters=[strip], validators=[
        InputRequired("What do you charge when no carrier quotes a rate? 0 ships free.")])
    timezone = SelectField("Time zone (coupons start and end at its midnight)")
    flat_rate_days = IntegerField("Flat rate delivery (days)", validators=[
        InputRequired("How many days does flat-rate shipping take?"),
        NumberRange(*FLAT_RATE_DAYS, f"From {FLAT_RATE_DAYS[0]} to {FLAT_RATE_DAYS[1]} days.")])

    def __init__(self, *args, currency: str = "USD", **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.ship_from_country.choices = options(country_choices())
        self.return_country.choices = options([("", "As the ship-from address")]
                                              + list(country_choices()))
        self.flat_rate.label.text = f"Flat shipping rate ({currency})"
        self.timezone.choices = [(z, z.replace("_", " ")) for z in time_zones()]

    def validate_flat_rate(self, field):
        if parse_money(field.data, self.currency) is None:
            raise ValidationError(f"An amount in {self.currency}, such as "
                                  f"{to_decimal(500, self.currency)}.")

    @property
    def flat_rate_amount(self) -> int | None:
        """The flat rate in minor units of the shop's currency (None until it validates)."""
        return parse_money(self.flat_rate.data, self.currency)
