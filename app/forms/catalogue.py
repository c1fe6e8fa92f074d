from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from app.domain.errors import DomainError
from app.domain.pricing import DEPARTMENT_LABELS, UNITS_OF_CHARGE, make_price
from app.forms.fields import BaseForm, OnceForm, YuanField


class ItemForm(OnceForm):
    category_id = SelectField(_l("Category"), coerce=int, validators=[
        DataRequired(_l("Choose a category."))])
    name_zh = StringField(_l("Name (Chinese)"), validators=[
        DataRequired(_l("Enter the item's Chinese name.")),
        Length(max=60, message=_l("At most 60 characters."))])
    name_en = StringField(_l("Name (English)"), validators=[
        Optional(), Length(max=100, message=_l("At most 100 characters."))])
    unit = SelectField(_l("Unit of charge"),
                       validators=[DataRequired(_l("Choose a unit of charge."))])
    price_min = YuanField(_l("Price, or lowest price (yuan)"))
    price_max = YuanField(_l("Highest price (yuan), for a range"))
    by_workload = BooleanField(_l("Priced by workload (视工程量定价)"))
    free = BooleanField(_l("Free: covered by the management fee"))
    department = SelectField(_l("Department"),
                             validators=[DataRequired(_l("Choose a department."))])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.category_id.choices = [(c.id, category_label(c)) for c in categories]
        self.unit.choices = [(code, f"{code} · {label}") for code, label in UNITS_OF_CHARGE.items()]
        self.department.choices = [(k.value, v) for k, v in DEPARTMENT_LABELS.items()]

    def validate(self, extra_validators=None) -> bool:
        """The field rules, then the price rules of make_price() at once, so that an empty
        new item shows every error on the first submit (the service checks them again)."""
        ok = super().validate(extra_validators)
        if self.price_min.errors or self.price_max.errors:
            return False  # not an amount: the price rules have nothing to check
        try:
            make_price(self.price_min.data, self.price_max.data,
                       by_workload=bool(self.by_workload.data), free=bool(self.free.data))
        except DomainError as err:
            field = getattr(self, err.field or "price_min", self.price_min)
            field.errors = [*field.errors, err.message]
            return False
        return ok


def category_label(category) -> str:
    """A category as the dropdown shows it: the Chinese name in Chinese, both names in English."""
    if str(get_locale()) == "en" and category.name_en:
        return f"{category.name_en} ({category.name_zh})"
    return category.name_zh


class CategoryForm(OnceForm):
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
