"""Urgent at night, in a real browser: an urgent call nobody has been sent to raises the alarm on
the board when its dispatch time passes — without a reload — and rings; the sound can be turned
off on that screen; once a worker is sent, the alarm goes, live."""
from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Resident, User
from app.services import catalogue, clock
from app.services import slips as svc
from tests.e2e.test_slip_flow import LIVE_MS, _open, _shot

# The board's sound, counted instead of played: each ring starts two tones.
FAKE_AUDIO = """
window.__tones = 0;
window.AudioContext = function () {
  this.state = "running"; this.currentTime = 0; this.destination = {};
  this.resume = function () { return Promise.resolve(); };
  this.createOscillator = function () {
    return {frequency: {value: 0}, connect: function () {}, stop: function () {},
            start: function () { window.__tones += 1; }};
  };
  this.createGain = function () {
    return {gain: {setValueAtTime: function () {}, exponentialRampToValueAtTime: function () {}},
            connect: function () {}};
  };
};
"""


def _urgent_call(live_app, seconds_to_alarm: int) -> str:
    """An urgent slip opened so long ago that its dispatch time comes in `seconds_to_alarm`."""
    with live_app.app_context():
        within = timedelta(minutes=live_app.config["URGENT_DISPATCH_MINUTES"])
        clerk = db.session.scalar(select(User).where(User.username == "clerk"))
        resident = db.session.scalars(select(Resident).where(Resident.active.is_(True))
                                      .order_by(Resident.id)).first()
        price_list = catalogue.in_force()
        with clock.at(clock.now() - within + timedelta(seconds=seconds_to_alarm)):
            slip = svc.open_slip(svc.SlipRequest(
                unit=resident.unit, resident=resident, request="水管爆裂，水漫到走廊",
                urgent=True, lines=[svc.LineRequest(price_list.items[0].id, 1, None)]),
                clerk, price_list)
        db.session.commit()
        number = slip.number
        db.session.remove()
    return number


def test_an_urgent_call_nobody_took_rings_the_board_when_its_time_comes(new_context, live_app,
                                                                          artifacts):
    number = _urgent_call(live_app, seconds_to_alarm=4)
    context = new_context("desktop", locale="en-US")
    context.add_init_script(FAKE_AUDIO)
    board = _open(context, "supervisor")
    alarm = board.locator(f".alarm[data-alarm-slip='{number}']")
    expect(alarm).to_be_hidden()
    assert board.evaluate("window.__tones") == 0
    expect(alarm).to_be_visible(timeout=8_000)  # the board's own clock raised it
    expect(alarm).to_contain_text("Urgent call, no worker sent")
    board.wait_for_function("window.__tones >= 2")
    _shot(board, artifacts, "night-board-alarm")
    toggle = board.locator("[data-sound-toggle]")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    expect(toggle).to_have_text("Alarm sound: off")
    # A worker sent from the card: the alarm goes, on this board and every other, live.
    card = board.locator(f"#card-{number}")
    with live_app.app_context():
        worker_id = db.session.scalar(select(User.id).where(User.username == "worker"))
        db.session.remove()
    card.locator("select[name=worker_id]").select_option(str(worker_id))
    card.locator("form.assign button[type=submit]").click()
    expect(board.locator(f".alarm[data-alarm-slip='{number}']")).to_have_count(0,
                                                                              timeout=LIVE_MS)
