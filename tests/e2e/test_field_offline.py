"""Poor signal: a check-in tapped in a dead zone is kept, shown as pending on the job and on
the list, and sent once when the phone is back online."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.extensions import db
from app.models import Unit, User
from app.models.slips import Slip, SlipEvent
from app.services import catalogue
from app.services import slips as svc
from tests.e2e.helpers import ready, sign_in

pytestmark = pytest.mark.e2e


def _dispatched_to_worker(live_app) -> str:
    """A fresh slip in the live app, dispatched to the demo worker (陈师傅)."""
    with live_app.app_context():
        people = {u.username: u for u in db.session.scalars(
            select(User).where(User.username.in_(["clerk", "supervisor", "worker"])))}
        price_list = catalogue.in_force()
        unit = db.session.scalars(select(Unit).order_by(Unit.id.desc()).limit(1)).one()
        slip = svc.open_slip(svc.SlipRequest(
            unit=unit, contact_name="王女士", contact_phone="13912345678",
            request="Bathroom tap drips", notes="Small dog",
            lines=[svc.LineRequest(price_list.items[0].id, 1, None)]),
            people["clerk"], price_list)
        svc.dispatch(slip, people["supervisor"], people["worker"].id)
        db.session.commit()
        number = slip.number
        db.session.remove()
    return number


def _state_and_check_ins(live_app, number: str) -> tuple[str, int]:
    with live_app.app_context():
        slip = db.session.scalar(select(Slip).where(Slip.number == number))
        count = db.session.scalar(select(func.count()).select_from(SlipEvent).where(
            SlipEvent.slip_id == slip.id, SlipEvent.action == "check_in"))
        state = slip.state
        db.session.remove()
    return state, count


def test_check_in_tapped_offline_is_sent_once_back_online(new_context, live_app,
                                                          console_errors, artifacts):
    # Requests that fail while the network is off are expected console noise.
    console_errors.allow(r"ERR_INTERNET_DISCONNECTED|Failed to fetch")
    number = _dispatched_to_worker(live_app)
    phone = new_context("phone", locale="en")
    job = phone.new_page()
    sign_in(job, "worker")
    jobs = phone.new_page()              # the list, open in a second tab of the same phone
    jobs.goto("/field/")
    ready(jobs)
    expect(jobs.locator(f"li.job-card[data-slip='{number}']")).to_be_visible()
    job.goto(f"/field/jobs/{number}/door")  # the QR code on the slip
    ready(job)
    check_in = job.locator("form.check-in button[type=submit]")
    expect(check_in).to_be_focused()

    phone.set_offline(True)              # the stairwell
    job.locator("form.check-in textarea").fill("Cracked tile by the basin")
    check_in.click()

    pending = job.locator("#job .pending-note.pending")
    expect(pending).to_contain_text("Pending — will send when back online")
    expect(job.locator("#job .job-actions")).to_be_hidden()  # no second tap meanwhile
    expect(jobs.locator(f"li.job-card[data-slip='{number}'] .pending-note.pending")) \
        .to_contain_text("Pending — will send when back online")
    job.screenshot(path=str(artifacts / "field-offline-pending.png"), caret="initial")
    job.wait_for_timeout(1500)           # retries while offline must not get through
    assert _state_and_check_ins(live_app, number) == ("dispatched", 0)

    phone.set_offline(False)             # signal again: either tab may be the one that sends

    expect(job.locator("#job .badge.state-on_site")).to_be_visible(timeout=15_000)
    sent = job.locator("#job .pending-note.sent")
    expect(sent).to_contain_text("Sent at")
    expect(job.locator("#job")).to_contain_text("Cracked tile by the basin")
    expect(jobs.locator(f"li.job-card[data-slip='{number}'] .pending-note.sent")) \
        .to_contain_text("Sent at", timeout=15_000)
    expect(jobs.locator(f"li.job-card[data-slip='{number}'] .badge.state-on_site")) \
        .to_be_visible(timeout=15_000)
    job.screenshot(path=str(artifacts / "field-offline-sent.png"), caret="initial")

    job.wait_for_timeout(9000)           # past the retry timer: nothing is sent a second time
    assert _state_and_check_ins(live_app, number) == ("on_site", 1)
    assert job.evaluate("JSON.parse(localStorage.getItem('psd.field.queue') || '[]').length") == 0
