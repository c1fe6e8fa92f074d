"""Two-person jobs (两人作业): the slip's assigned worker leads, helpers go with them.

A supervisor adds or takes off a helper while the job is on someone's hands; every helper sees
the job on their phone (read only: the lead checks in, agrees the fee and gets the signature).
Each change is in the slip's timeline and the audit trail, and open screens refresh.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.domain.errors import Conflict, DomainError
from app.domain.roles import Role
from app.domain.slip_states import State
from app.extensions import db
from app.models.slips import Slip, SlipEvent, SlipHelper
from app.models.users import User
from app.services import audit, clock, live

# On someone's hands: a helper can be added or taken off.
HELPED = frozenset({State.DISPATCHED, State.ACCEPTED, State.ON_SITE, State.AWAITING_PRICE,
                    State.REFUSED, State.IN_PROGRESS, State.PAUSED})


def add_helper(slip: Slip, by: User, helper_id: int | None, *,
               expected_version: int | None = None) -> SlipHelper:
    """`helper_id` goes with the lead worker on this job."""
    _check(slip, by, expected_version)
    helper = db.session.get(User, helper_id) if helper_id else None
    if helper is None or not helper.active or Role.WORKER.value not in helper.roles:
        raise DomainError(_l("Choose a service worker as the helper."), "helper_id")
    if helper.id == slip.worker_id:
        raise DomainError(_l("%(name)s leads this job already.", name=helper.full_name),
                          "helper_id")
    if any(h.user_id == helper.id for h in slip.helpers):
        raise DomainError(_l("%(name)s already helps on this job.", name=helper.full_name),
                          "helper_id")
    row = SlipHelper(user=helper, added_by_id=by.id, added_at=clock.now())
    slip.helpers.append(row)
    _changed(slip, by, "add_helper", helper)
    return row


def remove_helper(slip: Slip, by: User, helper_id: int | None, *,
                  expected_version: int | None = None) -> None:
    """`helper_id` no longer goes on this job (the job leaves their phone)."""
    _check(slip, by, expected_version)
    row = next((h for h in slip.helpers if h.user_id == helper_id), None)
    if row is None:
        raise DomainError(_l("That worker does not help on this job."), "helper_id")
    helper = row.user
    slip.helpers.remove(row)
    _changed(slip, by, "remove_helper", helper)


def helpers_of(slip: Slip) -> list[User]:
    return [h.user for h in slip.helpers]


def _check(slip: Slip, by: User, expected_version: int | None) -> None:
    if Role.SUPERVISOR.value not in by.roles:
        raise DomainError(_l("Only a supervisor sends helpers."))
    if expected_version is not None and slip.version != expected_version:
        raise Conflict(_l("Slip %(number)s has changed since you opened it. Look at it again.",
                          number=slip.number))
    if slip.state not in HELPED or slip.worker_id is None:
        raise DomainError(_l("Helpers go with a lead worker: dispatch slip %(number)s first, "
                             "and only while the job is open.", number=slip.number))


def _changed(slip: Slip, by: User, action: str, helper: User) -> None:
    now = clock.now()
    slip.updated_at = now  # a new version: open phones and pages see the change
    db.session.add(SlipEvent(slip_id=slip.id, action=action, from_state=slip.state,
                             to_state=slip.state, actor_id=by.id, note="",
                             data={"helper": helper.full_name}, at=now))
    audit.record(f"slip.{action}", "slip", slip.id, slip.number,
                 after={"helper": helper.username}, actor_id=by.id)
    db.session.flush()
    live.changed()
