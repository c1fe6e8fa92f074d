from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from app.forms.fields import BaseForm


class LoginForm(BaseForm):
    username = StringField(_l("Username"), validators=[
        DataRequired(_l("Enter your username.")), Length(max=40)])
    password = PasswordField(_l("Password"), validators=[
        DataRequired(_l("Enter your password.")), Length(max=200)])


class ChangePasswordForm(BaseForm):
    current = PasswordField(_l("Current password"), validators=[
        DataRequired(_l("Enter your current password."))])
    password = PasswordField(_l("New password"), validators=[
        DataRequired(_l("Enter a new password.")),
        Length(max=200, message=_l("At most 200 characters."))])
    confirm = PasswordField(_l("Repeat new password"), validators=[
        EqualTo("password", _l("The two passwords differ."))])
