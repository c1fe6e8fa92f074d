"""Reading the audit trail: the manager's search, newest first, by person, record, action and
the property's days. Writing it is `app.services.audit`."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from app.extensions import db
from app.models.audit import AuditEvent
from app.services import clock
from app.services.paging import one_page


@dataclass
class AuditFilter:
    """What the manager narrows the trail to; None means any."""

    actor_id: int | None = None
    entity_type: str | None = None
    action: str | None = None  # a full action code or its prefix ("pricelist.")
    entity_id: int | None = None
    start: date | None = None  # days in the property's time zone, both included
    end: date | None = None


def search(f: AuditFilter, page: int = 1, per_page: int = 50) -> tuple[list[AuditEvent], bool]:
    """One page of matching events, newest first, and whether older ones follow; days are the
    property's."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    if f.actor_id is not None:
        query = query.where(AuditEvent.actor_id == f.actor_id)
    if f.entity_type:
        query = query.where(AuditEvent.entity_type == f.entity_type)
    if f.action:
        query = query.where(AuditEvent.action.startswith(f.action))
    if f.entity_id is not None:
        query = query.where(AuditEvent.entity_id == f.entity_id)
    if f.start:
        query = query.where(AuditEvent.at >= clock.day_bounds(f.start)[0])
    if f.end:
        query = query.where(AuditEvent.at < clock.day_bounds(f.end)[1])
    return one_page(query, page, per_page)


def entity_types() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.entity_type).distinct()
                                   .order_by(AuditEvent.entity_type)))
