"""The slip page's action forms (desk and supervisor). Each carries the slip version the page
showed, so an action on a slip that has moved on since is refused instead of applied."""
from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, SelectField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.domain.appointments import window_of
from app.domain.errors import DomainError
from app.forms.fields import VersionedForm, WholeNumberField, YuanField, version_field

STALE_PAGE = _l("This page is out of date. Look at the slip again.")


class SlipPageForm(VersionedForm):
    """One action's form on the slip page; its errors without a field go to the form's alert.

    Several of these share one page under prefixes (cancel-note, dispute-note...). The app's
    CSRFProtect checks the token of every POST, so the forms send the page's one token.
    """

    class Meta:
        csrf = False

    version = version_field(STALE_PAGE)


class HandBackForm(SlipPageForm):
    """The worker brought the signed slip back to the desk (返单)."""


def _note(label):
    return TextAreaField(label, validators=[
        DataRequired(_l("Give a reason.")),
        Length(max=300, message=_l("At most 300 characters."))], render_kw={"rows": 2})


class CancelForm(SlipPageForm):
    note = _note(_l("Reason for cancelling"))


class DisputeForm(SlipPageForm):
    note = _note(_l("What is disputed"))


class ResolveForm(SlipPageForm):
    note = _note(_l("How it was resolved"))


class WaiveForm(SlipPageForm):
    note = _note(_l("Why the fee is waived"))


class RequoteForm(SlipPageForm):
    note = _note(_l("What was agreed with the resident"))


class CloseRefusedForm(SlipPageForm):
    note = _note(_l("Why nothing is charged"))


class CallOutForm(SlipPageForm):
    """A refused job closed with a call-out fee: an item of the list in force, its price."""

    item_id = SelectField(_l("Call-out fee"), coerce=int, validate_choice=True,
                          validators=[InputRequired(_l("Choose the call-out fee."))])
    price = YuanField(_l("Price (yuan)"), validators=[Optional()],
                      description=_l("Empty: the list price."))
    note = _note(_l("Why a fee is charged"))

    def __init__(self, *args, items: list[tuple[int, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.item_id.choices = [(0, _l("Choose…")), *items]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and not self.item_id.data:
            self.item_id.errors = [_l("Choose the call-out fee.")]
            return False
        return ok


class HelperForm(SlipPageForm):
    """A helper added to (or taken off) a two-person job."""

    helper_id = WholeNumberField(_l("Helper"), message=_l("Choose a service worker as the helper."),
                                 validators=[DataRequired(_l("Choose a service worker as the "
                                                             "helper."))])


class WindowFields:
    """A visit's window as the office agrees it with the resident: a day, two times, and
    whether it ends the next day. Mixed into a form; `today` refuses a day gone by."""

    day = DateField(_l("Day"), validators=[InputRequired(_l("Enter the day agreed."))])
    window_start = TimeField(_l("From"), validators=[InputRequired(_l("Enter a time."))])
    window_end = TimeField(_l("Until"), validators=[InputRequired(_l("Enter a time."))])
    window_next_day = BooleanField(_l("Ends the next day"))
    today: date | None = None

    def window_ok(self) -> bool:
        """After the fields' own checks: the day not past, the end after the start."""
        if self.today is not None and self.day.data < self.today:
            self.day.errors = [*self.day.errors, _l("The day agreed cannot be in the past.")]
            return False
        try:
            self.window(UTC)
        except DomainError as err:
            self.window_end.errors = [*self.window_end.errors, err.message]
            return False
        return True

    def window(self, zone: tzinfo) -> tuple[datetime, datetime]:
        """The window agreed, in the property's zone (it may end the next day)."""
        return window_of(self.day.data, self.window_start.data, self.window_end.data, zone,
                         next_day=bool(self.window_next_day.data))


class RescheduleForm(WindowFields, SlipPageForm):
    """The new time agreed with the resident after nobody was home: a day and two times."""

    def __init__(self, *args, today: date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def validate(self, extra_validators=None) -> bool:
        return super().validate(extra_validators) and self.window_ok()


class PauseForm(RescheduleForm):
    """Unfinished work: why a second visit is needed, and when it is agreed for."""

    note = TextAreaField(_l("Why a second visit is needed"), validators=[
        DataRequired(_l("Give a reason.")), Length(max=300, message=_l("At most 300 characters."))],
        render_kw={"rows": 2})


class MoveForm(RescheduleForm):
    """The resident asked for another time: the new window, and what they said."""

    note = TextAreaField(_l("What the resident said"), validators=[
        Optional(), Length(max=300, message=_l("At most 300 characters."))],
        render_kw={"rows": 2})


FORMS: dict[str, type[SlipPageForm]] = {
    "cancel": CancelForm, "hand_back": HandBackForm, "reschedule": RescheduleForm,
    "dispute": DisputeForm, "resolve": ResolveForm, "requote": RequoteForm,
    "close_refused": CloseRefusedForm, "charge_call_out": CallOutForm, "waive": WaiveForm,
    "move": MoveForm, "pause": PauseForm,
}
