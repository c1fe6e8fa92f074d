"""The reception log: every contact the desk takes, and where it led."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.domain.errors import DomainError
from app.extensions import db
from app.models._types import utcnow
from app.models.property import Resident, Unit
from app.models.reception import (
    Channel,
    ContactKind,
    ReceptionEntry,
)
from app.models.users import User
from app.services import clock, live
from app.services.audit import record
from app.services.paging import one_page

# Kinds that lead to a slip; the others are answered or handed on from the log itself.
SLIP_KINDS = frozenset({ContactKind.FREE_REPAIR, ContactKind.PAID})


@dataclass
class Contact:
    channel: str
    kind: str
    request: str
    unit: Unit | None = None
    resident: Resident | None = None
    caller_name: str = ""
    caller_phone: str = ""
    urgent: bool = False
    answer: str = ""


def log_contact(c: Contact, actor: User) -> ReceptionEntry:
    """Write one contact into the log. Raises DomainError on the field at fault.

    An enquiry with its answer is closed on the spot; a paid or free job needs a unit, as
    its slip will.
    """
    if c.channel not in Channel.__members__.values():
        raise DomainError(_l("Choose how they contacted us."), "channel")
    if c.kind not in ContactKind.__members__.values():
        raise DomainError(_l("Choose what kind of contact this is."), "kind")
    if not c.request.strip():
        raise DomainError(_l("Write down what they asked."), "request")
    if c.kind in SLIP_KINDS and c.unit is None:
        raise DomainError(_l("A job needs the unit it is for."), "unit_id")
    if c.resident is not None and (c.unit is None or c.resident.unit_id != c.unit.id):
        raise DomainError(_l("This resident does not live at that unit."), "resident_id")
    entry = ReceptionEntry(channel=c.channel, kind=c.kind, unit=c.unit, resident=c.resident,
                           caller_name=(c.caller_name or (c.resident.name if c.resident else "")
                                        ).strip(),
                           caller_phone=(c.caller_phone or (c.resident.phone if c.resident
                                                            else "")).strip(),
                           request=c.request.strip(), urgent=c.urgent, answer=c.answer.strip(),
                           taken_by=actor)
    if c.kind == ContactKind.ENQUIRY and entry.answer:
        entry.closed_at = utcnow()
    db.session.add(entry)
    db.session.flush()
    record("reception.log", "reception", entry.id, c.unit.label if c.unit else entry.caller_name,
           after={"kind": c.kind, "channel": c.channel})
    live.changed()
    return entry


def close(entry: ReceptionEntry, answer: str) -> ReceptionEntry:
    """Answer an enquiry (or note how a complaint was handed on) and close the entry."""
    if entry.is_closed:
        raise DomainError(_l("This contact is already closed."))
    if not answer.strip():
        raise DomainError(_l("Write down the answer given."), "answer")
    entry.answer = answer.strip()
    entry.closed_at = utcnow()
    db.session.flush()
    record("reception.close", "reception", entry.id, entry.caller_name)
    live.changed()
    return entry


@dataclass
class LogFilter:
    day: date | None = None
    kind: str | None = None
    clerk_id: int | None = None


def search(f: LogFilter, page: int = 1, per_page: int = 50) -> tuple[list[ReceptionEntry], bool]:
    """One page of the log, newest first, with each entry's slips loaded for the follow-up."""
    query = (select(ReceptionEntry).order_by(ReceptionEntry.id.desc())
             .options(selectinload(ReceptionEntry.slips)))
    if f.day:
        start, end = clock.day_bounds(f.day)
        query = query.where(ReceptionEntry.at >= start, ReceptionEntry.at < end)
    if f.kind:
        query = query.where(ReceptionEntry.kind == f.kind)
    if f.clerk_id:
        query = query.where(ReceptionEntry.taken_by_id == f.clerk_id)
    return one_page(query, page, per_page)
