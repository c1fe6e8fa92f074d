"""The owners' monthly account (记帐月结): after completion a slip on account becomes an
entry the resident signed; the supervisor reviews it; a mistake is reversed by a new entry."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.domain import settlement
from app.domain.errors import Conflict, DomainError
from app.domain.permissions import Perm, allowed
from app.domain.slip_states import Action, State
from app.extensions import db
from app.models.billing import (
    AccountEntry,
    PayRoute,
)
from app.models.slips import Slip
from app.models.users import User
from app.services import clock, live
from app.services.audit import record
from app.services.slips import act


def close(slip: Slip, user: User, **kw) -> Slip:
    """Close a handed-back slip. Only when nothing is owed: otherwise it is settled."""
    if not settlement.nothing_to_collect(slip):
        raise DomainError(_l("Slip %(number)s is closed by its payment or its reviewed "
                             "account entry.", number=slip.number))
    return act(slip, Action.CLOSE, user, **kw)


# ---- the owners' monthly account (记帐月结) -------------------------------------------------

def entries_to_review() -> list[AccountEntry]:
    """Entries the residents signed, waiting for the supervisor (not those reversed since:
    their slip is paid at the cashier instead)."""
    rows = db.session.scalars(
        select(AccountEntry).where(AccountEntry.reviewed_at.is_(None),
                                   AccountEntry.reverses_id.is_(None))
        .options(selectinload(AccountEntry.slip), selectinload(AccountEntry.reversed_by))
        .order_by(AccountEntry.id)).all()
    return [e for e in rows if not e.reversed]


def review_entry(entry: AccountEntry, supervisor: User, *,
                 expected_version: int | None = None) -> AccountEntry:
    """The supervisor checked the entry against the signed slip: it goes on the account."""
    if entry.reviewed_at is not None:
        raise Conflict(_l("This entry was already reviewed."))
    if entry.reversed or entry.reverses_id is not None:
        raise DomainError(_l("This entry was reversed."))

    def effect(s: Slip) -> dict:
        entry.reviewed_by, entry.reviewed_at = supervisor, clock.now()
        return {"entry": entry.id, "amount_fen": entry.amount_fen, "month": entry.month}

    act(entry.slip, Action.POST_TO_ACCOUNT, supervisor, expected_version=expected_version,
        effect=effect)
    return entry


def reverse_entry(entry: AccountEntry, user: User, reason: str, *,
                  owed_again: bool = True) -> AccountEntry:
    """Correct an entry by another with the opposite amount (on the next statement); the slip
    is owed again and goes to the cashier's queue (not when `owed_again` is false: the fee
    was waived, nothing is owed). Raises DomainError."""
    if not allowed(user.roles, Perm.ENTRY_REVERSE):
        raise DomainError(_l("Only the supervisor or the cashier corrects an account entry."))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("Give a reason."), "note")
    if entry.reverses_id is not None:
        raise DomainError(_l("This entry is itself a reversal."))
    if entry.reversed:
        raise Conflict(_l("This entry was already reversed."))
    slip = entry.slip
    now = clock.now()
    # An entry never reviewed is never billed: neither is its reversal (the pair stays as
    # history). A reviewed one may be on a statement already: its reversal goes on the next.
    reviewed = entry.reviewed_at is not None
    undo = AccountEntry(unit=entry.unit, slip=slip, month=clock.month_of(now),
                        amount_fen=-entry.amount_fen, description=entry.description,
                        signed_name="", created_by=user, created_at=now,
                        reviewed_by=user if reviewed else None,
                        reviewed_at=now if reviewed else None, reverses=entry,
                        reason=reason[:300])
    db.session.add(undo)
    if slip.state in (State.ON_ACCOUNT, State.CLOSED):
        def effect(s: Slip) -> dict:
            s.pay_route = PayRoute.PAY_NOW.value
            return {"entry": entry.id, "amount_fen": -entry.amount_fen}
        act(slip, Action.REVERSE, user, note=reason, effect=effect)
    elif owed_again:  # still waiting for review: the slip is simply paid at the cashier instead
        slip.pay_route = PayRoute.PAY_NOW.value
        slip.updated_at = now
    db.session.flush()
    record("account.reverse", "account_entry", entry.id, slip.number, actor_id=user.id,
           after={"amount_fen": -entry.amount_fen, "reason": reason})
    live.changed()
    return undo
