"""How the audit trail reads on screen: actions, record types and fields in the reader's
language, values as people write them (yuan, yes/no, role names) rather than stored codes."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from app.domain.money import format_yuan
from app.domain.pricing import DEPARTMENT_LABELS
from app.domain.roles import ROLE_LABELS

ACTIONS = {
    "user.login": _l("Signed in"),
    "user.locked": _l("Account locked after wrong passwords"),
    "user.create": _l("Staff account created"),
    "user.update": _l("Staff account changed"),
    "user.reset_password": _l("Password set"),
    "user.activate": _l("Account reactivated"),
    "user.deactivate": _l("Account deactivated"),
    "settings.update": _l("Property settings changed"),
    "building.create": _l("Building added"),
    "building.update": _l("Building changed"),
    "unit.create": _l("Unit added"),
    "unit.update": _l("Unit changed"),
    "resident.create": _l("Resident added"),
    "resident.update": _l("Resident changed"),
    "property.import": _l("Units and residents imported"),
    "property.seed": _l("Demo property loaded"),
    "pricelist.draft": _l("Price-list draft opened"),
    "pricelist.item_add": _l("Item added to the draft"),
    "pricelist.item_update": _l("Item changed in the draft"),
    "pricelist.item_remove": _l("Item removed from the draft"),
    "pricelist.approve": _l("Price list approved"),
    "pricelist.discard": _l("Price-list draft discarded"),
    "category.create": _l("Price-list category added"),
}

ENTITIES = {
    "user": _l("Staff account"),
    "settings": _l("Property settings"),
    "building": _l("Building"),
    "unit": _l("Unit"),
    "resident": _l("Resident"),
    "price_list": _l("Price list"),
    "category": _l("Price-list category"),
}

FIELDS = {
    "username": _l("Username"), "full_name": _l("Name"), "name": _l("Name"),
    "phone": _l("Phone"), "phone2": _l("Second phone"), "roles": _l("Roles"),
    "locked_until": _l("Locked until"), "kind": _l("Resident type"),
    "notes": _l("Special notes"), "note": _l("Note"), "active": _l("Active"),
    "unit_id": _l("Unit"), "building_id": _l("Building"), "code": _l("Code"),
    "floors": _l("Floors"), "entrance": _l("Entrance (单元)"), "number": _l("Number"),
    "label": _l("Unit"), "area_m2": _l("Floor area (m²)"), "name_zh": _l("Name (Chinese)"),
    "name_en": _l("Name (English)"), "unit": _l("Charged per"), "category_id": _l("Category"),
    "price_min_fen": _l("Lowest price"), "price_max_fen": _l("Highest price"),
    "by_workload": _l("Priced by workload"), "free": _l("Free"), "department": _l("Department"),
    "effective_date": _l("In force from"), "items": _l("Items"), "based_on": _l("From version"),
    "units": _l("Units"), "residents": _l("Residents"), "address": _l("Address"),
    "timezone": _l("Time zone"), "currency": _l("Currency"),
}


def action_label(code: str) -> str:
    return str(ACTIONS.get(code, code))


def entity_label(code: str) -> str:
    return str(ENTITIES.get(code, code))


def _value(field: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if field.endswith("_fen") and isinstance(value, int):
        return format_yuan(value)
    if isinstance(value, bool):
        return str(_l("yes") if value else _l("no"))
    if field == "roles" and isinstance(value, list):
        return ", ".join(str(ROLE_LABELS.get(r, r)) for r in value)
    if field == "kind":
        return str({"owner": _l("Owner"), "tenant": _l("Tenant")}.get(value, value))
    if field == "department":
        return str(DEPARTMENT_LABELS.get(value, value))
    if field == "category_id":
        return _category_name(value)
    if field == "locked_until" and isinstance(value, str):
        from datetime import datetime

        from app.web.filters import local_time
        return local_time(datetime.fromisoformat(value))
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def _category_name(category_id) -> str:
    from app.extensions import db
    from app.models import Category
    from app.web.filters import localized
    category = db.session.get(Category, category_id)  # a handful per page, from the identity map
    return localized(category) if category else str(category_id)


def change_rows(event) -> list[tuple[str, str, str]]:
    """(field, before, after) for each field the event names, formatted for reading.

    A new record (nothing before) lists only the fields it was given a value for.
    """
    before, after = event.before or {}, event.after or {}
    fields = list(after) + [f for f in before if f not in after]
    if not before:  # zero is a value worth showing; False and empty are not
        fields = [f for f in fields if after.get(f) is not False and after.get(f) not in (None, "")]
    return [(str(FIELDS.get(f, f)), _value(f, before.get(f)) if f in before else "",
             _value(f, after.get(f)) if f in after else "") for f in fields]
