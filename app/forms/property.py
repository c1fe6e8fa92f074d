from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.forms.fields import BaseForm, IntegerField, OnceForm

KIND_CHOICES = [("owner", _l("Owner (业主)")), ("tenant", _l("Tenant (租户)"))]


class BuildingForm(OnceForm):
    code = StringField(_l("Building number"), validators=[
        DataRequired(_l("Enter the building number.")), Length(max=10)])
    name = StringField(_l("Display name"), validators=[Optional(), Length(max=40)])
    floors = IntegerField(_l("Floors"), validators=[
        Optional(), NumberRange(min=1, max=200, message=_l("Between 1 and 200."))])


class UnitForm(OnceForm):
    building_id = SelectField(_l("Building"), coerce=int, validators=[
        DataRequired(_l("Choose a building."))])
    entrance = IntegerField(_l("Entrance (单元)"), validators=[
        Optional(), NumberRange(min=1, max=99, message=_l("Between 1 and 99."))])
    number = StringField(_l("Unit number"), validators=[
        DataRequired(_l("Enter the unit number.")), Length(max=10)])
    area_m2 = IntegerField(_l("Floor area (m²)"), validators=[
        Optional(), NumberRange(min=1, max=10000, message=_l("Between 1 and 10000."))])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])


class ResidentForm(OnceForm):
    name = StringField(_l("Name"), validators=[
        DataRequired(_l("Enter the resident's name.")),
        Length(max=40, message=_l("At most 40 characters."))])
    kind = RadioField(_l("Resident type"), choices=KIND_CHOICES, default="owner",
                      validators=[DataRequired(_l("Choose owner or tenant."))])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=30)])
    phone2 = StringField(_l("Second phone"), validators=[Optional(), Length(max=30)])
    notes = TextAreaField(_l("Special notes (pets, health, access)"), validators=[
        Optional(), Length(max=1000, message=_l("At most 1000 characters."))])
    active = BooleanField(_l("Lives here (untick when moved out)"), default=True)


class ImportForm(BaseForm):
    file = FileField(_l("CSV file"), validators=[FileRequired(_l("Choose a CSV file."))])
