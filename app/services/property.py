"""Buildings, units and residents: finding them fast, editing them, importing them from CSV."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from app.domain.addresses import is_phone_like, is_phone_tail, query_key, unit_key
from app.domain.errors import DomainError
from app.extensions import db
from app.models.property import Building, Resident, ResidentKind, Unit
from app.services.audit import changes, record, snapshot

BUILDING_FIELDS = ("code", "name", "floors")
UNIT_FIELDS = ("building_id", "entrance", "number", "label", "area_m2", "note")
RESIDENT_FIELDS = ("unit_id", "name", "kind", "phone", "phone2", "notes", "active")
_BUILDING_CODE = re.compile(r"^[0-9A-Za-z]{1,10}$")
_UNIT_NUMBER = re.compile(r"^[0-9A-Za-z\-]{1,10}$")
_PHONE = re.compile(r"^[0-9+\-\s()]{5,30}$")


# ---- finding -----------------------------------------------------------------------------

@dataclass
class Match:
    unit: Unit
    residents: list[Resident]


def find(text: str, limit: int = 12) -> list[Match]:
    """Units matching a unit number (3-2-1502, 3栋2单元1502, 1502), a name or a phone.

    Each match lists the unit's current residents, the matching ones first.
    """
    text = text.strip()
    if not text:
        return []
    key = query_key(text)
    resident_hits: dict[int, list[int]] = {}
    unit_ids: list[int] = []
    if key is not None and (not is_phone_like(text) or "-" in key):
        # "12-1-1502" has as many digits as a landline: it may be a unit, listed first.
        unit_ids = list(db.session.scalars(
            select(Unit.id).where(_key_filter(key)).order_by(Unit.search_key).limit(limit)))
    if is_phone_like(text):
        digits = re.sub(r"\D", "", text)
        resident_hits = _residents_where(_phone_matches(lambda col: col.contains(digits)), limit)
    elif is_phone_tail(text) and len(unit_ids) < limit:
        # "6473" may be the end of a phone number (尾号): those residents follow the units.
        resident_hits = _residents_where(_phone_matches(lambda col: col.endswith(text)), limit)
    elif key is None:
        resident_hits = _residents_where(Resident.name.contains(text, autoescape=True), limit)
    unit_ids = (unit_ids + [u for u in resident_hits if u not in unit_ids])[:limit]
    if not unit_ids:
        return []
    units = db.session.scalars(
        select(Unit).where(Unit.id.in_(unit_ids))
        .options(selectinload(Unit.residents), selectinload(Unit.building))).all()
    by_id = {u.id: u for u in units}
    out = []
    for uid in unit_ids:
        unit = by_id[uid]
        hits = resident_hits.get(uid, [])
        current = unit.current_residents
        current.sort(key=lambda r: (r.id not in hits, r.kind != ResidentKind.OWNER, r.id))
        out.append(Match(unit, current))
    return out


def _residents_where(condition, limit: int) -> dict[int, list[int]]:
    """Current residents matching `condition`, as {unit id: [resident ids]} in query order."""
    hits: dict[int, list[int]] = {}
    rows = db.session.execute(select(Resident.unit_id, Resident.id)
                              .where(Resident.active.is_(True), condition).limit(limit))
    for unit_id, resident_id in rows:
        hits.setdefault(unit_id, []).append(resident_id)
    return hits


def _phone_matches(test):
    """`test` applied to either phone, separators ignored."""
    return or_(test(_digits_only(Resident.phone)), test(_digits_only(Resident.phone2)))


def _digits_only(column):
    """The column with the separators people type in phone numbers removed (0571-8888 6666)."""
    for sep in ("-", " ", "(", ")", "+"):
        column = func.replace(column, sep, "")
    return column


def _key_filter(key: str):
    """Which units a typed key means, so results narrow with every digit typed.

    "15" and "1502": units numbered 15…, 1502 (any building) and building 15's units;
    "3-15": building 3, unit number 15… in any entrance; "3-2-15": that key's prefix.
    """
    groups = key.split("-")
    if len(groups) == 1:
        return or_(func.lower(Unit.number).startswith(key), Unit.search_key.startswith(key + "-"))
    if len(groups) == 2:
        building, number = groups
        return or_(Unit.search_key.startswith(key),
                   Unit.search_key.like(f"{building}-%-{number}%"))
    return Unit.search_key.startswith(key)


def buildings() -> list[Building]:
    return list(db.session.scalars(select(Building).order_by(func.length(Building.code),
                                                             Building.code)))


def building_units(building: Building) -> tuple[list[Unit], dict[int, int]]:
    """A building's units in walking order (entrance, floor, door) and residents per unit."""
    units = list(db.session.scalars(
        select(Unit).where(Unit.building_id == building.id)
        .order_by(Unit.entrance, func.length(Unit.number), Unit.number)))
    counts = dict(db.session.execute(
        select(Resident.unit_id, func.count(Resident.id))
        .where(Resident.active.is_(True), Resident.unit_id.in_([u.id for u in units]))
        .group_by(Resident.unit_id)).all())
    return units, counts


