from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from app.domain.pricing import DEPARTMENT_LABELS, UNITS_OF_CHARGE
from app.forms.fields import BaseForm, YuanField


class ItemForm(BaseForm):
    category_id = SelectField(_l("Category"), coerce=int, validators=[
        DataRequired(_l("Choose a category."))])
    name_zh = StringField(_l("Name (Chinese)"), validators=[
        DataRequired(_l("Enter the item's Chinese name.")),
        Length(max=60, message=_l("At most 60 characters."))])
    name_en = StringField(_l("Name (English)"), validators=[
        Optional(), Length(max=100, message=_l("At most 100 characters."))])
    unit = SelectField(_l("Unit of charge"), validators=[DataRequired(_l("Choose a unit of charge."))])
    price_min = YuanField(_l("Price, or lowest price (yuan)"))
    price_max = YuanField(_l("Highest price (yuan), for a range"))
    by_workload = BooleanField(_l("Priced by workload (视工程量定价)"))
    free = BooleanField(_l("Free: covered by the management fee"))
    department = SelectField(_l("Department"), validators=[DataRequired(_l("Choose a department."))])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.category_id.choices = [(c.id, f"{c.name_zh} · {c.name_en}") for c in categories]
        self.unit.choices = [(code, f"{code} · {label}") for code, label in UNITS_OF_CHARGE.items()]
        self.department.choices = [(k.value, v) for k, v in DEPARTMENT_LABELS.items()]


class CategoryForm(BaseForm):
    code = StringField(_l("Code"), validators=[
        DataRequired(_l("Enter a short code.")), Length(max=20),
        Regexp(r"^[a-z0-9_]+$", message=_l("Lower-case letters, digits and _ only."))])
    name_zh = StringField(_l("Name (Chinese)"), validators=[
        DataRequired(_l("Enter the Chinese name.")), Length(max=40)])
    name_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=60)])


class ApproveForm(BaseForm):
    effective_date = DateField(_l("In force from"), validators=[
        DataRequired(_l("Enter a date."))])
    note = StringField(_l("Note for the record"), validators=[Optional(), Length(max=500)])
