"""Two-person jobs: a supervisor sends helpers with the lead worker; each helper sees the job on
the phone (read only), the lead alone takes its steps; every change is in the timeline."""
from __future__ import annotations

import pytest

from app.domain.errors import Conflict, DomainError
from app.domain.slip_states import State
from app.services import crew
from app.services import slips as svc
from tests import factories


@pytest.fixture
def job(till):
    slip = till.open()
    svc.dispatch(slip, till.sup, till.worker.id)
    return slip


def test_a_helper_sees_the_job_on_the_phone_and_only_the_lead_acts(till, job):
    helper = factories.user("worker")
    crew.add_helper(job, till.sup, helper.id)
    assert crew.helpers_of(job) == [helper]
    assert job in svc.worker_jobs(helper)[0] and job in svc.worker_jobs(till.worker)[0]
    assert svc.worker_slip(job.number, helper) is job
    assert svc.actions_for(job, helper) == []
    with pytest.raises(DomainError):
        svc.check_in(job, helper)
    step = svc.timeline(job)[-1]
    assert (step.action, step.data, step.to_state) == \
        ("add_helper", {"helper": helper.full_name}, State.DISPATCHED)
    crew.remove_helper(job, till.sup, helper.id)
    assert svc.worker_slip(job.number, helper) is None
    assert job not in svc.worker_jobs(helper)[0]
    assert svc.timeline(job)[-1].action == "remove_helper"


def test_the_version_moves_so_open_phones_refresh(till, job):
    before = job.version
    crew.add_helper(job, till.sup, factories.user("worker").id)
    from app.extensions import db
    db.session.flush()
    assert job.version == before + 1


@pytest.mark.parametrize("who", ["clerk", "cashier", "manager", "worker"])
def test_only_a_supervisor_sends_helpers(till, job, who):
    person = {"clerk": till.clerk, "cashier": till.cashier, "manager": till.manager,
              "worker": till.worker}[who]
    with pytest.raises(DomainError):
        crew.add_helper(job, person, factories.user("worker").id)
    assert job.helpers == []


def test_a_helper_is_a_service_worker_other_than_the_lead_and_only_once(till, job):
    helper = factories.user("worker")
    for bad in (till.clerk.id, till.worker.id, 999_999, None):
        with pytest.raises(DomainError) as err:
            crew.add_helper(job, till.sup, bad)
        assert err.value.field == "helper_id"
    crew.add_helper(job, till.sup, helper.id)
    with pytest.raises(DomainError) as err:
        crew.add_helper(job, till.sup, helper.id)
    assert "already helps" in str(err.value.message)
    assert len(job.helpers) == 1


def test_no_helper_before_a_lead_is_sent_or_on_a_stale_page(till):
    slip = till.open()
    with pytest.raises(DomainError):
        crew.add_helper(slip, till.sup, factories.user("worker").id)
    svc.dispatch(slip, till.sup, till.worker.id)
    with pytest.raises(Conflict):
        crew.add_helper(slip, till.sup, factories.user("worker").id, expected_version=1)


def test_a_helper_made_lead_is_no_longer_a_helper(till, job):
    helper = factories.user("worker")
    crew.add_helper(job, till.sup, helper.id)
    svc.dispatch(job, till.sup, helper.id, note="陈师傅病了，李师傅带班")
    assert job.worker_id == helper.id and job.helpers == []
