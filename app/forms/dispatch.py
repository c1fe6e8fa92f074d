"""The dispatch board's small forms: each carries the slip version its card was drawn from."""
from __future__ import annotations

from datetime import time

from flask_babel import lazy_gettext as _l
from wtforms import DateTimeLocalField, StringField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.forms.fields import BaseForm, VersionedForm, WholeNumberField, version_field

STALE_FORM = _l("This card was out of date. The board has been refreshed: look at the slip again.")


class SlipActionForm(VersionedForm):
    """A button on a card: only the slip's version, so a card drawn before a change is refused."""

    version = version_field(STALE_FORM)
    card_form = ""  # which of a card's forms, when a refused one is drawn again


class DispatchForm(SlipActionForm):
    """Assign or reassign: the worker picked on the card and, if agreed, a new time window."""

    worker_id = WholeNumberField(_l("Worker"), message=_l("Choose a worker."),
                                 validators=[DataRequired(_l("Choose a worker."))])
    window_start = DateTimeLocalField(
        _l("New time from"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        invalid_value_message=_l("Enter a date and time."), validators=[Optional()])
    window_end = DateTimeLocalField(
        _l("until"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        invalid_value_message=_l("Enter a date and time."), validators=[Optional()])
    note = StringField(_l("Reason"), validators=[
        Optional(), Length(max=300, message=_l("At most 300 characters."))])


class UnassignForm(SlipActionForm):
    """Take the slip back to the tray; the reason is needed once someone was at the door."""

    card_form = "unassign"

    note = StringField(_l("Reason"), validators=[
        Optional(), Length(max=300, message=_l("At most 300 characters."))])


class RejectPriceForm(SlipActionForm):
    """Refuse the price a worker asked for: the reason goes back to the worker's phone."""

    note = StringField(_l("Reason"), validators=[
        DataRequired(_l("Give a reason.")), Length(max=300, message=_l("At most 300 characters."))])


class DutyForm(BaseForm):
    """Who is on duty tonight, until when (a clock time: the next time it comes round)."""

    supervisor_id = WholeNumberField(_l("Supervisor on duty"), message=_l("Choose a supervisor."),
                                     validators=[DataRequired(_l("Choose a supervisor."))])
    until = TimeField(_l("Until"), default=time(8, 0),
                      validators=[InputRequired(_l("Enter the time the duty ends."))])


class EndDutyForm(BaseForm):
    """End the running duty now (nothing to fill in but the CSRF token)."""
