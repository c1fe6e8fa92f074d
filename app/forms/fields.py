"""The one family of forms and the fields the office needs.

- `BaseForm`: every form (control characters refused, only-spaces is empty, hidden fields'
  messages shown in the form's alert).
- `VersionedForm`: drawn from one version of a record (a slip, an account entry); sent after
  the record changed, it is refused as out of date instead of applied.
- `OnceForm`: makes something (a slip, a payment, a tap on the phone): a request key drawn
  with it makes a double click or a resend count once.
- Fields: `YuanField` (yuan in, integer fen out), `IntegerField` (at most twelve digits),
  `WholeNumberField` (a plain whole number sent by the page: an id, a version).
"""
from __future__ import annotations

import re
import secrets

import wtforms
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from wtforms import Field, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, InputRequired, Optional, Regexp
from wtforms.widgets import HiddenInput

from app.domain.money import MoneyError, format_yuan, parse_yuan
from app.domain.numbers import MAX_ID, parse_int


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
            raise ValueError(_l("Enter an amount in yuan, e.g. 30 or 12.50.")) from None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return format_yuan(self.data, symbol="", trim=True).replace(",", "")


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


class WholeNumberField(Field):
    """A plain whole number sent by the page (an id, a version); anything else is refused
    with `message`."""

    widget = HiddenInput()

    def __init__(self, label=None, validators=None, message=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.message = message

    def process_formdata(self, valuelist):
        raw = valuelist[0].strip() if valuelist else ""
        self.data = parse_int(raw, maximum=MAX_ID) if raw else None
        if raw and self.data is None:
            raise ValueError(self.message)

    def _value(self):
        return "" if self.data is None else str(self.data)


def version_field(stale) -> WholeNumberField:
    """The version of the record a form was drawn from; missing or malformed: `stale`."""
    return WholeNumberField(message=stale, validators=[DataRequired(stale)])


def key_field(stale, *, required: bool = False) -> HiddenField:
    """A request key (letters, digits, dash, underscore); malformed (or, when `required`,
    missing): `stale`."""
    first = InputRequired(stale) if required else Optional()
    return HiddenField(validators=[first, Regexp(r"^[A-Za-z0-9_-]{8,64}$", message=stale)])


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _blank_is_empty(field) -> None:
    """Only spaces (also the full-width space of a Chinese input method, tabs, newlines) is
    nothing entered: a required field asks for it, the way it does for an empty one."""
    raw = field.raw_data
    if isinstance(field, PasswordField) or not raw or not all(isinstance(v, str) for v in raw):
        return
    if all(not v.strip() for v in raw):
        field.raw_data = [""]
        if isinstance(field.data, str):
            field.data = ""


class BaseForm(FlaskForm):
    """Every form of the app: text with control characters (NUL and the like, which no
    printed slip can show and PostgreSQL refuses) is refused next to its field; a hidden
    field's message (it has no place on screen) goes to the form's alert."""

    def _hidden(self) -> list:
        return []

    def validate(self, extra_validators=None) -> bool:
        for field in self:
            _blank_is_empty(field)
        ok = super().validate(extra_validators)
        for field in self:
            if isinstance(field, PasswordField) or not isinstance(field.data, str):
                continue
            if _CONTROL.search(field.data):
                message = str(_l("Contains characters that cannot be printed."))
                if message not in field.errors:
                    field.errors.append(message)
                ok = False
        hidden_errors_to_form(self, self._hidden())
        return ok


STALE_FORM = _l("This form is out of date. Look at it again and repeat.")


def new_key() -> str:
    return secrets.token_urlsafe(16)


class VersionedForm(BaseForm):
    """A form drawn from one version of a record: `version=` when it is drawn; sent after the
    record changed, the service refuses it (Conflict), and a missing or malformed version is
    refused here with the form's stale message."""

    version = version_field(STALE_FORM)

    def __init__(self, formdata=_Auto, *, version: int | None = None, **kwargs):
        super().__init__(formdata=formdata, **kwargs)
        self.fresh = formdata is None or not self.is_submitted()
        if self.fresh and version is not None:
            self.version.data = version

    def show_version(self, version: int) -> None:
        """Drawn again after a refusal: the screen now shows `version`."""
        self.version.raw_data = None
        self.version.data = version

    def _hidden(self) -> list:
        return [self.version, *super()._hidden()]


class OnceForm(BaseForm):
    """A form that makes something (a slip, a contact, a payment): a fresh request key every
    time it is drawn, so a double click or a resend makes it once (web.forms.save_once).

    The key is a hidden field (rendered by `hidden_tag()`). Making something without a key is
    refused (by save_once, or here by a form whose key is `key_field(..., required=True)`);
    the same form used to edit something needs none.
    """

    request_key = key_field(STALE_FORM)

    def __init__(self, formdata=_Auto, **kwargs):
        super().__init__(formdata=formdata, **kwargs)
        if formdata is None or not self.is_submitted():
            self.request_key.data = new_key()

    def renew(self, version: int | None = None) -> None:
        """Drawn again after a refusal: a retry is a new submission (and, for a versioned
        form, the screen now shows `version`)."""
        self.request_key.data = new_key()
        if version is not None and isinstance(self, VersionedForm):
            self.show_version(version)

    def _hidden(self) -> list:
        return [self.request_key, *super()._hidden()]


def hidden_errors_to_form(form, hidden) -> None:
    """Hidden fields have no place on screen: their messages go to the form's alert."""
    for field in hidden:
        for message in field.errors:
            if message not in form.form_errors:
                form.form_errors.append(message)
        field.errors = []
