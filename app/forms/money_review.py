"""The supervisor's and the manager's money forms: review or reverse an owner's account entry,
decide a deposit refund. Validation only; the billing service says what is allowed."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from app.forms.fields import BaseForm, VersionedForm, version_field

STALE = _l("This page was out of date. Look at it again.")


class ReviewEntryForm(VersionedForm):
    """Review: the slip's version the page was drawn from, so a slip that moved on is refused."""

    version = version_field(STALE)


class ReverseEntryForm(BaseForm):
    """Reverse an entry: the reason is required and kept with the correction."""

    note = StringField(_l("Reason for reversing"), validators=[
        DataRequired(_l("Give a reason.")), Length(max=300, message=_l("At most 300 characters."))])


class RefundDecisionForm(VersionedForm):
    """Approve or refuse a deposit refund, on the version the page showed; refusing needs a
    note (the service says so next to it)."""

    version = version_field(STALE)
    decision = StringField(validators=[AnyOf(("approve", "refuse"),
                                             message=_l("Approve or refuse the refund."))])
    note = TextAreaField(_l("Note"), validators=[
        Optional(), Length(max=300, message=_l("At most 300 characters."))],
        render_kw={"rows": 2})
