"""People change, in real browsers: the supervisor hands a job at the door to another worker
with the reason — the first phone loses it and the second gains it live; the desk moves an
appointment and the worker's phone shows the new time and who moved it, live."""
from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.models.slips import Slip
from app.services import slips as svc
from tests.e2e.test_slip_flow import LIVE_MS, _new_slip, _open, _recorded, _shot


def _people(names):
    return {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(names)))}


def test_a_job_at_the_door_changes_hands_and_both_phones_follow(new_context, live_app, artifacts):
    number = _new_slip(live_app, item="换水暖件(水龙头)", dispatch_to="worker",
                       request="卫生间水龙头漏水")
    with live_app.app_context():
        slip = db.session.scalar(select(Slip).where(Slip.number == number))
        svc.check_in(slip, _people(["worker"])["worker"])
        db.session.commit()
        db.session.remove()
    first = _open(new_context("phone"), "worker", f"/field/jobs/{number}")
    second = _open(new_context("phone"), "worker2", "/field/")
    job_link = second.locator(f"#jobs a[href$='/field/jobs/{number}']")
    expect(job_link).to_have_count(0)
    with live_app.app_context():
        worker2 = _people(["worker2"])["worker2"].id
        db.session.remove()
    board = _open(new_context("desktop", locale="en-US"), "supervisor")
    card = board.locator(f"#card-{number}")
    card.locator("details.reassign summary").click()
    form = card.locator("details.reassign form")
    form.locator("select[name=worker_id]").select_option(str(worker2))
    # Someone is at the door: the reason is asked for before anything is sent.
    form.locator("button[type=submit]").click()
    expect(form.locator("input[name=note]:invalid")).to_have_count(1)
    assert _recorded(live_app, number)[0] == "on_site"
    form.locator("input[name=note]").fill("陈师傅发烧，换李师傅")
    card.screenshot(path=str(artifacts / "slip-flow-people-card-reassign.png"), caret="initial")
    form.locator("button[type=submit]").click()
    moved = board.locator(f"#board .lane-dispatched #card-{number}")
    expect(moved).to_be_visible(timeout=LIVE_MS)
    expect(moved.locator(".worker")).to_contain_text("李师傅")
    _shot(board, artifacts, "people-board-after-reassign", full_page=True)

    expect(first.locator("#job.not-yours")).to_be_visible(timeout=LIVE_MS)
    expect(job_link).to_have_count(1, timeout=LIVE_MS)
    _shot(first, artifacts, "people-phone-lost", full_page=True)
    _shot(second, artifacts, "people-phone-gained", full_page=True)
    state, actions, worker_id = _recorded(live_app, number)
    assert (state, actions[-1], worker_id) == ("dispatched", "reassign", worker2)


def test_a_moved_appointment_shows_on_the_phone_live(new_context, live_app, artifacts):
    number = _new_slip(live_app, item="换水暖件(水龙头)", dispatch_to="worker3",
                       request="厨房水龙头滴水")
    phone = _open(new_context("phone"), "worker3", f"/field/jobs/{number}")
    expect(phone.locator("#moved")).to_have_count(0)
    with live_app.app_context():
        slip = db.session.scalar(select(Slip).where(Slip.number == number))
        start = (slip.window_start or svc.clock.now()) + timedelta(days=1)
        svc.move(slip, _people(["clerk"])["clerk"], start, start + timedelta(hours=2),
                 "住户说明天才在家")
        db.session.commit()
        db.session.remove()
    banner = phone.locator("#moved")
    expect(banner).to_be_visible(timeout=LIVE_MS)
    expect(banner).to_contain_text("住户说明天才在家")
    _shot(phone, artifacts, "people-phone-moved", full_page=True)


def test_a_helper_added_on_the_slip_page_gains_the_job_on_the_phone_live(new_context, live_app,
                                                                          artifacts):
    number = _new_slip(live_app, item="换水暖件(水龙头)", dispatch_to="worker",
                       request="两人抬热水器")
    helper_phone = _open(new_context("phone"), "worker4", "/field/")
    job_link = helper_phone.locator(f"#jobs a[href$='/field/jobs/{number}']")
    expect(job_link).to_have_count(0)
    page = _open(new_context("desktop", locale="en-US"), "supervisor", f"/slips/{number}")
    with live_app.app_context():
        helper = _people(["worker4"])["worker4"]
        helper_id, helper_name = helper.id, helper.full_name
        db.session.remove()
    page.locator("#helpers select").select_option(str(helper_id))
    page.locator("#helpers form.helper-add button").click()
    expect(page.locator("#helpers .helper")).to_contain_text(helper_name)
    page.locator("#slip-facts").screenshot(path=str(artifacts / "people-slip-helpers.png"),
                                           caret="initial")
    expect(job_link).to_have_count(1, timeout=LIVE_MS)
    expect(job_link.locator(".job-crew")).to_contain_text("您协助 陈师傅")
    job_link.click()
    expect(helper_phone.locator("#helping")).to_be_visible()
    _shot(helper_phone, artifacts, "people-phone-helping", full_page=True)
