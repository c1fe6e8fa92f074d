"""Form fields the office needs: money in yuan stored as fen."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import ValidationError

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


def no_control_chars(form, field):
    if field.data and any(ord(c) < 32 and c not in "\r\n\t" for c in field.data):
        raise ValidationError(_l("Contains characters that cannot be printed."))
