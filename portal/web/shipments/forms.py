from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from portal.hooks.hooktypes import TrackingStatus


class TrackingEventForm(FlaskForm):
    status = SelectField("Status", choices=[SelectChoice(s.value, s.label) for s in TrackingStatus],
                         validators=[InputRequired()])
    description = StringField("What happened", validators=[InputRequired(), Length(max=300)])
    location = StringField("Where (optional)", validators=[Length(max=120)])
