"""The cashier's forms. Every form that moves money carries its own request key (a fresh one
each time it is drawn), so a double click or a resend records the money once; a form about a
slip also carries the slip version it was drawn from, so a stale screen cannot pay."""
from __future__ import annotations

import secrets

from flask_babel import lazy_gettext as _l
from flask_wtf.form import _Auto
from wtforms import HiddenField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Regexp
from wtforms.widgets import HiddenInput

from app.forms.fields import BaseForm, IntegerField, YuanField
from app.models.billing import METHOD_LABELS, Method

STALE_FORM = _l("This form is out of date. Look at it again and repeat.")
MONEY_METHODS = (Method.CASH, Method.WECHAT, Method.ALIPAY, Method.CARD, Method.BANK)
METHOD_CHOICES = [(m.value, METHOD_LABELS[m]) for m in MONEY_METHODS]
AMOUNT_REQUIRED = _l("Enter an amount above zero.")


def new_key() -> str:
    return secrets.token_urlsafe(16)


class MoneyForm(BaseForm):
    """A form that records money once: a fresh request key every time it is drawn."""

    request_key = HiddenField(validators=[
        InputRequired(STALE_FORM), Regexp(r"^[A-Za-z0-9_-]{8,64}$", message=STALE_FORM)])

    def __init__(self, formdata=_Auto, **kwargs):
        super().__init__(formdata=formdata, **kwargs)
        if formdata is None or not self.is_submitted():
            self.request_key.data = new_key()

    def renew(self) -> None:
        """Drawn again after a refusal: a retry is a new submission."""
        self.request_key.data = new_key()

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        # Hidden fields have no place on screen: their message goes to the form's alert.
        for hidden in self._hidden():
            for message in hidden.errors:
                if message not in self.form_errors:
                    self.form_errors.append(message)
            hidden.errors = []
        return ok

    def _hidden(self):
        return [self.request_key]


class SlipMoneyForm(MoneyForm):
    """Money for one slip: also the slip version the form was drawn from."""

    version = IntegerField(widget=HiddenInput(), validators=[
        InputRequired(STALE_FORM), NumberRange(min=1, max=2**31 - 1, message=STALE_FORM)])

    def _hidden(self):
        return [self.request_key, self.version]


class PayForm(SlipMoneyForm):
    """Take the payment for a finished slip (or an errand's prepayment)."""

    amount = YuanField(_l("Amount (yuan)"), validators=[InputRequired(AMOUNT_REQUIRED)])
    method = RadioField(_l("Paid by"), choices=METHOD_CHOICES, default=Method.CASH.value,
                        validators=[InputRequired(_l("Choose how the money was paid."))])
    payer_name = StringField(_l("Payer"), validators=[
        Length(max=40, message=_l("At most 40 characters."))])
    note = StringField(_l("Note"), validators=[
        Length(max=300, message=_l("At most 300 characters."))])


class ErrandReturnForm(SlipMoneyForm):
    """An errand back: collect the difference, or give the change back."""

    method = RadioField(_l("Paid by"), choices=METHOD_CHOICES, default=Method.CASH.value,
                        validators=[InputRequired(_l("Choose how the money was paid."))])
    payer_name = StringField(_l("Payer"), validators=[
        Length(max=40, message=_l("At most 40 characters."))])


class DrawForm(SlipMoneyForm):
    """One button: draw the slip's fee from the tenant's deposit."""


class TopUpForm(MoneyForm):
    amount = YuanField(_l("Amount (yuan)"), validators=[InputRequired(AMOUNT_REQUIRED)])
    method = RadioField(_l("Paid by"), choices=METHOD_CHOICES, default=Method.CASH.value,
                        validators=[InputRequired(_l("Choose how the money was paid."))])
    payer_name = StringField(_l("Payer"), validators=[
        Length(max=40, message=_l("At most 40 characters."))])
    note = StringField(_l("Note"), validators=[
        Length(max=300, message=_l("At most 300 characters."))])


class RefundRequestForm(BaseForm):
    """Ask the manager to pay deposit money back (nothing moves until it is paid out)."""

    amount = YuanField(_l("Amount (yuan)"), validators=[InputRequired(AMOUNT_REQUIRED)])
    reason = TextAreaField(_l("Reason"), validators=[
        DataRequired(_l("Give a reason.")), Length(max=300, message=_l("At most 300 characters."))])


class PayRefundForm(MoneyForm):
    method = RadioField(_l("Paid out by"), choices=METHOD_CHOICES, default=Method.CASH.value,
                        validators=[InputRequired(_l("Choose how the money was paid."))])


class PayStatementForm(MoneyForm):
    amount = YuanField(_l("Amount (yuan)"), validators=[InputRequired(AMOUNT_REQUIRED)])
    method = RadioField(_l("Paid by"), choices=METHOD_CHOICES, default=Method.CASH.value,
                        validators=[InputRequired(_l("Choose how the money was paid."))])
    payer_name = StringField(_l("Payer"), validators=[
        Length(max=40, message=_l("At most 40 characters."))])
    note = StringField(_l("Note"), validators=[
        Length(max=300, message=_l("At most 300 characters."))])


class VoidForm(MoneyForm):
    reason = TextAreaField(_l("Reason for voiding"), validators=[
        DataRequired(_l("Give a reason.")), Length(max=300, message=_l("At most 300 characters."))])


class CashCountForm(BaseForm):
    counted = YuanField(_l("Cash counted in the drawer (yuan)"), validators=[
        InputRequired(_l("Enter the cash counted (zero or more)."))])
    note = StringField(_l("Note"), validators=[
        Length(max=300, message=_l("At most 300 characters."))])


class MonthEndForm(BaseForm):
    month = StringField(_l("Month"), validators=[DataRequired(_l("Give the month as YYYY-MM."))])
