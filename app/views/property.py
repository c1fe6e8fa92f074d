"""Buildings, units and residents: find as you type; the manager edits and imports."""
from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from app.domain.errors import DomainError
from app.domain.permissions import Perm
from app.extensions import db
from app.forms.property import BuildingForm, ImportForm, ResidentForm, UnitForm
from app.models import Building, Resident, Unit
from app.services import property as prop
from app.web.args import int_arg
from app.web.forms import form_errors_from, form_status, save_form, save_once
from app.web.guards import require
from app.web.render import page_or_partial

bp = Blueprint("property", __name__, url_prefix="/property")


@bp.route("/find")
@require(Perm.PROPERTY_VIEW)
def find():
    """Units and residents matching a unit number, a name or a phone, as the clerk types."""
    q = request.args.get("q", "")[:60]
    return page_or_partial("property/find.html", "property/_matches.html",
                           q=q, matches=prop.find(q))


@bp.route("/units")
@require(Perm.PROPERTY_VIEW)
def units():
    """Every unit of one building, with how many residents each has."""
    buildings = prop.buildings()
    chosen = int_arg("building")
    building = next((b for b in buildings if b.id == chosen), buildings[0] if buildings else None)
    units, counts = prop.building_units(building) if building else ([], {})
    return render_template("property/units.html", buildings=buildings, building=building,
                           units=units, counts=counts)


@bp.route("/units/<int:unit_id>")
@require(Perm.PROPERTY_VIEW)
def unit(unit_id: int):
    """A unit's card: address, residents, their phones and special notes."""
    unit = db.session.get(Unit, unit_id) or abort(404)
    return render_template("property/unit.html", unit=unit)


@bp.route("/buildings/new", methods=["GET", "POST"])
@require(Perm.PROPERTY_EDIT)
def building_new():
    """Add a building."""
    form = BuildingForm()
    saved, building = save_once(form, Building, lambda: prop.create_building(
        form.code.data, form.name.data or "", form.floors.data))
    if saved:
        flash(_("Building %(name)s added.", name=building.name), "success")
        return redirect(url_for("property.units", building=building.id))
    return render_template("property/building_form.html", form=form), form_status(form)


@bp.route("/buildings/<int:building_id>/edit", methods=["GET", "POST"])
@require(Perm.PROPERTY_EDIT)
def building_edit(building_id: int):
    """Rename a building or correct its floors; its units' labels follow."""
    building = db.session.get(Building, building_id) or abort(404)
    form = BuildingForm(obj=building if request.method == "GET" else None)
    saved, _done = save_form(form, lambda: prop.update_building(
        building, form.code.data, form.name.data or "", form.floors.data))
    if saved:
        flash(_("Saved."), "success")
        return redirect(url_for("property.units", building=building.id))
    return render_template("property/building_form.html", form=form, building=building), \
        form_status(form)


def _unit_form(obj=None) -> UnitForm:
    form = UnitForm(obj=obj)
    form.building_id.choices = [(b.id, b.name) for b in prop.buildings()]
    return form


def _unit_fields(form: UnitForm) -> dict:
    return {"building": db.session.get(Building, form.building_id.data),
            "entrance": form.entrance.data, "number": form.number.data,
            "area_m2": form.area_m2.data, "note": form.note.data or ""}


@bp.route("/units/new", methods=["GET", "POST"])
@require(Perm.PROPERTY_EDIT)
def unit_new():
    """Add a unit to a building."""
    form = _unit_form()
    if request.method == "GET":
        form.building_id.data = int_arg("building")
    saved, unit = save_once(form, Unit, lambda: prop.create_unit(**_unit_fields(form)))
    if saved:
        flash(_("Unit %(label)s added.", label=unit.label), "success")
        return redirect(url_for("property.unit", unit_id=unit.id))
    return render_template("property/unit_form.html", form=form, unit=None), form_status(form)


@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
@require(Perm.PROPERTY_EDIT)
def unit_edit(unit_id: int):
    """Correct a unit's address or details."""
    unit = db.session.get(Unit, unit_id) or abort(404)
    form = _unit_form(obj=unit if request.method == "GET" else None)
    saved, _done = save_form(form, lambda: prop.update_unit(unit, **_unit_fields(form)))
    if saved:
        flash(_("Saved."), "success")
        return redirect(url_for("property.unit", unit_id=unit.id))
    return render_template("property/unit_form.html", form=form, unit=unit), form_status(form)


@bp.route("/units/<int:unit_id>/residents/new", methods=["GET", "POST"])
@require(Perm.PROPERTY_EDIT)
def resident_new(unit_id: int):
    """Record a resident of a unit."""
    unit = db.session.get(Unit, unit_id) or abort(404)
    form = ResidentForm()
    saved, _done = save_once(form, Resident, lambda: prop.add_resident(
        unit, form.name.data, form.kind.data, form.phone.data or "", form.phone2.data or "",
        form.notes.data or ""))
    if saved:
        flash(_("Resident added."), "success")
        return redirect(url_for("property.unit", unit_id=unit.id))
    return render_template("property/resident_form.html", form=form, unit=unit,
                           resident=None), form_status(form)


@bp.route("/residents/<int:resident_id>/edit", methods=["GET", "POST"])
@require(Perm.PROPERTY_EDIT)
def resident_edit(resident_id: int):
    """Correct a resident's details or mark them moved out."""
    resident = db.session.get(Resident, resident_id) or abort(404)
    form = ResidentForm(obj=resident if request.method == "GET" else None)
    saved, _done = save_form(form, lambda: prop.update_resident(
        resident, name=form.name.data, kind=form.kind.data, phone=form.phone.data or "",
        phone2=form.phone2.data or "", notes=form.notes.data or "", active=form.active.data))
    if saved:
        flash(_("Saved."), "success")
        return redirect(url_for("property.unit", unit_id=resident.unit_id))
    return render_template("property/resident_form.html", form=form, unit=resident.unit,
                           resident=resident), form_status(form)


@bp.route("/import", methods=["GET", "POST"])
@require(Perm.PROPERTY_IMPORT)
def import_csv():
    """Import units and residents from a spreadsheet saved as CSV: all rows or none."""
    form = ImportForm()
    result = None
    if form.validate_on_submit():
        try:
            result = prop.import_csv(form.file.data.read())
        except DomainError as err:
            form_errors_from(err, form)
        else:
            if result.ok:
                flash(_("Imported: %(units)d new units, %(residents)d residents.",
                        units=result.units_created, residents=result.residents_created),
                      "success")
                return redirect(url_for("property.units"))
    # a refused file answers 422: the transaction boundary rolls back every row of it
    status = 422 if form.errors or form.form_errors or (result and not result.ok) else 200
    return render_template("property/import.html", form=form, result=result), status


@bp.route("/import/template.csv")
@require(Perm.PROPERTY_IMPORT)
def import_template():
    """A CSV with the expected columns and two example rows."""
    body = ",".join(prop.CSV_COLUMNS) + "\r\n" + \
        "3,2,1502,张伟,owner,13800001111,,养狗\r\n" + "3,2,1502,李娜,tenant,13900002222,,\r\n"
    return Response("\ufeff" + body, mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=units-template.csv"})
