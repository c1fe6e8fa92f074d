"""What the slip's life needs to know of its money, below the money package: what an errand
has prepaid, what a slip still owes, and the account entry an owner's signature writes.

`app.services.slips` uses this module and never the money package (`app.services.billing`),
which builds on both; the rules themselves are in `app.domain.settlement`.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import exists, func, select
from sqlalchemy.orm import aliased, selectinload

from app.domain import settlement
from app.domain.settlement import PayRoute
from app.extensions import db
from app.models.billing import AccountEntry, Payment, PaymentKind
from app.models.slips import Slip
from app.models.users import User
from app.services import clock
from app.services.audit import record

ERRAND_KINDS = (PaymentKind.ERRAND_PREPAY, PaymentKind.ERRAND_BALANCE, PaymentKind.ERRAND_CHANGE)


def resident_kind(slip: Slip) -> str | None:
    return slip.resident.kind if slip.resident is not None else None


def routes_for(slip: Slip) -> list[PayRoute]:
    """The routes the resident may choose at completion."""
    return settlement.routes_for(slip, resident_kind(slip))


def check_route(slip: Slip, route: str | PayRoute | None) -> PayRoute:
    return settlement.check_route(slip, resident_kind(slip), route)


def live_payments(slip: Slip) -> list[Payment]:
    """The slip's payments that stand (not reversals, not voided)."""
    rows = db.session.scalars(select(Payment).where(Payment.slip_id == slip.id)
                              .options(selectinload(Payment.reversed_by))
                              .order_by(Payment.id)).all()
    return [p for p in rows if p.kind != PaymentKind.REVERSAL and not p.void]


def prepaid_fen(slip: Slip) -> int:
    """What an errand's resident has paid so far, net of change given back."""
    return sum(p.amount_fen for p in live_payments(slip) if p.kind in ERRAND_KINDS)


def prepaid_by_slip(slip_ids: Iterable[int]) -> dict[int, int]:
    """`prepaid_fen` for many errands in one query: slip id -> fen (absent: nothing paid)."""
    ids = set(slip_ids)
    if not ids:
        return {}
    reversal = aliased(Payment)
    return dict(db.session.execute(
        select(Payment.slip_id, func.sum(Payment.amount_fen))
        .where(Payment.slip_id.in_(ids), Payment.kind.in_([k.value for k in ERRAND_KINDS]),
               ~exists().where(reversal.reverses_id == Payment.id))
        .group_by(Payment.slip_id)).all())


def owed_fen(slip: Slip, prepaid: int | None = None) -> int:
    """What the resident still owes on this slip (negative: change is due to them).
    `prepaid`, when the caller already knows it, saves reading it again."""
    if slip.errand and prepaid is None and slip.state not in settlement.OWES_NOTHING:
        prepaid = prepaid_fen(slip)
    return settlement.owed_fen(slip, prepaid or 0)


def needs_prepayment(slip: Slip) -> bool:
    return bool(slip.errand and slip.state in settlement.PREPAY_STATES
                and settlement.needs_prepayment(slip, prepaid_fen(slip)))


def not_prepaid(slips: Iterable[Slip]) -> set[int]:
    """`needs_prepayment` for many slips in one query: the ids of errands still to prepay."""
    waiting = [s for s in slips if s.errand and s.state in settlement.PREPAY_STATES]
    paid = prepaid_by_slip(s.id for s in waiting)
    return {s.id for s in waiting if settlement.needs_prepayment(s, paid.get(s.id, 0))}


def may_go_out(slip: Slip) -> bool:
    """An errand goes out only prepaid."""
    return not slip.errand or settlement.may_go_out(slip, prepaid_fen(slip))


def standing_entry(slip: Slip) -> AccountEntry | None:
    """The slip's account entry that stands (written, not reversed), if any."""
    reversal = aliased(AccountEntry)
    return db.session.scalar(
        select(AccountEntry).where(AccountEntry.slip_id == slip.id,
                                   AccountEntry.reverses_id.is_(None),
                                   ~exists().where(reversal.reverses_id == AccountEntry.id)))


def post_to_account(slip: Slip, user: User) -> AccountEntry | None:
    """The resident signed: an owner on account gets an entry waiting for the review."""
    if not settlement.posts_to_account(slip):
        return None
    now = clock.now()
    entry = AccountEntry(unit=slip.unit, slip=slip, month=clock.month_of(now),
                         amount_fen=slip.total_fen, description=_describe(slip),
                         signed_name=slip.acceptance_name, created_by=user, created_at=now)
    db.session.add(entry)
    db.session.flush()
    record("account.entry", "account_entry", entry.id, slip.number, actor_id=user.id,
           after={"amount_fen": entry.amount_fen, "month": entry.month})
    return entry


def _describe(slip: Slip) -> str:
    return "、".join(f"{line.name_zh}×{line.quantity}" for line in slip.lines)[:300]
