"""Refused at the door, in real browsers: the worker records the refusal on the phone (no
cancel, no money), the supervisor's board shows it live, the supervisor charges a call-out fee
on the slip page, and the open till has it waiting to be paid — without a reload."""
from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.models.slips import Slip
from app.services import slips as svc
from tests.e2e.test_slip_flow import LIVE_MS, _new_slip, _open, _recorded, _shot


def test_refused_at_the_door_then_a_call_out_fee_reaches_the_till(new_context, live_app,
                                                                    artifacts):
    number = _new_slip(live_app, item="换水暖件(水龙头)", dispatch_to="worker2",
                       request="卫生间水龙头换新")
    with live_app.app_context():
        slip = db.session.scalar(select(Slip).where(Slip.number == number))
        svc.check_in(slip, db.session.scalar(select(User).where(User.username == "worker2")))
        db.session.commit()
        db.session.remove()
    till = _open(new_context("desktop", locale="en-US"), "cashier")
    row = till.locator(f"tr.queue-row[data-slip='{number}']")
    expect(row).to_have_count(0)
    board = _open(new_context("desktop", locale="en-US"), "supervisor")

    phone = _open(new_context("phone"), "worker2", f"/field/jobs/{number}")
    expect(phone.locator("form[action$='/cancel']")).to_have_count(0)  # never the worker's
    phone.locator("details.more-actions summary").click()
    phone.locator("#refuse-note").fill("住户嫌贵，不换了")
    phone.locator("form[action$='/refuse'] button[type=submit]").click()
    expect(phone.locator(".banner.refused")).to_be_visible()
    expect(phone.locator(".banner.refused")).to_contain_text("住户嫌贵，不换了")
    _shot(phone, artifacts, "refused-phone", full_page=True)

    card = board.locator(f"#board .lane-decide #card-{number}")
    expect(card).to_be_visible(timeout=LIVE_MS)
    expect(card).to_contain_text("住户嫌贵，不换了")
    card.locator("a.button").click()  # Decide on the slip
    form = board.locator("#action-charge_call_out")
    form.locator("select").select_option(index=1)
    form.locator("textarea").fill("上门检查，收检查费")
    form.locator("button[type=submit]").click()
    expect(board.locator("#slip-state")).to_have_text("Completed")
    _shot(board, artifacts, "refused-slip-call-out", full_page=True)

    expect(row).to_be_visible(timeout=LIVE_MS)  # the open till, without a reload
    state, actions, _worker = _recorded(live_app, number)
    assert state == "completed" and actions[-2:] == ["refuse", "charge_call_out"]
