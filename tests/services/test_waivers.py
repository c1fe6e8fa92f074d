"""A fee waived (减免) by a named supervisor with a reason: nothing is owed on the slip, no
account entry waits for the review, and the manager sees the waiver among the corrections.
It is the only way a charged slip ends without its money."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.domain.errors import Conflict, DomainError
from app.domain.slip_states import State
from app.extensions import db as _db
from app.models.billing import AccountEntry
from app.services import billing
from app.services import slips as svc

WHY = "经查属公共管道问题，管理费内免费"


def test_a_visitors_completed_fee_waived_leaves_the_till(till):
    slip = till.finish(till.open())
    assert billing.owed_fen(slip) == 3000 and slip in [r.slip for r in billing.queue()]
    billing.waive(slip, till.sup, WHY)
    assert (slip.state, billing.owed_fen(slip), slip.total_fen) == (State.COMPLETED, 0, 0)
    assert (slip.waived_fen, slip.waived_by, slip.waiver_reason) == (3000, till.sup, WHY)
    assert slip.agreed_total_fen == 3000  # what was agreed stays on the record
    assert slip not in [r.slip for r in billing.queue()]
    step = svc.timeline(slip)[-1]
    assert (step.action, step.actor_id, step.note) == ("waive", till.sup.id, WHY)
    till.hand_back(slip)
    assert slip.state == State.CLOSED  # the paper is back and nothing is owed


def test_an_owners_signed_entry_is_reversed_by_the_waiver_and_never_billed(till):
    slip = till.finish(till.open(kind="owner"))
    entry = till.entry(slip)
    assert entry in billing.entries_to_review()
    billing.waive(slip, till.sup, WHY)
    assert entry not in billing.entries_to_review()
    undo = _db.session.scalar(select(AccountEntry).where(AccountEntry.reverses_id == entry.id))
    assert (undo.amount_fen, undo.reason, undo.reviewed_at) == (-3000, WHY, None)
    assert slip.pay_route == "on_account" and billing.owed_fen(slip) == 0
    assert slip not in [r.slip for r in billing.queue()]


def test_a_handed_back_slip_waived_closes_at_once(till):
    slip = till.hand_back(till.finish(till.open(kind="tenant")))
    assert slip.state == State.HANDED_BACK
    billing.waive(slip, till.sup, WHY)
    assert slip.state == State.CLOSED and billing.owed_fen(slip) == 0


def test_a_dispute_settled_by_waiving_the_fee_completes_the_job(till):
    slip = till.go(till.open(kind="owner"))
    svc.dispute(slip, till.worker, "住户说没修好")
    billing.waive(slip, till.sup, "返工后住户仍不满意，免收")
    assert slip.state == State.COMPLETED and slip.completed_at is not None
    assert billing.owed_fen(slip) == 0 and billing.entries_to_review() == []


def test_waived_while_working_the_signature_writes_no_entry(till):
    slip = till.go(till.open(kind="owner"))
    billing.waive(slip, till.sup, WHY)
    assert slip.state == State.IN_PROGRESS
    till.sign(slip)
    assert billing.entries_to_review() == [] and billing.owed_fen(slip) == 0


@pytest.mark.parametrize("who", ["clerk", "worker", "cashier", "manager"])
def test_only_the_supervisor_waives_a_fee(till, who):
    slip = till.finish(till.open())
    with pytest.raises(DomainError):
        billing.waive(slip, getattr(till, who), WHY)
    assert slip.waived_at is None and billing.owed_fen(slip) == 3000


def test_a_waiver_needs_a_reason(till):
    slip = till.finish(till.open())
    with pytest.raises(DomainError) as err:
        billing.waive(slip, till.sup, "  ")
    assert err.value.field == "note" and slip.waived_at is None


def test_money_taken_is_voided_before_anything_is_waived(till):
    slip = till.finish(till.open())
    till.pay(slip)
    with pytest.raises(Conflict):
        billing.waive(slip, till.sup, WHY)
    assert slip.state == State.SETTLED and slip.waived_at is None


def test_an_errand_and_a_free_job_are_not_waived(till):
    errand = till.errand()
    billing.prepay_errand(errand, till.cashier, "cash", billing.errand_prepayment_fen(errand))
    till.finish(errand, spent=4000)
    with pytest.raises(DomainError) as err:
        billing.waive(errand, till.sup, WHY)
    assert "errand" in str(err.value) and errand.waived_at is None
    free = till.finish(till.open(free=True))
    with pytest.raises(DomainError) as err:
        billing.waive(free, till.sup, WHY)
    assert "nothing to waive" in str(err.value)


def test_the_manager_sees_every_waiver_with_who_and_why(till):
    first = billing.waive(till.finish(till.open()), till.sup, WHY)
    second = billing.waive(till.finish(till.open(kind="owner")), till.sup, "投诉处理，免收")
    assert billing.waivers() == [second, first]
    assert billing.correction_counts()["waivers"] == 2
