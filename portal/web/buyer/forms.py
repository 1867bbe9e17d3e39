"""The buyer's forms after the purchase: cancel, new address, modification, return."""

from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from portal.web.forms import VersionedForm, strip


class CancelForm(VersionedForm):
    reason = TextAreaField("Why cancel? (optional)", filters=[strip], validators=[Length(max=300)])


class ModificationForm(VersionedForm):
    reason = TextAreaField("Anything the shop should know? (optional)", filters=[strip],
                           validators=[Length(max=300)])


class ReturnForm(VersionedForm):
    """A return: its items come as ``rqty-``/``reason-``/``note-<line>`` rows
    (:func:`portal.web.returning.parse_items`)."""
