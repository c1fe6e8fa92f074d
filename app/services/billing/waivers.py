"""A fee waived by a supervisor (减免): the job turned out to be covered by the management fee,
or a dispute was settled in the resident's favour.

A waiver is the only way a charged slip ends without its money, so it is never quiet: a named
supervisor, a reason, the amount, all kept on the slip, in its timeline and the audit trail,
and listed for the manager among the money corrections. It is taken before any money is: a
receipt is voided or a reviewed entry reversed first; an owner's entry still waiting for the
review is reversed by the waiver itself. An errand's money (its purchases) is never waived.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.domain import settlement
from app.domain.errors import DomainError
from app.domain.slip_states import Action, State
from app.extensions import db
from app.models.slips import Slip
from app.models.users import User
from app.services import clock, slip_money
from app.services.billing.monthly_account import reverse_entry
from app.services.slips import act


def waive(slip: Slip, user: User, reason: str, **kw) -> Slip:
    """The supervisor waives the whole fee, with the reason: nothing is owed on the slip any
    more; a disputed job is completed by it. Raises DomainError (an errand, nothing charged,
    no reason) or Conflict."""
    def effect(s: Slip) -> dict:
        if s.errand:
            raise DomainError(_l("An errand's fee and purchases are settled at the cashier: "
                                 "they are not waived."))
        if not settlement.waivable(s):
            raise DomainError(_l("Nothing is charged on this slip: there is nothing to "
                                 "waive."))
        now = clock.now()
        s.waived_fen, s.waived_by, s.waived_at = s.total_fen, user, now
        s.waiver_reason = reason.strip()[:300]
        if s.state == State.DISPUTED and s.completed_at is None:
            s.completed_at = now
        return {"waived_fen": s.waived_fen, "reason": s.waiver_reason}

    before = slip.version
    act(slip, Action.WAIVE, user, note=reason, effect=effect, **kw)
    if slip.version == before:  # a resent request: already waived
        return slip
    entry = slip_money.standing_entry(slip)
    if entry is not None:  # signed, never reviewed: its reversal keeps the pair as history
        reverse_entry(entry, user, slip.waiver_reason, owed_again=False)
    if slip.state == State.HANDED_BACK and settlement.nothing_to_collect(slip):
        act(slip, Action.CLOSE, user)  # the paper is back and nothing is owed: closed
    return slip


def waivers(limit: int = 200) -> list[Slip]:
    """The slips whose fee a supervisor waived, newest first: the manager's corrections."""
    return list(db.session.scalars(
        select(Slip).where(Slip.waived_at.is_not(None))
        .options(selectinload(Slip.waived_by)).order_by(Slip.waived_at.desc()).limit(limit)))

