"""Writing the audit trail. Every service that changes a record calls record()."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from flask import has_request_context, request
from flask_login import current_user

from app.extensions import db
from app.models.audit import AuditEvent

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
