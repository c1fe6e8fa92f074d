"""The desk's reception forms: log a contact (with a resident added on the spot), answer one."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, RadioField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional, Regexp

from app.forms.fields import BaseForm, OnceForm
from app.forms.property import KIND_CHOICES
from app.models.reception import CHANNEL_LABELS, KIND_LABELS, Channel, ContactKind

NEW_RESIDENT = "new"
_PHONE = re.compile(r"^[0-9+\-\s()]{5,30}$")  # as app.services.property checks it


class ContactForm(OnceForm):
    """One call or visit. The unit and resident come from the finder; the rest is typed."""

    unit_id = HiddenField(validators=[Optional(), Regexp(
        r"^\d{1,18}$", message=_l("Choose the unit from the list."))])
    # A resident's id, NEW_RESIDENT, or empty (a caller who is not a recorded resident).
    resident_id = StringField(_l("Resident"), validators=[Optional(), Regexp(
        rf"^(\d{{1,18}}|{NEW_RESIDENT})$", message=_l("Choose a resident of this unit."))])
    new_name = StringField(_l("Name"), validators=[
        Optional(), Length(max=40, message=_l("At most 40 characters."))])
    new_kind = RadioField(_l("Resident type"), choices=KIND_CHOICES, default="owner",
                          validate_choice=False, validators=[Optional()])
    new_phone = StringField(_l("Phone"), validators=[Optional(), Length(max=30)])
    new_notes = StringField(_l("Special notes (pets, health, access)"), validators=[
        Optional(), Length(max=1000, message=_l("At most 1000 characters."))])
    caller_name = StringField(_l("Caller's name"), validators=[
        Optional(), Length(max=40, message=_l("At most 40 characters."))])
    caller_phone = StringField(_l("Call-back phone"), validators=[
        Optional(), Length(max=30, message=_l("At most 30 characters."))])
    channel = RadioField(_l("How"), default=Channel.PHONE.value, validate_choice=False,
                         choices=[(c.value, label) for c, label in CHANNEL_LABELS.items()],
                         validators=[AnyOf([c.value for c in Channel],
                                           message=_l("Choose how they contacted us."))])
    kind = RadioField(_l("Kind"), default=ContactKind.PAID.value, validate_choice=False,
                      choices=[(k.value, label) for k, label in KIND_LABELS.items()],
                      validators=[AnyOf([k.value for k in ContactKind],
                                        message=_l("Choose what kind of contact this is."))])
    request = TextAreaField(_l("What they asked"), validators=[
        DataRequired(_l("Write down what they asked.")),
        Length(max=2000, message=_l("At most 2000 characters."))])
    urgent = BooleanField(_l("Urgent (burst pipe, power out…)"))
    answer = TextAreaField(_l("Answer given"), validators=[
        Optional(), Length(max=2000, message=_l("At most 2000 characters."))])


    def validate(self, extra_validators=None) -> bool:
        """The fields, then someone new's name and phone at once, so every mistake shows on
        one submit (add_resident checks them again)."""
        ok = super().validate(extra_validators)
        if self.resident_id.data == NEW_RESIDENT:
            if not (self.new_name.data or "").strip() and not self.new_name.errors:
                self.new_name.errors = [*self.new_name.errors, _l("Enter the resident's name.")]
                ok = False
            phone = (self.new_phone.data or "").strip()
            if phone and not _PHONE.match(phone) and not self.new_phone.errors:
                self.new_phone.errors = [*self.new_phone.errors,
                                         _l("This does not look like a phone number.")]
                ok = False
        return ok


class AnswerForm(BaseForm):
    """Close an open contact with the answer given (or how a complaint was handed on)."""

    answer = TextAreaField(_l("Answer given"), validators=[
        DataRequired(_l("Write down the answer given.")),
        Length(max=2000, message=_l("At most 2000 characters."))])
