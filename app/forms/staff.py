from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectMultipleField, StringField, widgets
from wtforms.validators import DataRequired, Length, Optional, Regexp

from app.domain.roles import ROLE_LABELS, ROLE_ORDER
from app.forms.fields import BaseForm, OnceForm


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _roles_field():
    return MultiCheckboxField(_l("Roles"),
                              choices=[(r.value, ROLE_LABELS[r.value]) for r in ROLE_ORDER],
                              validators=[DataRequired(_l("Give the account at least one role."))])


class StaffForm(OnceForm):
    full_name = StringField(_l("Name"), validators=[
        DataRequired(_l("Enter the person's name.")), Length(max=60)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=30)])
    roles = _roles_field()


class NewStaffForm(StaffForm):
    username = StringField(_l("Username"), validators=[
        DataRequired(_l("Enter a username.")), Length(max=40),
        Regexp(r"^[A-Za-z0-9_.\-]+$",
               message=_l("Letters, digits, dot, dash and underscore only."))])
    password = PasswordField(_l("Initial password"), validators=[
        DataRequired(_l("Enter a password.")),
        Length(max=200, message=_l("At most 200 characters."))])


class ResetPasswordForm(BaseForm):
    password = PasswordField(_l("New password"), validators=[
        DataRequired(_l("Enter a password.")),
        Length(max=200, message=_l("At most 200 characters."))])
