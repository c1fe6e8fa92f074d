"""The base form and the fields the office needs (money in yuan, stored as fen)."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
import wtforms
from wtforms import PasswordField, StringField

from app.domain.money import MoneyError, format_yuan, parse_yuan


class YuanField(StringField):
    """Text like '30' or '30.50' in, integer fen (or None when empty) out."""

    def process_formdata(self, valuelist):
        self.data = None
        self.raw = valuelist[0].strip() if valuelist else ""
        if not self.raw:
            return
        try:
            self.data = parse_yuan(self.raw)
        except MoneyError:
            self.data = None
            raise ValueError(_l("Enter an amount in yuan, e.g. 30 or 12.50."))

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else format_yuan(self.data, symbol="", trim=True).replace(",", "")


class IntegerField(wtforms.IntegerField):
    """wtforms' IntegerField, refusing a number of more than twelve digits as not a number.

    A 400-digit value would otherwise pass int() and then break NumberRange (which turns the
    number into a float): every integer field of the app is this one.
    """

    MAX_DIGITS = 12

    def process_formdata(self, valuelist):
        if valuelist and len(valuelist[0].strip().lstrip("+-")) > self.MAX_DIGITS:
            self.data = None
            raise ValueError(_l("Enter a whole number."))
        super().process_formdata(valuelist)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class BaseForm(FlaskForm):
    """Every form of the app: text with control characters (NUL and the like, which no
    printed slip can show and PostgreSQL refuses) is refused next to its field."""

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for field in self:
            if isinstance(field, PasswordField) or not isinstance(field.data, str):
                continue
            if _CONTROL.search(field.data):
                message = str(_l("Contains characters that cannot be printed."))
                if message not in field.errors:
                    field.errors.append(message)
                ok = False
        return ok
