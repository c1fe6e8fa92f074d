"""The property's details (name, address, phone, time zone, currency)."""
from __future__ import annotations

from zoneinfo import available_timezones

from flask import g, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.domain.errors import DomainError
from app.extensions import db
from app.models.settings import PropertySettings
from app.services.audit import changes, record, snapshot

FIELDS = ("name", "name_en", "address", "phone", "timezone", "currency")


def property_settings() -> PropertySettings:
    """The settings row, or unsaved defaults before the manager has saved any."""
    if has_request_context() and "property_settings" in g:
        return g.property_settings
    row = db.session.scalar(select(PropertySettings).order_by(PropertySettings.id).limit(1))
    if row is None:
        row = PropertySettings(name="物业服务中心", name_en="Property Service Centre",
                               address="", phone="", timezone="Asia/Shanghai", currency="CNY")
    if has_request_context():
        g.property_settings = row
    return row


def update_settings(**values) -> PropertySettings:
    """Save the property's details. Raises DomainError for an unknown time zone or currency."""
    if values.get("timezone") not in available_timezones():  # "Asia" alone is a folder, not a zone
        raise DomainError(_l("Unknown time zone. Use a name such as Asia/Shanghai."), "timezone")
    currency = values.get("currency", "").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise DomainError(_l("Use a three-letter currency code such as CNY."), "currency")
    values["currency"] = currency
    row = db.session.scalar(select(PropertySettings).limit(1))
    if row is None:
        row = PropertySettings()
        db.session.add(row)
        before = {}
    else:
        before = snapshot(row, FIELDS)
    for key in FIELDS:
        setattr(row, key, values[key])
    db.session.flush()
    b, a = changes(before, snapshot(row, FIELDS))
    record("settings.update", "settings", row.id, row.name, before=b, after=a)
    if has_request_context():
        g.property_settings = row
    return row
