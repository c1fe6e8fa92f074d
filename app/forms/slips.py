"""The desk's slip form: priced lines from the list in force, the time window, the notes."""
from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional, Regexp

from app.domain.appointments import window_of
from app.domain.errors import DomainError
from app.domain.pricing import MAX_LINES, MAX_QUANTITY
from app.forms.fields import OnceForm, YuanField


class QuantityField(StringField):
    """A whole number of items, 1 to MAX_QUANTITY; anything else is refused next to the field."""

    def process_formdata(self, valuelist):
        self.data = None
        raw = valuelist[0].strip() if valuelist else ""
        if not raw:
            raise ValueError(_l("How many?"))
        sign = raw[:1] in "-+"
        digits = raw[1:] if sign else raw
        if not (digits.isascii() and digits.isdigit()) or len(digits) > 9:
            raise ValueError(_l("Enter a whole number of items."))
        value = -int(digits) if raw[0] == "-" else int(digits)
        if not 1 <= value <= MAX_QUANTITY:
            raise ValueError(_l("Quantity must be between 1 and %(max)s.", max=MAX_QUANTITY))
        self.data = value

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]  # what was typed, to be corrected
        return "" if self.data is None else str(self.data)


class DayField(StringField):
    """A day as a date input sends it (2026-11-23)."""

    def process_formdata(self, valuelist):
        self.data = None
        raw = valuelist[0].strip() if valuelist else ""
        if raw:
            try:
                self.data = date.fromisoformat(raw) if raw.isascii() and len(raw) == 10 else None
            except ValueError:
                self.data = None
            if self.data is None:
                raise ValueError(_l("Enter a date like 2026-11-23."))

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.isoformat() if self.data else ""


class ClockField(StringField):
    """A time of day as a time input sends it (14:30)."""

    def process_formdata(self, valuelist):
        self.data = None
        raw = valuelist[0].strip() if valuelist else ""
        if raw:
            try:
                self.data = time.fromisoformat(raw) if raw.isascii() and len(raw) in (5, 8) \
                    else None
            except ValueError:
                self.data = None
            if self.data is None:
                raise ValueError(_l("Enter a time like 14:30."))

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.strftime("%H:%M") if self.data else ""


class LineForm(Form):
    """One priced line: which item, how many, and (for a range or workload item) the price."""

    item_id = HiddenField(validators=[Regexp(r"^\d{1,18}$",
                                             message=_l("Choose an item from the price list."))])
    quantity = QuantityField(_l("Quantity"), default=1)
    price = YuanField(_l("Unit price (yuan)"))


class SlipForm(OnceForm):
    # One more than a slip holds: the service then says how many it takes.
    lines = FieldList(FormField(LineForm), min_entries=0, max_entries=MAX_LINES + 1)
    free = BooleanField(_l("Free repair: covered by the management fee (slip at zero)"))
    window_date = DayField(_l("Day"))
    window_start = ClockField(_l("From"))
    window_end = ClockField(_l("To"))
    window_next_day = BooleanField(_l("Ends the next day"))
    urgent = BooleanField(_l("Urgent: a worker within 30 minutes"))
    request = TextAreaField(_l("The job"), validators=[
        Optional(), Length(max=2000, message=_l("At most 2000 characters."))])
    notes = TextAreaField(_l("Special notes (pets, fragile items, health)"), validators=[
        Optional(), Length(max=1000, message=_l("At most 1000 characters."))])
    contact_name = StringField(_l("Contact"), validators=[
        Optional(), Length(max=40, message=_l("At most 40 characters."))])
    contact_phone = StringField(_l("Phone"), validators=[
        Optional(), Length(max=30, message=_l("At most 30 characters."))])
    # An errand (代办): what the worker buys for the resident, prepaid with the fee.
    purchase = YuanField(_l("Purchase money (代购款)"))
    # A follow-up slip: the number of the finished slip whose work it goes on with.
    follows = HiddenField(validators=[Optional(), Length(max=20)])

    def validate(self, extra_validators=None) -> bool:
        """The fields, then the window's parts at once, so every mistake shows on one submit
        (open_slip checks the window again)."""
        ok = super().validate(extra_validators)
        if any(f.errors for f in (self.window_date, self.window_start, self.window_end)):
            return False
        try:
            self._check_window()
        except DomainError as err:
            field = getattr(self, err.field)
            field.errors = [*field.errors, err.message]
            return False
        return ok

    def _check_window(self) -> None:
        day, start, end = self.window_date.data, self.window_start.data, self.window_end.data
        if day is None and start is None and end is None:
            return
        if day is None:
            raise DomainError(_l("Give the day of the visit."), "window_date")
        if start is None:
            raise DomainError(_l("Give the time the window starts."), "window_start")
        if end is None:
            raise DomainError(_l("Give the time the window ends."), "window_end")
        window_of(day, start, end, UTC, next_day=bool(self.window_next_day.data))

    def window(self, zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
        """The preferred time window as aware datetimes; (None, None) when left empty.

        Raises DomainError on the part that is missing or wrong.
        """
        self._check_window()
        day, start, end = self.window_date.data, self.window_start.data, self.window_end.data
        if day is None:
            return None, None
        return window_of(day, start, end, zone, next_day=bool(self.window_next_day.data))