# ---- buildings and units -------------------------------------------------------------------

def create_building(code: str, name: str = "", floors: int | None = None) -> Building:
    """A building, e.g. code '3', name '3栋'. Raises DomainError for a bad or taken code."""
    code = code.strip()
    if not _BUILDING_CODE.match(code):
        raise DomainError(_l("Use letters or digits for the building number (e.g. 3)."), "code")
    if _building_with_code(code) is not None:
        raise DomainError(_l("This building already exists."), "code")
    building = Building(code=code, name=(name.strip() or f"{code}栋"), floors=floors)
    db.session.add(building)
    db.session.flush()
    record("building.create", "building", building.id, building.name,
           after={"code": code, "name": building.name, "floors": floors})
    return building


def _building_with_code(code: str) -> int | None:
    """Building codes are unique whatever their case: 'a' and 'A' make the same unit keys."""
    return db.session.scalar(select(Building.id).where(func.lower(Building.code) == code.lower()))


def update_building(building: Building, code: str, name: str = "",
                    floors: int | None = None) -> Building:
    """Renumber or rename a building; every unit's label and search key follow the new number."""
    code = code.strip()
    if not _BUILDING_CODE.match(code):
        raise DomainError(_l("Use letters or digits for the building number (e.g. 3)."), "code")
    clash = _building_with_code(code)
    if clash is not None and clash != building.id:
        raise DomainError(_l("This building already exists."), "code")
    before = snapshot(building, BUILDING_FIELDS)
    building.code, building.name, building.floors = code, (name.strip() or f"{code}栋"), floors
    for unit in building.units:
        unit.relabel()
    db.session.flush()
    b, a = changes(before, snapshot(building, BUILDING_FIELDS))
    record("building.update", "building", building.id, building.name, before=b, after=a)
    return building


def _check_unit(building: Building, entrance: int | None, number: str, unit_id: int | None) -> str:
    number = number.strip()
    if not _UNIT_NUMBER.match(number):
        raise DomainError(_l("Use digits (and letters) for the unit number, e.g. 1502."), "number")
    if entrance is not None and not (1 <= entrance <= 99):
        raise DomainError(_l("The entrance must be between 1 and 99."), "entrance")
    key = unit_key(building.code, entrance, number)
    clash = db.session.scalar(select(Unit.id).where(Unit.search_key == key))
    if clash and clash != unit_id:
        raise DomainError(_l("This unit already exists."), "number")
    return number


def create_unit(building: Building, entrance: int | None, number: str, *,
                area_m2: int | None = None, note: str = "", audit: bool = True) -> Unit:
    """A unit (房号). Raises DomainError for a duplicate or malformed number."""
    number = _check_unit(building, entrance, number, None)
    unit = Unit(building=building, entrance=entrance, number=number, area_m2=area_m2,
                note=note.strip())
    unit.relabel()
    db.session.add(unit)
    db.session.flush()
    if audit:
        record("unit.create", "unit", unit.id, unit.label, after=snapshot(unit, UNIT_FIELDS))
    return unit


