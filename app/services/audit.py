"""Writing the audit trail. Every service that changes a record calls record()."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db
from app.models.audit import AuditEvent
from app.services.paging import one_page

_acting: ContextVar[int | None] = ContextVar("acting", default=None)


@contextmanager
def acting_as(user) -> Iterator[None]:
    """Work done outside a request (CLI, demo seeding) is recorded under this person."""
    token = _acting.set(user.id)
    try:
        yield
    finally:
        _acting.reset(token)


def record(action: str, entity_type: str, entity_id: int | None, summary: str = "", *,
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
           actor_id: int | None = None) -> AuditEvent:
    """Append one audit row. The actor: as given, else acting_as(), else the signed-in person.

    `summary` names the record (a username, a unit label, v2) and is never a sentence, so the
    audit page can show the action itself in the reader's language.
    """
    if actor_id is None:
        actor_id = _acting.get()
    if actor_id is None and has_request_context() and current_user.is_authenticated:
        actor_id = current_user.id
    ip = (request.remote_addr or "") if has_request_context() else ""
    event = AuditEvent(action=action, entity_type=entity_type, entity_id=entity_id,
                       summary=summary[:300], before=before, after=after,
                       actor_id=actor_id, ip=ip)
    db.session.add(event)
    return event


def snapshot(obj, fields: tuple[str, ...]) -> dict[str, Any]:
    """The named attributes of a record, JSON-ready, for before/after columns."""
    out = {}
    for f in fields:
        v = getattr(obj, f)
        out[f] = v.isoformat() if hasattr(v, "isoformat") else v
    return out


def changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict, dict]:
    """Only the keys whose values differ, as (before, after)."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


# ---- reading the trail -------------------------------------------------------------------

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
    from app.services import clock  # the clock reads settings, which write audit rows
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
