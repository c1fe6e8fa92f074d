"""The night's on-duty supervisor (值班主管) and the urgent alarm they answer first.

An urgent call still without a worker once its dispatch time has passed raises an alarm on
every board: on the on-duty supervisor's at once, on the others' (and the manager's) a few
minutes later if it is still unanswered. Setting a duty is in the audit trail; each turn is
kept as a row (who, from, until, set by whom).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.domain.errors import DomainError
from app.domain.roles import Role
from app.domain.slip_states import State
from app.domain.urgency import alarm_at, duty_ends
from app.extensions import db
from app.models.duty import NightDuty
from app.models.slips import Slip
from app.models.users import User
from app.services import audit, clock, live


def current(now: datetime | None = None) -> NightDuty | None:
    """The duty running now: the latest one set whose time covers `now`."""
    now = now or clock.now()
    return db.session.scalar(
        select(NightDuty).where(NightDuty.starts_at <= now, NightDuty.ends_at > now)
        .options(joinedload(NightDuty.supervisor))
        .order_by(NightDuty.set_at.desc(), NightDuty.id.desc()).limit(1))


def set_duty(supervisor_id: int | None, until: time | None, by: User) -> NightDuty:
    """`supervisor_id` is on duty from now until the next `until` (at most a day)."""
    supervisor = db.session.get(User, supervisor_id) if supervisor_id else None
    if supervisor is None or not supervisor.active or Role.SUPERVISOR not in supervisor.roles:
        raise DomainError(_l("Choose a supervisor."), "supervisor_id")
    if until is None:
        raise DomainError(_l("Enter the time the duty ends."), "until")
    now = clock.now()
    ends = duty_ends(clock.local(now), until)
    duty = NightDuty(supervisor=supervisor, starts_at=now, ends_at=ends, set_by=by, set_at=now)
    db.session.add(duty)
    db.session.flush()
    audit.record("duty.set", "night_duty", duty.id, supervisor.username,
                 after={"supervisor": supervisor.full_name, "ends_at": ends.isoformat()},
                 actor_id=by.id)
    live.changed()
    return duty


def end_duty(by: User) -> NightDuty:
    """The running duty ends now (the supervisor went home early, or it was set by mistake)."""
    duty = current()
    if duty is None:
        raise DomainError(_l("Nobody is on duty now."))
    now = clock.now()
    before = duty.ends_at
    duty.ends_at = max(now, duty.starts_at)  # from now on it covers no moment
    audit.record("duty.end", "night_duty", duty.id, duty.supervisor.username,
                 before={"ends_at": before.isoformat()},
                 after={"ends_at": duty.ends_at.isoformat()}, actor_id=by.id)
    live.changed()
    return duty


@dataclass(frozen=True)
class Alarm:
    slip: Slip
    at: datetime           # when this viewer's board raises it
    raised: bool           # already raised at the time the board is drawn
    late_minutes: int      # since the dispatch time, when raised


def alarms(tray: list[Slip], viewer: User, now: datetime,
           duty: NightDuty | None) -> list[Alarm]:
    """The urgent slips of the tray with the moment the viewer's board raises each alarm:
    the board shows those raised, and raises the others itself when their time comes."""
    cfg = current_app.config
    within = timedelta(minutes=cfg["URGENT_DISPATCH_MINUTES"])
    found = []
    for slip in tray:
        if not slip.urgent or slip.state != State.REGISTERED:
            continue
        at = alarm_at(slip.created_at, dispatch_within=within,
                      escalate_after=timedelta(minutes=cfg["URGENT_ESCALATE_MINUTES"]),
                      on_duty_id=duty.supervisor_id if duty else None, viewer_id=viewer.id)
        late = int((now - (slip.created_at + within)).total_seconds() // 60)
        found.append(Alarm(slip, at, at <= now, max(late, 0)))
    return found