def update_unit(unit: Unit, building: Building, entrance: int | None, number: str, *,
                area_m2: int | None, note: str) -> Unit:
    """Correct a unit's address or details; the label every later slip prints follows."""
    before = snapshot(unit, UNIT_FIELDS)
    unit.number = _check_unit(building, entrance, number, unit.id)
    unit.building = building
    unit.entrance = entrance
    unit.area_m2 = area_m2
    unit.note = note.strip()
    unit.relabel()
    db.session.flush()
    b, a = changes(before, snapshot(unit, UNIT_FIELDS))
    record("unit.update", "unit", unit.id, unit.label, before=b, after=a)
    return unit


# ---- residents -------------------------------------------------------------------------------

def _clean_resident(name: str, kind: str, phone: str, phone2: str) -> tuple[str, str, str, str]:
    name = name.strip()
    if not name:
        raise DomainError(_l("Enter the resident's name."), "name")
    if len(name) > 40:
        raise DomainError(_l("The name is too long (at most 40 characters)."), "name")
    if kind not in {k.value for k in ResidentKind}:
        raise DomainError(_l("Choose owner or tenant."), "kind")
    phone, phone2 = phone.strip(), phone2.strip()
    if phone and not _PHONE.match(phone):
        raise DomainError(_l("This does not look like a phone number."), "phone")
    if phone2 and not _PHONE.match(phone2):
        raise DomainError(_l("This does not look like a phone number."), "phone2")
    return name, kind, phone, phone2


def add_resident(unit: Unit, name: str, kind: str, phone: str = "", phone2: str = "",
                 notes: str = "", *, audit: bool = True) -> Resident:
    """Record a resident of a unit. Raises DomainError for a missing name or bad phone."""
    name, kind, phone, phone2 = _clean_resident(name, kind, phone, phone2)
    if any(r.name == name and r.active for r in unit.residents):
        raise DomainError(_l("%(name)s is already recorded at this unit.", name=name), "name")
    resident = Resident(unit=unit, name=name, kind=kind, phone=phone, phone2=phone2,
                        notes=notes.strip())
    db.session.add(resident)
    db.session.flush()
    if audit:
        record("resident.create", "resident", resident.id, f"{unit.label} {name}",
               after=snapshot(resident, RESIDENT_FIELDS))
    return resident


def update_resident(resident: Resident, *, name: str, kind: str, phone: str, phone2: str,
                    notes: str, active: bool) -> Resident:
    """Correct a resident's details, or mark them moved out (active=False)."""
    before = snapshot(resident, RESIDENT_FIELDS)
    name, kind, phone, phone2 = _clean_resident(name, kind, phone, phone2)
    resident.name, resident.kind, resident.phone, resident.phone2 = name, kind, phone, phone2
    resident.notes = notes.strip()
    resident.active = active
    db.session.flush()
    b, a = changes(before, snapshot(resident, RESIDENT_FIELDS))
    record("resident.update", "resident", resident.id, f"{resident.unit.label} {name}",
           before=b, after=a)
    return resident


# ---- CSV import ---------------------------------------------------------------------------------

CSV_COLUMNS = ("building", "entrance", "unit", "name", "kind", "phone", "phone2", "notes")
# Chinese headers offices use in their spreadsheets, mapped to ours.
CSV_ALIASES = {
    "楼栋": "building", "栋": "building", "单元": "entrance", "房号": "unit", "房间": "unit",
    "姓名": "name", "住户": "name", "类型": "kind", "身份": "kind", "电话": "phone",
    "手机": "phone", "备用电话": "phone2", "备注": "notes",
}
KIND_WORDS = {"owner": "owner", "业主": "owner", "tenant": "tenant", "租户": "tenant",
              "": "owner"}
MAX_IMPORT_ROWS = 5000
MAX_IMPORT_ERRORS = 50


@dataclass
class ImportResult:
    units_created: int = 0
    residents_created: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)

    @property
    def ok(self) -> bool:
        return not self.errors


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves GBK by default
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DomainError(_l("The file is not text in UTF-8 or GBK. Save it as CSV and try again."),
                      "file")


