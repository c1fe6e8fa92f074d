"""The slip page (desk and supervisor): everything about a slip, its timeline, live refresh,
the desk's actions with their refusals, and the photos and signature it shows."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.domain.slip_states import State
from app.models import AuditEvent
from app.models.slips import Slip, SlipEvent, SlipPhoto
from app.services import billing, clock, refusals
from app.services import slips as svc
from tests import factories
from tests.web.pages import (
    field_errors,
    flashes,
    form_alerts,
    grab,
    html_lang,
    in_chinese,
    text,
)

ZONE = ZoneInfo("Asia/Shanghai")
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7"
       b"5\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")


# ---- building slips in every state -------------------------------------------------------

class Staff:
    def __init__(self):
        self.clerk = factories.user("clerk", username="desk-li")
        self.super = factories.user("supervisor", username="boss-zhao")
        self.worker = factories.user("worker", username="fixer-wang")


@pytest.fixture
def staff(db):
    s = Staff()
    db.session.commit()
    return s


def new_slip(staff: Staff, **kw) -> Slip:
    return factories.slip(staff.clerk, **kw)


def drive(slip: Slip, staff: Staff, to: State) -> Slip:
    """Take the slip along the happy path (or a side path) to `to`, through the services."""
    from app.extensions import db
    steps = {
        State.DISPATCHED: lambda: svc.dispatch(slip, staff.super, staff.worker.id),
        State.ACCEPTED: lambda: svc.accept(slip, staff.worker),
        State.ON_SITE: lambda: svc.check_in(slip, staff.worker, damage_note="门框已有划痕"),
        State.IN_PROGRESS: lambda: svc.confirm_fee(slip, staff.worker, {}),
        State.COMPLETED: lambda: svc.complete(slip, staff.worker, svc.Acceptance(
            "张伟", "signatures/sig-test.png", True, "很好", "PPR管 1米")),
        State.HANDED_BACK: lambda: svc.hand_back(slip, staff.clerk),
    }
    path = [State.DISPATCHED, State.ACCEPTED, State.ON_SITE, State.IN_PROGRESS,
            State.COMPLETED, State.HANDED_BACK]
    if to == State.NOBODY_HOME:
        steps[State.DISPATCHED]()
        svc.nobody_home(slip, staff.worker)
    elif to == State.DISPUTED:
        drive(slip, staff, State.IN_PROGRESS)
        svc.dispute(slip, staff.clerk, "业户说还在漏水")
    elif to == State.REFUSED:
        drive(slip, staff, State.ON_SITE)
        refusals.refuse(slip, staff.worker, "住户嫌贵，不修了")
    elif to == State.PAUSED:
        drive(slip, staff, State.IN_PROGRESS)
        start = clock.now() + timedelta(days=2)
        svc.pause(slip, staff.worker, "配件要订货", start, start + timedelta(hours=2))
    elif to != State.REGISTERED:
        for state in path[:path.index(to) + 1]:
            steps[state]()
    db.session.commit()
    assert slip.state == to.value
    return slip


@pytest.fixture
def clerk(app, staff):
    c = app.test_client()
    assert c.post("/login", data={"username": "desk-li", "password": factories.PASSWORD}
                  ).status_code == 302
    return c


@pytest.fixture
def boss(app, staff):
    c = app.test_client()
    assert c.post("/login", data={"username": "boss-zhao", "password": factories.PASSWORD}
                  ).status_code == 302
    return c


def reload(db, number: str) -> Slip:
    db.session.expire_all()
    return svc.by_number(number)


def events(db, slip: Slip) -> int:
    return db.session.scalar(select(func.count()).select_from(SlipEvent)
                             .where(SlipEvent.slip_id == slip.id))


# ---- the page ----------------------------------------------------------------------------

def test_the_page_shows_the_whole_slip(clerk, staff, db):
    slip = new_slip(staff, request="厨房下水堵了", notes="家里有狗", urgent=True)
    slip.resident = factories.resident(slip.unit, name="王芳", phone="13912345678")
    drive(slip, staff, State.ON_SITE)
    resp = clerk.get(f"/slips/{slip.number}")
    assert resp.status_code == 200
    page = text(resp)
    for expected in (slip.number, slip.unit.label, "王芳", "13912345678", "张伟", "13800001111",
                     "厨房下水堵了", "家里有狗", "Urgent", "Unclog a drain", "疏通下水",
                     "¥30.00", "price list version 1", staff.worker.full_name,
                     "门框已有划痕", "On site"):
        assert expected in page, expected
    facts = text(grab(resp, lambda t, a: a.get("id") == "slip-facts")[0])
    checked_in = slip.checked_in_at.astimezone(ZONE).strftime("%Y-%m-%d %H:%M")
    assert f"Checked in {checked_in}" in facts
    start = slip.window_start.astimezone(ZONE)
    assert start.strftime("%Y-%m-%d %H:%M") in facts  # the window, in the property's time
    # the whole timeline: who, when, from → to, what
    timeline = grab(resp, lambda t, a: a.get("id") == "slip-timeline")[0]
    for step in ("Opened", "Dispatch", "Accept job", "Check in", "Registered → Dispatched",
                 "Accepted → On site", staff.clerk.full_name, staff.super.full_name,
                 staff.worker.full_name):
        assert step in timeline, step
    assert f"Dispatch → {staff.worker.full_name}" in timeline


def test_lines_show_approval_state_and_totals(clerk, staff, db):
    pl = factories.price_list(staff.clerk)
    lines = [svc.LineRequest(pl.items[1].id, 2, 200000),   # 换管 outside 10–1000: approval
             svc.LineRequest(pl.items[2].id, 1, 2000)]     # tap inside its range
    slip = new_slip(staff, pl=pl, lines=lines)
    db.session.commit()
    page = clerk.get(f"/slips/{slip.number}")
    lines_text = text(grab(page, lambda t, a: a.get("id") == "slip-lines")[0])
    assert "Replace a pipe 换管" in lines_text and "Replace a tap 换水暖件(水龙头)" in lines_text
    assert "Awaiting approval" in lines_text
    assert "¥2,000.00" in lines_text and "¥4,000.00" in lines_text and "¥20.00" in lines_text
    assert "Quoted total ¥4,020.00" in lines_text
    svc.approve_quote(slip, staff.super)
    db.session.commit()
    lines_text = text(grab(clerk.get(f"/slips/{slip.number}"),
                           lambda t, a: a.get("id") == "slip-lines")[0])
    assert "Awaiting approval" not in lines_text
    assert f"Approved by {staff.super.full_name}" in lines_text


def test_acceptance_signature_photos_and_cancel_reason_show(clerk, staff, db, app):
    slip = new_slip(staff)
    drive(slip, staff, State.COMPLETED)
    photo = SlipPhoto(slip=slip, kind="before", file=f"photos/{slip.number}/before-1.jpg",
                      content_type="image/jpeg", size=3, uploaded_by_id=staff.worker.id)
    db.session.add(photo)
    db.session.commit()
    resp = clerk.get(f"/slips/{slip.number}")
    acceptance = text(grab(resp, lambda t, a: a.get("id") == "slip-acceptance")[0])
    assert "张伟" in acceptance and "Satisfied" in acceptance and "很好" in acceptance
    assert "PPR管 1米" in text(resp)  # materials used
    html = resp.get_data(as_text=True)
    assert f'src="/slips/{slip.number}/signature.png"' in html
    assert f'src="/slips/{slip.number}/photos/{photo.id}"' in html

    other = new_slip(staff)
    svc.cancel(other, staff.clerk, "业户自己修好了")
    db.session.commit()
    page = clerk.get(f"/slips/{other.number}")
    assert "业户自己修好了" in text(grab(page, lambda t, a: a.get("id") == "cancel-reason")[0])
    assert "Cancelled" in text(page)


def test_unknown_number_is_a_404_page(clerk):
    resp = clerk.get("/slips/YC209901-9999")
    assert resp.status_code == 404
    assert "There is nothing at this address." in text(resp)


@pytest.mark.parametrize("role", ["clerk", "supervisor", "cashier", "manager"])
def test_office_roles_see_the_page(login_as, staff, db, role):
    slip = new_slip(staff)
    db.session.commit()
    assert login_as(role).get(f"/slips/{slip.number}").status_code == 200


def test_workers_and_strangers_do_not_see_the_page(login_as, client, staff, db):
    slip = new_slip(staff)
    drive(slip, staff, State.DISPATCHED)
    worker = login_as("worker")
    assert worker.get(f"/slips/{slip.number}").status_code == 403
    resp = client.get(f"/slips/{slip.number}")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_the_page_speaks_chinese(clerk, staff, db):
    slip = new_slip(staff)
    db.session.commit()
    resp = in_chinese(clerk).get(f"/slips/{slip.number}")
    assert html_lang(resp) == "zh-CN"
    assert "疏通下水" in text(resp) and "Unclog a drain" not in text(resp)


# ---- live --------------------------------------------------------------------------------

def live_region(resp) -> dict:
    from html.parser import HTMLParser
    found = {}

    class P(HTMLParser):
        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if attrs.get("id") == "slip-view":
                found.update(attrs)
    P().feed(resp.get_data(as_text=True))
    return found


def test_the_page_refreshes_live_and_costs_nothing_when_unchanged(clerk, staff, db):
    slip = new_slip(staff)
    db.session.commit()
    page = clerk.get(f"/slips/{slip.number}")
    assert 'data-live="/live/"' in page.get_data(as_text=True)
    from app.services import live
    # the screen waits from the change stamp it was drawn at: nothing in between is missed
    assert f'data-live-stamp="{live.current()}"' in page.get_data(as_text=True)
    region = live_region(page)
    assert region["hx-trigger"] == "live-changed from:body"
    assert region["hx-swap"] == "outerHTML"
    refresh = region["hx-get"]
    # nothing changed on this slip (another slip's change woke the page): no swap
    unchanged = clerk.get(refresh, headers={"HX-Request": "true"})
    assert unchanged.status_code == 204
    svc.dispatch(slip, staff.super, staff.worker.id)
    db.session.commit()
    changed = clerk.get(refresh, headers={"HX-Request": "true"})
    assert changed.status_code == 200
    assert "HX-Request" in changed.headers["Vary"]
    body = changed.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="slip-view"') and "<html" not in body
    assert "Dispatched" in text(changed) and staff.worker.full_name in text(changed)
    assert live_region(changed)["hx-get"] != refresh  # the next refresh asks about the new version


def test_a_new_photo_refreshes_the_page_too(clerk, staff, db):
    slip = new_slip(staff)
    drive(slip, staff, State.ON_SITE)
    refresh = live_region(clerk.get(f"/slips/{slip.number}"))["hx-get"]
    db.session.add(SlipPhoto(slip=slip, kind="damage", file="photos/x.jpg",
                             content_type="image/jpeg", size=1, uploaded_by_id=staff.worker.id))
    db.session.commit()
    assert clerk.get(refresh, headers={"HX-Request": "true"}).status_code == 200


# ---- buttons come from the state table ---------------------------------------------------

def form_ids(resp) -> set[str]:
    from html.parser import HTMLParser
    ids = set()

    class P(HTMLParser):
        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "form" and "slip-action" in attrs.get("class", ""):
                ids.add(attrs["id"].removeprefix("action-"))
    P().feed(resp.get_data(as_text=True))
    return ids


@pytest.mark.parametrize("state, clerk_sees, boss_sees, board", [
    (State.REGISTERED, {"move", "cancel"}, {"move", "cancel"}, "Dispatch"),
    (State.DISPATCHED, {"move", "cancel"}, {"move", "cancel"}, "Reassign, Take back"),
    (State.NOBODY_HOME, {"reschedule", "cancel"}, {"reschedule", "cancel"}, "Dispatch"),
    (State.IN_PROGRESS, {"dispute"}, {"dispute", "waive", "pause"}, "Reassign"),
    (State.PAUSED, {"move", "dispute"}, {"move", "dispute", "waive"}, "Reassign"),
    (State.COMPLETED, {"hand_back", "dispute"}, {"hand_back", "dispute", "waive"}, None),
    (State.DISPUTED, set(), {"resolve", "waive"}, None),
    (State.REFUSED, set(), {"charge_call_out", "close_refused", "requote"}, None),
    (State.HANDED_BACK, {"dispute"}, {"dispute", "waive"}, None),
])
def test_each_person_sees_the_actions_the_table_gives_them(clerk, boss, staff, db, state,
                                                           clerk_sees, boss_sees, board):
    slip = drive(new_slip(staff), staff, state)
    assert form_ids(clerk.get(f"/slips/{slip.number}")) == clerk_sees
    page = boss.get(f"/slips/{slip.number}")
    assert form_ids(page) == boss_sees
    if board:
        assert f"On the dispatch board: {board.replace(', ', ' ')}" in text(page)
        assert 'href="/supervise/"' in page.get_data(as_text=True)
    else:
        assert "On the dispatch board" not in text(page)
    assert "On the dispatch board" not in text(clerk.get(f"/slips/{slip.number}"))


def test_approve_quote_is_offered_only_with_a_price_waiting(boss, staff, db):
    pl = factories.price_list(staff.clerk)
    slip = new_slip(staff, pl=pl, lines=[svc.LineRequest(pl.items[1].id, 1, 200000)])
    db.session.commit()
    assert "Approve quoted price" in text(boss.get(f"/slips/{slip.number}"))
    plain = new_slip(staff, pl=pl)
    db.session.commit()
    assert "Approve quoted price" not in text(boss.get(f"/slips/{plain.number}"))


@pytest.mark.parametrize("role", ["cashier", "manager"])
def test_readers_get_no_buttons(login_as, staff, db, role):
    slip = new_slip(staff)
    db.session.commit()
    page = login_as(role).get(f"/slips/{slip.number}")
    assert form_ids(page) == set()
    assert "Nothing for you to do on this slip now." in text(page)


# ---- actions -----------------------------------------------------------------------------

def post(client, slip: Slip, action: str, version: int | None = None, **fields):
    data = {f"{action}-{k}": v for k, v in fields.items()}
    data[f"{action}-version"] = slip.version if version is None else version
    return client.post(f"/slips/{slip.number}/{action}", data=data)


def test_cancel_with_a_reason(clerk, staff, db):
    slip = new_slip(staff)
    db.session.commit()
    resp = post(clerk, slip, "cancel", note="业户取消：自己修好了")
    assert resp.status_code == 302 and resp.headers["Location"] == f"/slips/{slip.number}"
    slip = reload(db, slip.number)
    assert slip.state == "cancelled" and slip.cancel_reason == "业户取消：自己修好了"
    page = clerk.get(resp.headers["Location"])
    assert f"Slip {slip.number} cancelled." in flashes(page)
    timeline = text(grab(page, lambda t, a: a.get("id") == "slip-timeline")[0])
    assert "Cancel slip" in timeline and "Registered → Cancelled" in timeline
    assert "业户取消：自己修好了" in timeline
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "slip.cancel")) == 1


def test_cancel_without_a_reason_is_refused_next_to_the_field(clerk, staff, db):
    slip = new_slip(staff)
    db.session.commit()
    before = events(db, slip)
    resp = post(clerk, slip, "cancel", note="   ")
    assert resp.status_code == 422
    assert field_errors(resp, "cancel-note") == ["Give a reason."]
    assert reload(db, slip.number).state == "registered" and events(db, slip) == before
    assert "data-live" not in resp.get_data(as_text=True)  # the message stays on screen


def test_a_reason_too_long_is_refused(clerk, staff, db):
    slip = new_slip(staff)
    db.session.commit()
    resp = post(clerk, slip, "cancel", note="x" * 301)
    assert resp.status_code == 422
    assert field_errors(resp, "cancel-note") == ["At most 300 characters."]
    assert reload(db, slip.number).state == "registered"


def test_acting_on_a_slip_that_moved_on_is_a_conflict(clerk, staff, db):
    slip = new_slip(staff)
    db.session.commit()
    shown = slip.version
    svc.dispatch(slip, staff.super, staff.worker.id)   # meanwhile, on the board
    db.session.commit()
    resp = post(clerk, slip, "cancel", version=shown, note="业户不要了")
    assert resp.status_code == 409
    alert = " ".join(form_alerts(resp))
    assert f"Slip {slip.number} changed since you opened it (now: Dispatched)" in alert
    slip = reload(db, slip.number)
    assert slip.state == "dispatched" and slip.cancel_reason == ""
    # the page now shows the slip as it is; the form keeps the reason, on the new version
    assert "Dispatched" in text(grab(resp, lambda t, a: a.get("id") == "slip-state")[0])
    assert "业户不要了" in resp.get_data(as_text=True)
    assert f'value="{slip.version}"' in resp.get_data(as_text=True)
    again = post(clerk, slip, "cancel", note="业户不要了")
    assert again.status_code == 302 and reload(db, slip.number).state == "cancelled"


def test_an_action_the_table_does_not_allow_is_refused(clerk, staff, db):
    slip = drive(new_slip(staff), staff, State.IN_PROGRESS)  # work started: no cancelling
    before = events(db, slip)
    resp = post(clerk, slip, "cancel", note="不做了")
    assert resp.status_code == 409
    message = " ".join(form_alerts(resp))
    assert f"Slip {slip.number} is In progress: “Cancel slip” is not possible now." in message
    assert reload(db, slip.number).state == "in_progress" and events(db, slip) == before


def test_an_action_of_another_role_is_refused(login_as, clerk, staff, db):
    slip = drive(new_slip(staff), staff, State.DISPUTED)
    resp = post(clerk, slip, "resolve", note="修好了")  # resolving is the supervisor's
    assert resp.status_code == 422
    assert f"You may not do this on slip {slip.number}." in " ".join(form_alerts(resp))
    assert reload(db, slip.number).state == "disputed"
    done = drive(new_slip(staff), staff, State.COMPLETED)
    resp = post(login_as("cashier"), done, "dispute", note="业户不满意")  # the cashier only reads
    assert resp.status_code == 422
    assert f"You may not do this on slip {done.number}." in " ".join(form_alerts(resp))
    assert reload(db, done.number).state == "completed"


def test_workers_cannot_post_on_the_slip_page(login_as, staff, db):
    slip = drive(new_slip(staff), staff, State.DISPATCHED)
    worker = login_as("worker")
    assert post(worker, slip, "cancel", note="x").status_code == 403
    assert reload(db, slip.number).state == "dispatched"


@pytest.mark.parametrize("action", ["dispatch", "approve_price", "check_in", "nonsense"])
def test_actions_of_other_screens_are_not_taken_here(boss, staff, db, action):
    slip = new_slip(staff)
    db.session.commit()
    resp = boss.post(f"/slips/{slip.number}/{action}", data={"version": slip.version,
                                                             "worker_id": staff.worker.id})
    assert resp.status_code in (404, 405)
    assert reload(db, slip.number).state == "registered"


@pytest.mark.parametrize("version", ["", "abc", "-1", "0", "99999999999999999999"])
def test_a_missing_or_forged_version_is_refused(clerk, staff, db, version):
    slip = new_slip(staff)
    db.session.commit()
    resp = clerk.post(f"/slips/{slip.number}/cancel",
                      data={"cancel-version": version, "cancel-note": "不要了"})
    assert resp.status_code == 422
    assert "This page is out of date. Look at the slip again." in form_alerts(resp)
    assert reload(db, slip.number).state == "registered"


def test_posting_to_an_unknown_slip_is_a_404(clerk):
    assert clerk.post("/slips/YC209901-0001/cancel",
                      data={"cancel-version": 1, "cancel-note": "x"}).status_code == 404


def test_hand_back(clerk, staff, db):
    slip = drive(new_slip(staff), staff, State.COMPLETED)
    resp = post(clerk, slip, "hand_back")
    assert resp.status_code == 302
    slip = reload(db, slip.number)
    assert slip.state == "handed_back" and slip.handed_back_at is not None
    assert f"Slip {slip.number} handed back." in flashes(clerk.get(f"/slips/{slip.number}"))


def test_hand_back_twice_is_a_conflict(clerk, staff, db):
    slip = drive(new_slip(staff), staff, State.COMPLETED)
    version = slip.version
    assert post(clerk, slip, "hand_back").status_code == 302
    resp = post(clerk, slip, "hand_back", version=version)
    assert resp.status_code == 409
    assert "changed since you opened it" in " ".join(form_alerts(resp))


def local(day, hh, mm=0):
    return datetime.combine(day, datetime.min.time(), ZONE).replace(hour=hh, minute=mm)


def test_reschedule_after_nobody_home(clerk, staff, db):
    slip = drive(new_slip(staff), staff, State.NOBODY_HOME)
    day = clock.local_today() + timedelta(days=1)
    resp = post(clerk, slip, "reschedule", day=day.isoformat(), window_start="14:00",
                window_end="16:30")
    assert resp.status_code == 302
    slip = reload(db, slip.number)
    assert slip.state == "registered" and slip.worker_id is None
    assert slip.window_start == local(day, 14) and slip.window_end == local(day, 16, 30)
    assert slip.due_at == local(day, 16, 30) and slip.paused_since is None
    page = clerk.get(f"/slips/{slip.number}")
    assert "waits for dispatch again" in " ".join(flashes(page))
    assert f"{day.isoformat()} 14:00 – 16:30" in text(page)


def test_a_new_time_may_run_past_midnight(clerk, staff, db):
    slip = drive(new_slip(staff), staff, State.NOBODY_HOME)
    day = clock.local_today() + timedelta(days=1)
    resp = post(clerk, slip, "reschedule", day=day.isoformat(), window_start="22:30",
                window_end="00:30", window_next_day="y")
    assert resp.status_code == 302
    slip = reload(db, slip.number)
    assert slip.window_start == local(day, 22, 30)
    assert slip.window_end == local(day + timedelta(days=1), 0, 30) == slip.due_at
    assert f"{day.isoformat()} 22:30 – {(day + timedelta(days=1)).isoformat()} 00:30" in text(
        clerk.get(f"/slips/{slip.number}"))


@pytest.mark.parametrize("fields, field, message", [
    ({"day": "", "window_start": "14:00", "window_end": "16:00"}, "day", "Enter the day agreed."),
    ({"day": "2026-13-45", "window_start": "14:00", "window_end": "16:00"}, "day", None),
    ({"day": "+1", "window_start": "", "window_end": "16:00"}, "window_start", "Enter a time."),
    ({"day": "+1", "window_start": "25:00", "window_end": "16:00"}, "window_start", None),
    ({"day": "+1", "window_start": "16:00", "window_end": "14:00"}, "window_end",
     "The time window must end after it starts (past midnight: tick “ends the next day”)."),
    ({"day": "+1", "window_start": "14:00", "window_end": "16:00", "window_next_day": "y"},
     "window_end", "A window that ends the next day ends earlier on the clock than it starts "
     "(22:00 to 02:00)."),
    ({"day": "-1", "window_start": "14:00", "window_end": "16:00"}, "day",
     "The day agreed cannot be in the past."),
])
def test_reschedule_bad_input(clerk, staff, db, fields, field, message):
    slip = drive(new_slip(staff), staff, State.NOBODY_HOME)
    if fields["day"] in ("+1", "-1"):
        fields = {**fields, "day": (clock.local_today() + timedelta(days=int(fields["day"])))
                  .isoformat()}
    resp = post(clerk, slip, "reschedule", **fields)
    assert resp.status_code == 422
    errors = field_errors(resp, f"reschedule-{field}")
    assert errors, resp.get_data(as_text=True)
    if message:
        assert errors == [message]
    assert reload(db, slip.number).state == "nobody_home"


def test_dispute_and_resolve(clerk, boss, staff, db):
    slip = drive(new_slip(staff), staff, State.COMPLETED)
    assert post(clerk, slip, "dispute", note="   ").status_code == 422
    resp = post(clerk, slip, "dispute", note="业户说还在漏水")
    assert resp.status_code == 302
    slip = reload(db, slip.number)
    assert slip.state == "disputed"
    resp = post(boss, slip, "resolve", note="")
    assert resp.status_code == 422
    assert field_errors(resp, "resolve-note") == ["Give a reason."]
    resp = post(boss, slip, "resolve", note="已重新上门修好")
    assert resp.status_code == 302
    page = boss.get(f"/slips/{slip.number}")
    assert f"Dispute on slip {slip.number} resolved." in flashes(page)
    timeline = text(grab(page, lambda t, a: a.get("id") == "slip-timeline")[0])
    assert "Completed → Disputed" in timeline and "Disputed → Completed" in timeline
    assert "业户说还在漏水" in timeline and "已重新上门修好" in timeline


# ---- a refusal at the door, decided by the supervisor ----------------------------------------

def test_the_refusal_shows_with_the_choice_of_call_out_fees(boss, staff, db):
    slip = drive(new_slip(staff), staff, State.REFUSED)
    page = boss.get(f"/slips/{slip.number}")
    assert "住户嫌贵，不修了" in text(grab(page, lambda t, a: a.get("id") == "refusal-reason")[0])
    fees = text(grab(page, lambda t, a: a.get("id") == "charge_call_out-item_id")[0])
    assert "Unclog a drain · ¥30" in fees and "Replace a tap · ¥10–¥30" in fees
    assert "Common-area repair" not in fees  # a free item is no fee


@pytest.mark.parametrize("fields, field, message", [
    ({"item_id": "0", "note": "上门检查"}, "item_id", "Choose the call-out fee."),
    ({"item_id": "999999", "note": "上门检查"}, "item_id", "Not a valid choice."),
    ({"item_id": "TAP", "price": "90", "note": "上门检查"}, "price",
     "The call-out fee must be a price inside the list's range (¥10–¥30)."),
    ({"item_id": "TAP", "price": "abc", "note": "上门检查"}, "price",
     "Enter an amount in yuan, e.g. 30 or 12.50."),
    ({"item_id": "TAP", "price": "20", "note": " "}, "note", "Give a reason."),
])
def test_a_call_out_fee_with_bad_input_changes_nothing(boss, staff, db, fields, field, message):
    slip = drive(new_slip(staff), staff, State.REFUSED)
    if fields["item_id"] == "TAP":
        fields = {**fields, "item_id": str(slip.price_list.items[2].id)}
    before = (slip.version, events(db, slip))
    resp = post(boss, slip, "charge_call_out", **fields)
    assert resp.status_code == 422
    assert field_errors(resp, f"charge_call_out-{field}") == [message]
    slip = reload(db, slip.number)
    assert (slip.version, events(db, slip), slip.state) == (*before, "refused")


def test_a_call_out_fee_completes_the_slip_for_the_till(boss, staff, db):
    slip = drive(new_slip(staff), staff, State.REFUSED)
    tap = slip.price_list.items[2].id
    resp = post(boss, slip, "charge_call_out", item_id=str(tap), price="20",
                note="已上门检查，收上门费")
    assert resp.status_code == 302
    page = boss.get(f"/slips/{slip.number}")
    assert f"Call-out fee charged on slip {slip.number}" in flashes(page)[0]
    slip = reload(db, slip.number)
    assert slip.state == "completed" and slip.total_fen == 2000
    assert [r.slip.number for r in billing.queue()] == [slip.number]
    timeline = text(grab(page, lambda t, a: a.get("id") == "slip-timeline")[0])
    assert "Refused at the door → Completed" in timeline and "已上门检查，收上门费" in timeline


def test_closed_without_charge_the_refused_slip_is_cancelled(boss, staff, db):
    slip = drive(new_slip(staff), staff, State.REFUSED)
    resp = post(boss, slip, "close_refused", note="首次上门不收费")
    assert resp.status_code == 302
    slip = reload(db, slip.number)
    assert slip.state == "cancelled" and slip.cancel_reason == "住户嫌贵，不修了"
    assert billing.queue() == []


def test_the_clerk_cannot_decide_a_refusal(clerk, staff, db):
    slip = drive(new_slip(staff), staff, State.REFUSED)
    resp = post(clerk, slip, "close_refused", note="算了")
    assert resp.status_code == 422
    assert reload(db, slip.number).state == "refused"


def test_control_characters_in_a_reason_are_refused(clerk, staff, db):
    slip = new_slip(staff)
    db.session.commit()
    resp = post(clerk, slip, "cancel", note="不要\x00了")
    assert resp.status_code == 422
    assert field_errors(resp, "cancel-note") == ["Contains characters that cannot be printed."]


def test_csrf_is_required(clerk, staff, db):
    slip = new_slip(staff)
    db.session.commit()
    resp = clerk.post(f"/slips/{slip.number}/cancel", csrf=False,
                      data={"cancel-version": slip.version, "cancel-note": "x"})
    assert resp.status_code == 400
    assert reload(db, slip.number).state == "registered"


# ---- photos and the signature ------------------------------------------------------------

@pytest.fixture
def stored(app):
    """Write a file under the instance folder; removed afterwards."""
    written: list[Path] = []

    def write(relative: str, data: bytes) -> str:
        path = Path(app.instance_path) / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
        return relative
    yield write
    for path in written:
        path.unlink(missing_ok=True)


def add_photo(db, slip, staff, file: str) -> SlipPhoto:
    photo = SlipPhoto(slip=slip, kind="after", file=file, content_type="image/jpeg", size=4,
                      uploaded_by_id=staff.worker.id)
    db.session.add(photo)
    db.session.commit()
    return photo


def test_photos_for_the_office_and_the_assigned_worker_only(app, clerk, login_as, staff, db,
                                                            stored):
    slip = drive(new_slip(staff), staff, State.ON_SITE)
    photo = add_photo(db, slip, staff, stored(f"photos/{slip.number}/after-1.jpg", b"\xff\xd8jpg"))
    url = f"/slips/{slip.number}/photos/{photo.id}"
    resp = clerk.get(url)
    assert resp.status_code == 200 and resp.data == b"\xff\xd8jpg"
    assert resp.mimetype == "image/jpeg"
    assert login_as("cashier").get(url).status_code == 200
    worker = app.test_client()
    assert worker.post("/login", data={"username": "fixer-wang",
                                       "password": factories.PASSWORD}).status_code == 302
    assert worker.get(url).status_code == 200
    assert login_as("worker").get(url).status_code == 404   # not their slip: nothing leaks
    other = new_slip(staff)
    db.session.commit()
    assert clerk.get(f"/slips/{other.number}/photos/{photo.id}").status_code == 404
    assert clerk.get(f"/slips/{slip.number}/photos/999999").status_code == 404


@pytest.mark.parametrize("file", ["../secret_key", "photos/../secret_key", "/etc/passwd",
                                  "signatures/sig.png", "photos", "photos/", "photos/missing.jpg",
                                  "photos/../../../../etc/hostname"])
def test_a_photo_path_outside_instance_photos_is_never_sent(clerk, staff, db, stored, file):
    stored("signatures/sig.png", PNG)
    slip = new_slip(staff)
    db.session.commit()
    photo = add_photo(db, slip, staff, file)
    assert clerk.get(f"/slips/{slip.number}/photos/{photo.id}").status_code == 404


def test_the_signature(app, clerk, login_as, staff, db, stored):
    slip = drive(new_slip(staff), staff, State.COMPLETED)
    stored("signatures/sig-test.png", PNG)
    url = f"/slips/{slip.number}/signature.png"
    resp = clerk.get(url)
    assert resp.status_code == 200 and resp.mimetype == "image/png" and resp.data == PNG
    assert login_as("worker").get(url).status_code == 404
    for path in ("", "../secret_key", "photos/x.jpg", "signatures/../secret_key", "/etc/passwd"):
        slip.signature_file = path
        db.session.commit()
        assert clerk.get(url).status_code == 404, path


def test_a_missing_signature_file_is_a_404(clerk, staff, db):
    slip = drive(new_slip(staff), staff, State.COMPLETED)  # the file was never written
    assert clerk.get(f"/slips/{slip.number}/signature.png").status_code == 404


def test_a_supervisor_who_is_also_the_worker_is_sent_to_the_phone_screen(app, db, staff):
    both = factories.user("supervisor", "worker", username="boss-and-fixer")
    db.session.commit()
    slip = new_slip(staff)
    svc.dispatch(slip, staff.super, both.id)
    db.session.commit()
    c = app.test_client()
    assert c.post("/login", data={"username": "boss-and-fixer",
                                  "password": factories.PASSWORD}).status_code == 302
    page = c.get(f"/slips/{slip.number}")
    assert "On your phone: Accept job Check in Nobody home" in text(page)
    assert f'href="/field/jobs/{slip.number}"' in page.get_data(as_text=True)


@pytest.mark.parametrize("state, offered", [
    (State.REGISTERED, False), (State.DISPATCHED, True), (State.NOBODY_HOME, True),
    (State.IN_PROGRESS, False), (State.COMPLETED, False)])
def test_the_nobody_home_card_is_offered_while_a_worker_is_on_the_way(clerk, staff, db, state,
                                                                    offered):
    slip = drive(new_slip(staff), staff, state)
    html = clerk.get(f"/slips/{slip.number}").get_data(as_text=True)
    assert (f'href="/slips/{slip.number}/card.pdf"' in html) == offered
    assert f'href="/slips/{slip.number}/slip.pdf"' in html


def test_the_desk_moves_an_appointment_when_the_resident_calls(clerk, staff, db):
    slip = drive(new_slip(staff), staff, State.DISPATCHED)
    day = clock.local_today() + timedelta(days=2)
    resp = post(clerk, slip, "move", day=day.isoformat(), window_start="09:00",
                window_end="10:30", note="住户改约后天上午")
    assert resp.status_code == 302
    slip = reload(db, slip.number)
    assert slip.state == "dispatched" and slip.worker_id == staff.worker.id
    assert slip.window_start == local(day, 9) and slip.due_at == local(day, 10, 30)
    page = clerk.get(f"/slips/{slip.number}")
    assert "moved to the new time; the worker's phone shows it." in " ".join(flashes(page))
    assert f"{day.isoformat()} 09:00 – 10:30" in text(page) and "住户改约后天上午" in text(page)
    same = post(clerk, slip, "move", day=day.isoformat(), window_start="09:00",
                window_end="10:30")
    assert same.status_code == 422 and "That is the time already booked." in text(same)


# ---- unfinished work: paused for a second visit, or finished with a follow-up slip -------

def test_the_supervisor_pauses_a_job_from_its_page_with_the_reason_and_a_new_window(
        boss, staff, db):
    slip = drive(new_slip(staff), staff, State.IN_PROGRESS)
    day = clock.local_today() + timedelta(days=3)
    missing = post(boss, slip, "pause", note="", day=day.isoformat(), window_start="14:00",
                   window_end="16:00")
    assert missing.status_code == 422 and field_errors(missing, "pause-note") == [
        "Give a reason."]
    no_day = post(boss, slip, "pause", note="配件订货", day="", window_start="14:00",
                  window_end="16:00")
    assert no_day.status_code == 422 and field_errors(no_day, "pause-day") == [
        "Enter the day agreed."]
    assert reload(db, slip.number).state == "in_progress"
    resp = post(boss, slip, "pause", note="配件订货", day=day.isoformat(), window_start="14:00",
                window_end="16:00")
    assert resp.status_code == 302
    slip = reload(db, slip.number)
    assert slip.state == "paused" and slip.window_start == local(day, 14)
    page = boss.get(f"/slips/{slip.number}")
    assert "Paused: second visit" in text(page) and "配件订货" in text(page)


def _finished_from_a_call(staff, db) -> Slip:
    from app.services import reception
    unit = factories.unit(number="802")
    entry = reception.log_contact(reception.Contact("phone", "paid", "热水器不出热水",
                                                    unit=unit), staff.clerk)
    slip = drive(new_slip(staff, unit_=unit, reception=entry), staff, State.COMPLETED)
    db.session.commit()
    return slip


def test_a_finished_job_gets_a_follow_up_slip_linked_both_ways(clerk, staff, db):
    first = _finished_from_a_call(staff, db)
    page = clerk.get(f"/slips/{first.number}").get_data(as_text=True)
    link = f"/desk/contacts/{first.reception_id}/slip?follows={first.number}"
    assert link in page
    form = clerk.get(link).get_data(as_text=True)
    assert f'name="follows" type="hidden" value="{first.number}"' in form
    assert f"Follow-up of {first.number}:" in form
    item = first.lines[0].price_item_id
    resp = clerk.post(f"/desk/contacts/{first.reception_id}/slip", data={
        "follows": first.number, "request": "更换温控器", "lines-0-item_id": str(item),
        "lines-0-quantity": "1", "request_key": "follow-up-1"})
    assert resp.status_code == 302
    second = db.session.scalar(select(Slip).where(Slip.follows_id == first.id))
    assert second is not None and second.unit_id == first.unit_id
    assert svc.timeline(second)[0].data == {"follows": first.number}
    assert f"/slips/{first.number}" in clerk.get(f"/slips/{second.number}").get_data(
        as_text=True)
    assert second.number in text(clerk.get(f"/slips/{first.number}"))
    preview = clerk.get(f"/slips/{second.number}/slip.html").get_data(as_text=True)
    assert "续单" in preview and first.number in preview  # on paper too


def test_an_open_job_is_paused_not_followed_up(clerk, staff, db):
    from app.services import reception
    unit = factories.unit(number="803")
    entry = reception.log_contact(reception.Contact("phone", "paid", "漏水", unit=unit),
                                  staff.clerk)
    open_one = drive(new_slip(staff, unit_=unit, reception=entry), staff, State.IN_PROGRESS)
    db.session.commit()
    assert "?follows=" not in clerk.get(f"/slips/{open_one.number}").get_data(as_text=True)
    resp = clerk.post(f"/desk/contacts/{entry.id}/slip", data={
        "follows": open_one.number, "lines-0-item_id": str(open_one.lines[0].price_item_id),
        "lines-0-quantity": "1", "request_key": "follow-up-2"})
    assert resp.status_code == 422
    assert "pause it for a second visit" in " ".join(form_alerts(resp))
    assert db.session.scalar(select(func.count()).select_from(Slip)
                             .where(Slip.follows_id == open_one.id)) == 0


# ---- two-person jobs ------------------------------------------------------------------------

def test_the_supervisor_adds_a_helper_who_sees_the_job_and_takes_them_off(app, boss, staff, db):
    slip = drive(new_slip(staff), staff, State.DISPATCHED)
    helper = factories.user("worker", username="helper-li")
    db.session.commit()
    page = boss.get(f"/slips/{slip.number}").get_data(as_text=True)
    assert 'action="/slips/' + slip.number + '/helpers"' in page
    bad = boss.post(f"/slips/{slip.number}/helpers",
                    data={"helper-version": slip.version, "helper-helper_id": staff.clerk.id})
    assert bad.status_code == 422
    assert "Choose a service worker as the helper." in text(bad)
    assert reload(db, slip.number).helpers == []
    resp = boss.post(f"/slips/{slip.number}/helpers",
                     data={"helper-version": slip.version, "helper-helper_id": helper.id})
    assert resp.status_code == 302
    phone = app.test_client()
    phone.post("/login", data={"username": "helper-li", "password": factories.PASSWORD})
    job = phone.get(f"/field/jobs/{slip.number}")
    assert job.status_code == 200 and "You help on this job" in text(job)
    assert slip.number in phone.get("/field/").get_data(as_text=True)
    shown = boss.get(f"/slips/{slip.number}")
    assert "helper-li" not in text(shown) and helper.full_name in text(shown)
    assert "Helper added" in text(shown)
    slip = reload(db, slip.number)
    gone = boss.post(f"/slips/{slip.number}/helpers/remove",
                     data={"helper-version": slip.version, "helper-helper_id": helper.id})
    assert gone.status_code == 302
    assert phone.get(f"/field/jobs/{slip.number}").status_code == 404


def test_a_clerk_cannot_send_helpers(clerk, staff, db):
    slip = drive(new_slip(staff), staff, State.DISPATCHED)
    helper = factories.user("worker")
    db.session.commit()
    assert clerk.post(f"/slips/{slip.number}/helpers", data={
        "helper-version": slip.version, "helper-helper_id": helper.id}).status_code == 403
    assert 'action="/slips/' + slip.number + '/helpers"' not in clerk.get(
        f"/slips/{slip.number}").get_data(as_text=True)
