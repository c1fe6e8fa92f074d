"""The worker's action forms. Each carries the slip version it was drawn from and the tap's
own request key, so an old screen cannot act on a slip that moved on and a resent tap is
applied once."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from flask_wtf.form import _Auto
from wtforms import HiddenField, RadioField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from app.forms.fields import (
    OnceForm,
    VersionedForm,
    YuanField,
    key_field,
    version_field,
)
from app.forms.slip_page import WindowFields
from app.models.slips import PhotoKind

# The most a worker may agree at the door for one unit of an item: more is a typing error.
MAX_DOOR_PRICE_FEN = 100_000_00
STALE_PAGE = _l("This page is out of date. Open the job again.")


class ActionForm(VersionedForm, OnceForm):
    """A tap on one of the job's buttons: the slip version the screen showed, and the tap's
    own request key (required: the phone may send it again from a dead zone)."""

    version = version_field(STALE_PAGE)
    request_key = key_field(STALE_PAGE, required=True)


class PauseForm(WindowFields, ActionForm):
    """A second visit is needed (a part on order): the reason and the time agreed at the door."""

    note = TextAreaField(_l("Why a second visit is needed"), validators=[
        DataRequired(_l("Give a reason.")), Length(max=300, message=_l("At most 300 characters."))],
        render_kw={"rows": 2})

    def __init__(self, *args, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def validate(self, extra_validators=None) -> bool:
        return super().validate(extra_validators) and self.window_ok()


class CheckInForm(ActionForm):
    damage_note = TextAreaField(_l("Damage found before work (optional)"), validators=[
        Optional(), Length(max=1000, message=_l("At most 1000 characters."))],
        render_kw={"rows": 2})


class ReasonForm(ActionForm):
    """A refusal at the door or a dispute: the reason is required."""

    note = TextAreaField(_l("Reason"), validators=[
        DataRequired(_l("Give a reason.")), Length(max=300, message=_l("At most 300 characters."))],
        render_kw={"rows": 2})


def confirm_fee_form(slip, formdata=_Auto, **kwargs) -> ActionForm:
    """The fee form for this slip: one price field (p<line id>) per line whose price is agreed
    at the door, i.e. each range or workload line; fixed and free lines keep their price."""

    class ConfirmFeeForm(ActionForm):
        pass

    for line in slip.lines:
        if editable_price(line, slip):
            setattr(ConfirmFeeForm, f"p{line.id}", YuanField(
                line.name_zh, validators=[
                    InputRequired(_l("Enter the price agreed with the resident.")),
                    _at_most(MAX_DOOR_PRICE_FEN)],
                render_kw={"inputmode": "decimal", "autocomplete": "off"}))
    form = ConfirmFeeForm(formdata=formdata, **kwargs)
    if form.fresh:
        for line in slip.lines:
            field = getattr(form, f"p{line.id}", None)
            if field is not None:
                field.data = line.price_fen
    return form


def editable_price(line, slip) -> bool:
    """A price the worker agrees at the door: a range or workload item on a paid slip."""
    return not (slip.free or line.free) and (line.by_workload or line.spec.is_range)


def prices_of(form, slip) -> dict[int, int]:
    """{line id: fen} from a validated fee form."""
    return {line.id: getattr(form, f"p{line.id}").data for line in slip.lines
            if getattr(form, f"p{line.id}", None) is not None}


def _at_most(limit: int, message=None):
    def check(form, field):
        if field.data is not None and field.data > limit:
            raise ValidationError(message or _l("That price is not plausible. Check the amount."))
    return check


SATISFIED_CHOICES = [("yes", _l("Satisfied")), ("no", _l("Not satisfied"))]


class CompleteForm(ActionForm):
    """The acceptance: the resident's name, signature and word, and how they pay (the route
    is checked by the service, so a route the slip does not allow is told next to it)."""


    materials = TextAreaField(_l("Materials used"), validators=[
        Optional(), Length(max=1000, message=_l("At most 1000 characters."))],
        render_kw={"rows": 2, "placeholder": _l("e.g. 1 tap, 2 m pipe")})
    acceptance_name = StringField(_l("Resident's name"), validators=[
        DataRequired(_l("The resident's name is needed for the acceptance.")),
        Length(max=40, message=_l("At most 40 characters."))],
        render_kw={"autocomplete": "off"})
    signature = HiddenField(validators=[DataRequired(_l("The resident must sign on the screen."))])
    satisfied = RadioField(_l("Is the resident satisfied?"), choices=SATISFIED_CHOICES,
                           validators=[InputRequired(_l("Ask whether the resident is satisfied."))])
    remarks = TextAreaField(_l("Resident's remarks"), validators=[
        Optional(), Length(max=1000, message=_l("At most 1000 characters."))],
        render_kw={"rows": 2})
    pay_route = RadioField(_l("How the resident pays"), choices=[], validate_choice=False,
                           validators=[Optional()])
    # An errand only: what the purchases really cost (the view makes it required there).
    purchase_spent = YuanField(_l("What the purchases cost (yuan)"), validators=[
        Optional(), _at_most(MAX_DOOR_PRICE_FEN, _l("That amount is not plausible. "
                                                    "Check it."))],
        render_kw={"inputmode": "decimal", "autocomplete": "off"})


SPENT_NEEDED = _l("Enter what the purchases cost (zero if nothing was bought).")


def complete_form(slip, routes, formdata=_Auto, **kwargs) -> CompleteForm:
    """The completion form for this slip: the routes it may take (the slip's own first
    chosen), and for an errand a required cost of the purchases."""
    form = CompleteForm(formdata=formdata, **kwargs)
    form.pay_route.choices = [(r.value, label) for r, label in routes]
    if slip.errand:
        form.purchase_spent.validators = [InputRequired(SPENT_NEEDED),
                                          *form.purchase_spent.validators[1:]]
    if form.fresh:
        form.pay_route.data = slip.pay_route
    return form


PHOTO_KIND_CHOICES = [(PhotoKind.BEFORE.value, _l("Before")), (PhotoKind.AFTER.value, _l("After")),
                      (PhotoKind.DAMAGE.value, _l("Damage"))]


class PhotoForm(OnceForm):
    kind = RadioField(_l("The photo shows"), choices=PHOTO_KIND_CHOICES,
                      default=PhotoKind.BEFORE.value,
                      validators=[InputRequired(_l("Choose what the photo shows."))])
    photo = FileField(_l("Photo"), validators=[FileRequired(_l("Choose a photo."))],
                      render_kw={"accept": "image/*", "capture": "environment"})