def import_csv(data: bytes) -> ImportResult:
    """Import units and residents. All or nothing: any bad row and nothing is saved.

    Returns the counts, or the errors with their line numbers (the caller rolls back).
    """
    text = _decode(data)
    if not text.strip():
        raise DomainError(_l("The file is empty."), "file")
    if "\x00" in text:  # a binary or UTF-16 file; no database stores NUL in text anyway
        raise DomainError(_l("The file is not a valid CSV file."), "file")
    # strict: an unclosed quote is an error, not the rest of the file swallowed into one cell
    reader = csv.reader(io.StringIO(text), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise DomainError(_l("The file is empty."), "file") from None
    except csv.Error:
        raise DomainError(_l("The file is not a valid CSV file."), "file") from None
    columns = [CSV_ALIASES.get(h.strip(), h.strip().lower()) for h in header]
    missing = [c for c in ("building", "unit") if c not in columns]
    if missing:
        raise DomainError(_l("The first line must name the columns; missing: %(cols)s. "
                             "Expected: %(expected)s.", cols=", ".join(missing),
                             expected=",".join(CSV_COLUMNS)), "file")
    result = ImportResult()
    buildings = {b.code.lower(): b for b in db.session.scalars(select(Building))}
    units = {u.search_key: u for u in db.session.scalars(
        select(Unit).options(selectinload(Unit.residents)))}
    seen_residents: set[tuple[str, str]] = set()
    try:
        rows = list(reader)
    except csv.Error:  # e.g. a quote opened and never closed
        raise DomainError(_l("The file is not valid CSV from line %(num)d on (a quotation mark "
                             "opened and never closed?).", num=reader.line_num), "file") from None
    if len(rows) > MAX_IMPORT_ROWS:
        raise DomainError(_l("At most %(num)d rows per file.", num=MAX_IMPORT_ROWS), "file")
    for offset, raw in enumerate(rows):
        line = offset + 2  # the header is line 1
        if not any(cell.strip() for cell in raw):
            continue
        if len(raw) > len(columns):
            result.errors.append((line, _("More cells than columns in the header.")))
            continue
        row = dict(zip(columns, [c.strip() for c in raw]))
        try:
            _import_row(row, buildings, units, seen_residents, result)
        except DomainError as err:
            result.errors.append((line, str(err.message)))
        if len(result.errors) >= MAX_IMPORT_ERRORS:
            result.errors.append((line, _("Stopped after %(num)d errors.", num=MAX_IMPORT_ERRORS)))
            break
    if result.ok:
        record("property.import", "unit", None, "CSV",
               after={"units": result.units_created, "residents": result.residents_created})
    return result


def _import_row(row, buildings, units, seen_residents, result: ImportResult) -> None:
    code = row.get("building", "").removesuffix("栋").removesuffix("号楼").strip()
    if not code:
        raise DomainError(_l("The building is missing."))
    entrance_text = row.get("entrance", "").removesuffix("单元").strip()
    entrance = None
    if entrance_text:
        if not (entrance_text.isascii() and entrance_text.isdigit()) or len(entrance_text) > 2:
            raise DomainError(_l("The entrance must be a number: %(value)s", value=entrance_text))
        entrance = int(entrance_text)
    number = row.get("unit", "")
    if not number:
        raise DomainError(_l("The unit number is missing."))
    building = buildings.get(code.lower())
    if building is None:
        building = create_building(code)
        buildings[code.lower()] = building
    key = unit_key(building.code, entrance, number)
    unit = units.get(key)
    if unit is None:
        unit = create_unit(building, entrance, number, audit=False)
        units[key] = unit
        result.units_created += 1
    name = row.get("name", "")
    if not name:
        return  # a row with no resident just records the unit
    kind_word = row.get("kind", "").lower()
    if kind_word not in KIND_WORDS:
        raise DomainError(_l("Unknown resident type '%(value)s' (use owner/业主 or tenant/租户).",
                             value=row.get("kind", "")))
    if (key, name) in seen_residents:
        raise DomainError(_l("%(name)s appears twice for this unit in the file.", name=name))
    seen_residents.add((key, name))
    add_resident(unit, name, KIND_WORDS[kind_word], row.get("phone", ""), row.get("phone2", ""),
                 row.get("notes", ""), audit=False)
    result.residents_created += 1
