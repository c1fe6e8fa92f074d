"""The cashier's forms. Every form that moves money carries its own request key (a fresh one
each time it is drawn), so a double click or a resend records the money once; a form about a
slip also carries the slip version it was drawn from, so a stale screen cannot pay."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from app.forms.fields import BaseForm, OnceForm, VersionedForm, YuanField
from app.models.billing import METHOD_LABELS, Method

MONEY_METHODS = (Method.CASH, Method.WECHAT, Method.ALIPAY, Method.CARD, Method.BANK)
METHOD_CHOICES = [(m.value, METHOD_LABELS[m]) for m in MONEY_METHODS]
AMOUNT_REQUIRED = _l("Enter an amount above zero.")


class MoneyForm(OnceForm):
    """A form that records money once: a fresh request key every time it is drawn."""


class SlipMoneyForm(VersionedForm, MoneyForm):
    """Money for one slip: also the slip version the form was drawn from."""


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


class RefundRequestForm(OnceForm):
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
