from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Optional

from app.forms.fields import BaseForm


class SettingsForm(BaseForm):
    name = StringField(_l("Property name (Chinese)"), validators=[
        DataRequired(_l("Enter the property's name.")), Length(max=80)])
    name_en = StringField(_l("Property name (English)"), validators=[Optional(), Length(max=120)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    phone = StringField(_l("Service office phone"), validators=[Optional(), Length(max=40)])
    timezone = StringField(_l("Time zone"), validators=[DataRequired(_l("Enter a time zone.")),
                                                        Length(max=50)])
    currency = StringField(_l("Currency"), validators=[DataRequired(_l("Enter a currency code.")),
                                                       Length(min=3, max=3)])
