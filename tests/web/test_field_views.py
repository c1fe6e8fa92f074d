"""The worker's phone: own jobs only, the legal next steps only, each tap applied once, and
bad input told plainly with nothing changed."""
from __future__ import annotations

import base64
from datetime import timedelta
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageDraw
from sqlalchemy import func, select

from app.domain.slip_states import State
from app.extensions import db as _db
from app.models.slips import Slip, SlipEvent, SlipPhoto
from app.services import clock
from app.services import slips as svc
from app.web.filters import local_time
from tests import factories
from tests.web.pages import field_errors, flashes, form_alerts, grab, text

# ---- reading the phone's page ------------------------------------------------------------


class _Forms(HTMLParser):
    """Every form of the page: its action and the values it would send as it stands."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action", ""), "fields": {}, "attrs": a,
                          "buttons": []}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            if a.get("type") in ("radio", "checkbox") and "checked" not in a:
                return
            if a.get("type") == "file":
                return
            self._form["fields"][a["name"]] = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._form["fields"][a["name"]] = ""
        elif tag == "button":
            self._form["buttons"].append(a)

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            self._form["fields"][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._form = None


def forms(page) -> list[dict]:
    parser = _Forms()
    parser.feed(page.get_data(as_text=True))
    return parser.forms


def action_form(page, action: str) -> dict:
    """The form that posts `action` on the job page, as the worker would send it."""
    found = [f for f in forms(page) if f["action"].endswith(f"/{action}")]
    assert len(found) == 1, (
        f"expected one {action} form, found {[f['action'] for f in forms(page)]}")
    return found[0]


def action_names(page) -> list[str]:
    """The job's action buttons, by the action each posts."""
    return [f["action"].rsplit("/", 1)[1] for f in forms(page)
            if "/field/jobs/" in f["action"] and not f["action"].endswith("/photos")]


def tap(client, number: str, action: str, page=None, **fields):
    """Open the job (or use `page`) and send its `action` form with `fields` changed."""
    page = page or client.get(f"/field/jobs/{number}")
    data = dict(action_form(page, action)["fields"])
    data.pop("csrf_token", None)
    data.update(fields)
    return client.post(f"/field/jobs/{number}/{action}", data=data), data


def reload(slip: Slip) -> Slip:
    _db.session.expire_all()
    return _db.session.get(Slip, slip.id)


def events(slip: Slip, action: str | None = None) -> int:
    q = select(func.count()).select_from(SlipEvent).where(SlipEvent.slip_id == slip.id)
    if action:
        q = q.where(SlipEvent.action == action)
    return _db.session.scalar(q)


def signature_url(ink=True) -> str:
    image = Image.new("RGBA", (360, 180), (0, 0, 0, 0))
    if ink:
        ImageDraw.Draw(image).line([(30, 140), (90, 40), (170, 150), (320, 50)], fill="#111",
                                   width=5)
    out = BytesIO()
    image.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def phone_photo() -> bytes:
    image = Image.new("RGB", (640, 480), (90, 120, 200))
    exif = Image.Exif()
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (31.0, 14.0, 2.0)
    out = BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


# ---- fixtures ----------------------------------------------------------------------------


@pytest.fixture
def phone(login_as):
    """The worker's phone, signed in."""
    return login_as("worker")


@pytest.fixture
def supervisor(db):
    return factories.user("supervisor")


def job_for(worker, supervisor, *, state: str = "dispatched", **kw) -> Slip:
    """A slip dispatched to `worker` and brought to `state` through the services."""
    slip = factories.slip(**kw)
    svc.dispatch(slip, supervisor, worker.id)
    if state in ("accepted",):
        svc.accept(slip, worker)
    if state in ("on_site", "awaiting_price", "in_progress", "completed"):
        svc.check_in(slip, worker)
    if state == "awaiting_price":
        line = slip.lines[0]
        svc.confirm_fee(slip, worker, {line.id: (line.list_max_fen or 0) + 10000})
    if state in ("in_progress", "completed"):
        svc.confirm_fee(slip, worker, {})
    if state == "completed":
        svc.complete(slip, worker, svc.Acceptance("张伟", "signatures/x.png", True))
    if state == "nobody_home":
        svc.nobody_home(slip, worker)
    _db.session.commit()
    return slip


def range_slip_lines(pl):
    """One fixed item (unclog, ¥30) and one range item (tap, ¥10–30) ×2."""
    return [svc.LineRequest(pl.items[0].id, 1, None), svc.LineRequest(pl.items[2].id, 2, 2000)]


@pytest.fixture
def pl(db):
    pl = factories.price_list(factories.user("manager"))
    _db.session.commit()
    return pl


# ---- the list ----------------------------------------------------------------------------

def test_the_list_shows_own_jobs_urgent_first_then_by_time(phone, supervisor, pl):
    now = clock.now()
    later = job_for(phone.user, supervisor, window=(now + timedelta(hours=5),
                                                     now + timedelta(hours=6)),
                    notes="大狗 big dog, keep the door shut")
    sooner = job_for(phone.user, supervisor, window=(now + timedelta(hours=1),
                                                      now + timedelta(hours=2)))
    urgent = job_for(phone.user, supervisor, urgent=True, window=(now + timedelta(hours=8),
                                                                   now + timedelta(hours=9)))
    someone_elses = job_for(factories.user("worker"), supervisor)

    page = phone.get("/field/")
    assert page.status_code == 200
    cards = grab(page, lambda tag, a: tag == "li" and "job-card" in a.get("class", ""))
    assert [c.split()[0] for c in cards] == [urgent.unit.label, sooner.unit.label,
                                             later.unit.label]
    assert someone_elses.number not in page.text and someone_elses.unit.label not in text(page)
    assert "Urgent" in cards[0] and "Dispatched" in cards[0]
    assert "大狗 big dog, keep the door shut" in cards[2]
    start = later.window_start.astimezone(clock.zone()).strftime("%H:%M")
    assert start in cards[2]
    assert "Unclog a drain" in cards[1]


def test_finished_and_nobody_home_jobs_of_today_are_listed_below(phone, supervisor, pl):
    done = job_for(phone.user, supervisor, state="completed")
    away = job_for(phone.user, supervisor, state="nobody_home")
    open_job = job_for(phone.user, supervisor)

    page = phone.get("/field/")
    body = page.get_data(as_text=True)
    assert body.index(open_job.number) < body.index("Finished, or nobody home")
    tail = body[body.index("Finished, or nobody home"):]
    assert done.number in tail and away.number in tail


def test_the_list_refreshes_itself_when_something_changes(phone, supervisor, pl):
    page = phone.get("/field/")
    region = grab(page, lambda tag, a: a.get("id") == "jobs")
    assert region and "No jobs assigned to you today" in region[0]
    assert 'hx-trigger="live-changed from:body"' in page.text
    assert 'data-live="/live/"' in page.text

    new = job_for(phone.user, supervisor)  # the supervisor dispatches meanwhile
    part = phone.get("/field/", headers={"HX-Request": "true"})
    assert part.status_code == 200
    assert part.text.lstrip().startswith("<section") and "<html" not in part.text
    assert new.number in part.text


def test_an_empty_day_says_so_and_keeps_the_price_button(phone):
    page = phone.get("/field/")
    assert "No jobs assigned to you today" in text(page)
    assert "Look up a price" in text(page)


# ---- one job -----------------------------------------------------------------------------

def test_a_job_shows_what_the_worker_needs_at_the_door(phone, supervisor, pl, db):
    resident = factories.resident(name="李娜", phone="139 0000 2222", notes="哮喘 asthma")
    slip = job_for(phone.user, supervisor, unit_=resident.unit, resident=resident,
                   contact_name="李娜", contact_phone="139 0000 2222",
                   request="Kitchen drain blocked", notes="猫 cat: do not let it out",
                   lines=range_slip_lines(pl))
    page = phone.get(f"/field/jobs/{slip.number}")
    assert page.status_code == 200
    body = text(page)
    assert slip.unit.label in body and slip.number in body
    assert "李娜" in body
    assert 'href="tel:13900002222"' in page.text
    assert "猫 cat: do not let it out" in body and "哮喘 asthma" in body
    notes = grab(page, lambda tag, a: "job-notes-box" in a.get("class", ""))
    assert notes and "猫 cat" in notes[0]     # in the warning box, not buried
    assert "Kitchen drain blocked" in body
    items = grab(page, lambda tag, a: "job-items" in a.get("class", ""))[0]
    assert "Unclog a drain" in items and "¥30.00" in items
    assert "Replace a tap" in items and "2 × ¥20" in items and "¥40.00" in items
    assert "¥70.00" in items  # the quoted total


def test_only_the_legal_next_actions_are_offered(phone, supervisor, pl):
    dispatched = job_for(phone.user, supervisor)
    assert action_names(phone.get(f"/field/jobs/{dispatched.number}")) == [
        "accept", "check_in", "nobody_home"]  # cancelling is the office's, never the worker's
    on_site = job_for(phone.user, supervisor, state="on_site")
    assert action_names(phone.get(f"/field/jobs/{on_site.number}")) == ["confirm_fee", "refuse"]
    working = job_for(phone.user, supervisor, state="in_progress")
    assert action_names(phone.get(f"/field/jobs/{working.number}")) == \
        ["complete", "pause", "dispute"]
    waiting = job_for(phone.user, supervisor, state="awaiting_price")
    assert action_names(phone.get(f"/field/jobs/{waiting.number}")) == ["refuse"]
    done = job_for(phone.user, supervisor, state="completed")
    assert action_names(phone.get(f"/field/jobs/{done.number}")) == ["dispute"]


@pytest.mark.parametrize("path", ["/field/jobs/{n}", "/field/jobs/{n}/door"])
def test_another_workers_slip_is_not_shown(phone, supervisor, pl, path):
    theirs = job_for(factories.user("worker"), supervisor, notes="secret code 1234")
    page = phone.get(path.format(n=theirs.number))
    assert page.status_code == 404
    assert "This slip is not assigned to you" in text(page)
    assert "secret code 1234" not in page.text and theirs.unit.label not in page.text


def test_a_number_with_a_nul_byte_is_refused_before_any_page_reads_it(phone):
    assert phone.get("/field/jobs/YC202611-0001%00/door").status_code == 400


@pytest.mark.parametrize("number", ["YC209901-9999", "x" * 300, "%25", "<script>"])
def test_an_unknown_number_is_not_found_plainly(phone, number):
    page = phone.get(f"/field/jobs/{number}/door")
    assert page.status_code == 404
    assert "This slip is not assigned to you" in text(page)
    assert "<script>" not in page.text.split("<main", 1)[1]


def test_the_office_cannot_use_the_phone_screens(login_as, supervisor, pl):
    clerk = login_as("clerk")
    slip = job_for(factories.user("worker"), supervisor)
    assert clerk.get(f"/field/jobs/{slip.number}").status_code == 403
    assert clerk.post(f"/field/jobs/{slip.number}/accept", data={}).status_code == 403


def test_the_door_opens_the_job_with_check_in_ready(phone, supervisor, pl):
    slip = job_for(phone.user, supervisor)
    page = phone.get(f"/field/jobs/{slip.number}/door")
    assert page.status_code == 200
    check_in = action_form(page, "check_in")
    assert "ready" in check_in["attrs"]["class"]
    assert any("autofocus" in b for b in check_in["buttons"])
    assert "damage_note" in check_in["fields"]
    body = page.get_data(as_text=True)
    assert body.index("/check_in") < body.index("/accept")  # check in comes first


def test_the_door_after_check_in_just_shows_the_job(phone, supervisor, pl):
    slip = job_for(phone.user, supervisor, state="on_site")
    page = phone.get(f"/field/jobs/{slip.number}/door")
    assert page.status_code == 200
    assert "check_in" not in action_names(page)
    assert "On site" in text(page)


# ---- taking the actions ------------------------------------------------------------------

def test_accept_then_check_in_with_damage_found(phone, supervisor, pl):
    slip = job_for(phone.user, supervisor)
    resp, _ = tap(phone, slip.number, "accept")
    assert resp.status_code == 302 and resp.location.endswith(f"/field/jobs/{slip.number}")
    assert reload(slip).state == State.ACCEPTED
    page = phone.get(resp.location)
    assert f"Job {slip.number} accepted." in flashes(page)

    resp, _ = tap(phone, slip.number, "check_in", damage_note="Scratch on the bathroom door")
    assert resp.status_code == 302
    slip = reload(slip)
    assert slip.state == State.ON_SITE and slip.checked_in_at is not None
    assert slip.damage_note == "Scratch on the bathroom door"
    page = phone.get(resp.location)
    assert any(m.startswith("Checked in at ") for m in flashes(page))
    assert "Scratch on the bathroom door" in text(page)


def test_a_resent_tap_is_applied_once(phone, supervisor, pl):
    slip = job_for(phone.user, supervisor)
    first, data = tap(phone, slip.number, "check_in")
    again = phone.post(f"/field/jobs/{slip.number}/check_in", data=data)  # the same tap
    assert first.status_code == again.status_code == 302
    assert reload(slip).state == State.ON_SITE
    assert events(slip, "check_in") == 1


def test_an_action_on_a_slip_that_moved_on_changes_nothing(phone, supervisor, pl):
    slip = job_for(phone.user, supervisor)
    old_page = phone.get(f"/field/jobs/{slip.number}")
    svc.dispatch(slip, supervisor, phone.user.id, window_start=clock.now(),
                 window_end=clock.now() + timedelta(hours=1))  # a new time
    _db.session.commit()
    version = reload(slip).version

    resp, _ = tap(phone, slip.number, "accept", page=old_page)
    assert resp.status_code == 422
    assert any("changed since you opened it" in m for m in form_alerts(resp))
    assert reload(slip).state == State.DISPATCHED and reload(slip).version == version
    assert events(slip, "accept") == 0


def test_an_action_the_state_does_not_allow_is_refused(phone, supervisor, pl):
    slip = job_for(phone.user, supervisor, state="on_site")
    page = phone.get(f"/field/jobs/{slip.number}")
    fee = action_form(page, "confirm_fee")["fields"]
    resp = phone.post(f"/field/jobs/{slip.number}/accept",
                      data={"version": fee["version"],
                            "request_key": "forged-key-0001"})
    assert resp.status_code == 422
    assert any("not possible now" in m for m in form_alerts(resp))
    assert reload(slip).state == State.ON_SITE


def test_a_forged_post_for_another_workers_slip_changes_nothing(phone, supervisor, pl):
    other = factories.user("worker")
    theirs = job_for(other, supervisor)
    before = (reload(theirs).version, events(theirs))
    for action in ("accept", "check_in", "nobody_home", "refuse"):
        resp = phone.post(f"/field/jobs/{theirs.number}/{action}",
                          data={"version": before[0], "request_key": f"forge-{action}-1",
                                "note": "forged"})
        assert resp.status_code == 404
        assert "This slip is not assigned to you" in text(resp)
    assert (reload(theirs).version, events(theirs)) == before
    assert reload(theirs).state == State.DISPATCHED


@pytest.mark.parametrize("fields, message", [
    ({"version": ""}, "out of date"),
    ({"version": "abc"}, "out of date"),
    ({"request_key": ""}, "out of date"),
    ({"request_key": "bad key with spaces"}, "out of date"),
])
def test_a_tap_without_its_hidden_fields_is_refused(phone, supervisor, pl, fields, message):
    slip = job_for(phone.user, supervisor)
    resp, _ = tap(phone, slip.number, "accept", **fields)
    assert resp.status_code == 422
    assert any(message in m for m in form_alerts(resp))
    assert reload(slip).state == State.DISPATCHED


def test_a_get_on_an_action_or_an_unknown_action_is_not_a_500(phone, supervisor, pl):
    slip = job_for(phone.user, supervisor)
    assert phone.get(f"/field/jobs/{slip.number}/accept").status_code == 405
    assert phone.post(f"/field/jobs/{slip.number}/dispatch", data={}).status_code == 404
    assert phone.post(f"/field/jobs/{slip.number}/approve_price", data={}).status_code == 404


def test_nobody_home_records_the_attempt_and_offers_the_reminder_card(phone, supervisor, pl):
    slip = job_for(phone.user, supervisor)
    resp, _ = tap(phone, slip.number, "nobody_home")
    assert resp.status_code == 302
    slip = reload(slip)
    assert slip.state == State.NOBODY_HOME and slip.nobody_home_count == 1
    assert slip.paused_since is not None
    page = phone.get(resp.location)
    flash = flashes(page)[0]
    assert flash.startswith("Nobody home recorded at ")
    assert "goes back to the office for a new time" in flash
    assert f'href="/slips/{slip.number}/card.pdf"' in page.text
    assert action_names(page) == []  # no check in again until a new time is set


def test_the_worker_cannot_cancel_from_the_phone(phone, supervisor, pl):
    slip = job_for(phone.user, supervisor, state="on_site")
    resp = phone.post(f"/field/jobs/{slip.number}/cancel",
                      data={"version": reload(slip).version, "request_key": "cancel-0000001",
                            "note": "Resident called it off at the door"})
    assert resp.status_code == 404
    assert reload(slip).state == State.ON_SITE and reload(slip).cancel_reason == ""


def test_a_refusal_at_the_door_needs_the_residents_reason(phone, supervisor, pl):
    slip = job_for(phone.user, supervisor, state="on_site")
    page = phone.get(f"/field/jobs/{slip.number}")
    assert "What the resident said" in text(page)
    resp, _ = tap(phone, slip.number, "refuse", note="  ")
    assert resp.status_code == 422
    assert field_errors(resp, "refuse-note") == ["Give a reason."]
    assert reload(slip).state == State.ON_SITE
    resp, _ = tap(phone, slip.number, "refuse", note="Too dear, the resident says")
    assert resp.status_code == 302
    page = phone.get(resp.location)
    assert flashes(page)[0].startswith("Refusal recorded: the supervisor decides")
    assert "Take no money." in flashes(page)[0]
    assert "Refused: waiting for the supervisor" in text(page)
    assert "Too dear, the resident says" in text(page)
    slip = reload(slip)
    assert slip.state == State.REFUSED and slip.refusal_reason == "Too dear, the resident says"
    assert action_names(page) == []  # the supervisor decides now


def test_a_job_cancelled_by_the_office_tells_the_worker_not_to_go(phone, supervisor, pl):
    slip = job_for(phone.user, supervisor)
    svc.cancel(reload(slip), factories.user("clerk"), "Resident called the desk: not needed")
    _db.session.commit()
    home = text(phone.get("/field/"))
    assert f"{reload(slip).unit.label} Cancelled" in home  # it went from today's jobs, marked
    page = text(phone.get(f"/field/jobs/{slip.number}"))
    assert "Cancelled by the office: do not go" in page
    assert "Resident called the desk: not needed" in page


# ---- the fee -----------------------------------------------------------------------------

def test_fixed_items_are_fixed_and_range_items_editable(phone, supervisor, pl):
    slip = job_for(phone.user, supervisor, state="on_site", lines=range_slip_lines(pl))
    page = phone.get(f"/field/jobs/{slip.number}")
    fields = action_form(page, "confirm_fee")["fields"]
    fixed, ranged = slip.lines
    assert f"p{fixed.id}" not in fields
    assert fields[f"p{ranged.id}"] == "20"
    assert "list ¥10–¥30" in text(page)


def test_a_fee_inside_the_range_starts_the_work(phone, supervisor, pl):
    slip = job_for(phone.user, supervisor, state="on_site", lines=range_slip_lines(pl))
    ranged = slip.lines[1]
    resp, _ = tap(phone, slip.number, "confirm_fee", **{f"p{ranged.id}": "25.50"})
    assert resp.status_code == 302
    slip = reload(slip)
    assert slip.state == State.IN_PROGRESS
    assert slip.agreed_total_fen == 3000 + 2 * 2550
    assert "Fee agreed: ¥81.00. Work can start." in flashes(phone.get(resp.location))


@pytest.mark.parametrize("blank", [" ", "   ", "\u3000", "\u3000\u3000", "\t"])
def test_a_door_price_of_only_spaces_is_asked_for_again(phone, supervisor, pl, blank):
    """Spaces, also the full-width space a Chinese input method types: the price is missing."""
    slip = job_for(phone.user, supervisor, state="on_site", lines=range_slip_lines(pl))
    ranged = slip.lines[1]
    resp, _ = tap(phone, slip.number, "confirm_fee", **{f"p{ranged.id}": blank})
    assert resp.status_code == 422
    assert field_errors(resp, f"p{ranged.id}") == ["Enter the price agreed with the resident."]
    assert reload(slip).state == State.ON_SITE


def test_a_fee_outside_the_range_waits_for_the_supervisor_live(phone, supervisor, pl):
    slip = job_for(phone.user, supervisor, state="on_site", lines=range_slip_lines(pl))
    ranged = slip.lines[1]
    resp, _ = tap(phone, slip.number, "confirm_fee", **{f"p{ranged.id}": "45"})
    assert resp.status_code == 302
    slip = reload(slip)
    assert slip.state == State.AWAITING_PRICE
    page = phone.get(resp.location)
    assert "the supervisor must approve it" in flashes(page)[0]
    assert "Waiting for the supervisor" in text(page)
    version = slip.version

    # Nothing changed yet: the live refresh keeps the screen as it is.
    quiet = phone.get(f"/field/jobs/{slip.number}?v={version}", headers={"HX-Request": "true"})
    assert quiet.status_code == 204
    svc.approve_price(slip, supervisor)
    _db.session.commit()
    live = phone.get(f"/field/jobs/{slip.number}?v={version}", headers={"HX-Request": "true"})
    assert live.status_code == 200 and "<html" not in live.text
    assert "In progress" in text(live) and "Waiting for the supervisor" not in text(live)
    assert action_names(live) == ["complete", "pause", "dispute"]


def test_a_refused_price_shows_the_reason_and_asks_again(phone, supervisor, pl):
    slip = job_for(phone.user, supervisor, state="awaiting_price")
    svc.reject_price(slip, supervisor, "Too high for a drain; ¥30 is the list price")
    _db.session.commit()
    page = phone.get(f"/field/jobs/{slip.number}")
    assert "The supervisor refused the price" in text(page)
    assert "Too high for a drain; ¥30 is the list price" in text(page)
    assert "confirm_fee" in action_names(page)


@pytest.mark.parametrize("price, message", [
    ("-5", "Enter an amount in yuan"),
    ("abc", "Enter an amount in yuan"),
    ("", "Enter the price agreed with the resident."),
    ("1e9", "Enter an amount in yuan"),
    ("99999999", "not plausible"),
    ("12.345", "Enter an amount in yuan"),
])
def test_a_bad_price_is_refused_next_to_its_line(phone, supervisor, pl, price, message):
    slip = job_for(phone.user, supervisor, state="on_site", lines=range_slip_lines(pl))
    ranged = slip.lines[1]
    resp, _ = tap(phone, slip.number, "confirm_fee", **{f"p{ranged.id}": price})
    assert resp.status_code == 422
    errors = field_errors(resp, f"p{ranged.id}")
    assert errors and message in errors[0]
    slip = reload(slip)
    assert slip.state == State.ON_SITE and slip.agreed_total_fen is None
    assert slip.lines[1].final_price_fen is None


# ---- completing --------------------------------------------------------------------------

def test_complete_with_the_residents_signature(phone, supervisor, pl, app):
    slip = job_for(phone.user, supervisor, state="in_progress")
    page = phone.get(f"/field/jobs/{slip.number}")
    assert action_form(page, "complete")["fields"]["acceptance_name"] == "张伟"
    assert "<canvas" in page.text and "Clear signature" in text(page)
    resp, data = tap(phone, slip.number, "complete", page=page, materials="1 m PVC pipe",
                     acceptance_name="张伟", signature=signature_url(), satisfied="yes",
                     remarks="Quick and tidy")
    assert resp.status_code == 302
    slip = reload(slip)
    assert slip.state == State.COMPLETED
    assert (slip.acceptance_name, slip.satisfied, slip.acceptance_remarks, slip.materials) == (
        "张伟", True, "Quick and tidy", "1 m PVC pipe")
    assert slip.signature_file.startswith(f"signatures/{slip.number}-")
    stored = Path(app.instance_path) / slip.signature_file
    assert Image.open(stored).format == "PNG"
    page = phone.get(resp.location)
    assert "Hand the slip back at the desk" in flashes(page)[0]

    files = set(stored.parent.glob("*"))
    again = phone.post(f"/field/jobs/{slip.number}/complete", data=data)  # resent
    assert again.status_code == 302 and events(slip, "complete") == 1
    assert set(stored.parent.glob("*")) == files  # the same file, written again


@pytest.mark.parametrize("fields, field, message", [
    ({"signature": ""}, "signature", "The resident must sign on the screen."),
    ({"signature": signature_url(ink=False)}, "signature", "The signature is empty"),
    ({"signature": "data:image/gif;base64,R0lGODlhAQABAAAAACw="}, "signature",
     "could not be read"),
    ({"acceptance_name": ""}, "acceptance_name", "The resident's name is needed"),
    ({"satisfied": None}, "satisfied", "Ask whether the resident is satisfied."),
    ({"materials": "x" * 1001}, "materials", "At most 1000 characters."),
])
def test_an_incomplete_acceptance_is_refused(phone, supervisor, pl, app, fields, field, message):
    slip = job_for(phone.user, supervisor, state="in_progress")
    signatures = Path(app.instance_path) / "signatures"
    before = set(signatures.glob("*")) if signatures.exists() else set()
    data = {"acceptance_name": "张伟", "signature": signature_url(), "satisfied": "no"}
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    resp, _ = tap(phone, slip.number, "complete", **data)
    assert resp.status_code == 422
    errors = field_errors(resp, field)
    assert errors and message in errors[0], errors
    slip = reload(slip)
    assert slip.state == State.IN_PROGRESS and slip.signature_file == ""
    assert (set(signatures.glob("*")) if signatures.exists() else set()) == before


# ---- photos ------------------------------------------------------------------------------

def test_a_photo_from_the_job_is_kept_without_its_location(phone, supervisor, pl, app):
    slip = job_for(phone.user, supervisor, state="on_site")
    page = phone.get(f"/field/jobs/{slip.number}")
    assert 'accept="image/*"' in page.text and 'capture="environment"' in page.text
    resp = phone.post(f"/field/jobs/{slip.number}/photos",
                      data={"kind": "damage", "photo": (BytesIO(phone_photo()), "IMG_0001.JPG")},
                      content_type="multipart/form-data")
    assert resp.status_code == 302
    photo = _db.session.scalar(select(SlipPhoto).where(SlipPhoto.slip_id == slip.id))
    assert photo.kind == "damage" and photo.file.startswith(f"photos/{slip.number}/")
    kept = Image.open(Path(app.instance_path) / photo.file)
    assert not kept.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    page = phone.get(resp.location)
    assert "Photo saved." in flashes(page)
    listed = grab(page, lambda tag, a: "photo-list" in a.get("class", ""))
    assert listed and "Damage" in listed[0]
    assert f'src="/slips/{slip.number}/photos/{photo.id}"' in page.text


@pytest.mark.parametrize("upload, message", [
    ((BytesIO(b"MZ\x90\x00 a program, renamed"), "photo.jpg"), "This file is not a photo"),
    ((BytesIO(b"<html>hi</html>"), "photo.png"), "This file is not a photo"),
    (None, "Choose a photo."),
])
def test_a_file_that_is_not_a_photo_is_refused(phone, supervisor, pl, upload, message):
    slip = job_for(phone.user, supervisor, state="on_site")
    data = {"kind": "before"}
    if upload:
        data["photo"] = upload
    resp = phone.post(f"/field/jobs/{slip.number}/photos", data=data,
                      content_type="multipart/form-data")
    assert resp.status_code == 422
    assert message in field_errors(resp, "photo")[0]
    assert _db.session.scalar(select(func.count()).select_from(SlipPhoto)) == 0


def test_a_photo_over_the_limit_is_refused(phone, supervisor, pl, app, monkeypatch):
    slip = job_for(phone.user, supervisor, state="on_site")
    monkeypatch.setitem(app.config, "PHOTO_MAX_BYTES", 1000)
    resp = phone.post(f"/field/jobs/{slip.number}/photos",
                      data={"kind": "after", "photo": (BytesIO(phone_photo()), "big.jpg")},
                      content_type="multipart/form-data")
    assert resp.status_code == 422
    assert "larger than" in field_errors(resp, "photo")[0]
    assert _db.session.scalar(select(func.count()).select_from(SlipPhoto)) == 0


def test_a_request_over_the_upload_limit_gets_a_clear_page(phone, supervisor, pl, app):
    slip = job_for(phone.user, supervisor, state="on_site")
    big = BytesIO(b"\xff" * (app.config["MAX_CONTENT_LENGTH"] + 10))
    resp = phone.post(f"/field/jobs/{slip.number}/photos",
                      data={"kind": "after", "photo": (big, "huge.jpg")},
                      content_type="multipart/form-data")
    assert resp.status_code == 413
    assert "too large" in text(resp)


def test_no_photos_before_checking_in(phone, supervisor, pl):
    slip = job_for(phone.user, supervisor)
    assert "/photos" not in phone.get(f"/field/jobs/{slip.number}").text
    resp = phone.post(f"/field/jobs/{slip.number}/photos",
                      data={"kind": "before", "photo": (BytesIO(phone_photo()), "a.jpg")},
                      content_type="multipart/form-data")
    assert resp.status_code == 422
    assert any("after checking in" in m for m in form_alerts(resp))


def test_a_photo_for_another_workers_slip_is_refused(phone, supervisor, pl):
    theirs = job_for(factories.user("worker"), supervisor, state="on_site")
    resp = phone.post(f"/field/jobs/{theirs.number}/photos",
                      data={"kind": "before", "photo": (BytesIO(phone_photo()), "a.jpg")},
                      content_type="multipart/form-data")
    assert resp.status_code == 404
    assert _db.session.scalar(select(func.count()).select_from(SlipPhoto)) == 0


# ---- the phone in Chinese ----------------------------------------------------------------

def test_the_job_page_follows_the_workers_language(phone, supervisor, pl):
    slip = job_for(phone.user, supervisor)
    phone.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN,zh;q=0.9"
    page = phone.get(f"/field/jobs/{slip.number}")
    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.text
    assert "Unclog a drain" not in text(page) and "疏通下水" in text(page)


def test_after_a_refusal_the_form_carries_the_slip_as_it_is_now(phone, supervisor, pl):
    slip = job_for(phone.user, supervisor, state="on_site", lines=range_slip_lines(pl))
    old_page = phone.get(f"/field/jobs/{slip.number}")
    slip.damage_note = "changed at the desk"
    slip.updated_at = clock.now()
    _db.session.commit()  # the slip moved on (its version grew) while the phone showed it
    ranged = reload(slip).lines[1]
    resp, sent = tap(phone, slip.number, "confirm_fee", page=old_page,
                     **{f"p{ranged.id}": "25"})
    assert resp.status_code == 422
    again = action_form(resp, "confirm_fee")["fields"]
    assert int(again["version"]) == reload(slip).version
    assert again["request_key"] != sent["request_key"]
    assert again[f"p{ranged.id}"] == "25"  # what the worker typed is kept
    retry = phone.post(f"/field/jobs/{slip.number}/confirm_fee",
                       data={k: v for k, v in again.items() if k != "csrf_token"})
    assert retry.status_code == 302 and reload(slip).state == State.IN_PROGRESS


def test_a_bad_price_is_told_in_chinese_on_a_chinese_phone(phone, supervisor, pl, app):
    from tests.web.pages import chinese
    slip = job_for(phone.user, supervisor, state="on_site", lines=range_slip_lines(pl))
    ranged = slip.lines[1]
    phone.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN,zh;q=0.9"
    resp, _ = tap(phone, slip.number, "confirm_fee", **{f"p{ranged.id}": "-5"})
    assert resp.status_code == 422
    assert field_errors(resp, f"p{ranged.id}") == [
        chinese(app, "Enter an amount in yuan, e.g. 30 or 12.50.")]
    assert reload(slip).state == State.ON_SITE


def test_a_job_given_to_someone_else_meanwhile_says_so_on_the_next_refresh(phone, supervisor,
                                                                             pl):
    slip = job_for(phone.user, supervisor)
    version = slip.version
    svc.dispatch(slip, supervisor, factories.user("worker").id)  # reassigned
    _db.session.commit()
    live = phone.get(f"/field/jobs/{slip.number}?v={version}", headers={"HX-Request": "true"})
    assert live.status_code == 200 and "<html" not in live.text
    assert 'id="job"' in live.text and "This slip is not assigned to you" in text(live)
    assert slip.number not in grab(phone.get("/field/"), lambda t, a: a.get("id") == "jobs")[0]


def test_a_job_moved_by_the_desk_shows_the_new_time_and_who_moved_it(phone, supervisor, pl):
    slip = job_for(phone.user, supervisor)
    clerk = factories.user("clerk")
    start = reload(slip).window_start + timedelta(days=1)
    svc.move(reload(slip), clerk, start, start + timedelta(hours=2), "Resident is out today")
    _db.session.commit()
    page = text(phone.get(f"/field/jobs/{slip.number}"))
    window = f"{local_time(start, '%m-%d %H:%M')}–{local_time(start + timedelta(hours=2), '%H:%M')}"
    assert f"New time: {window}" in page
    assert f"{clerk.full_name} moved this job at" in page and "Resident is out today" in page


# ---- unfinished work: a second visit -------------------------------------------------------

def test_the_worker_pauses_a_job_for_a_second_visit_and_checks_in_again(phone, supervisor, pl):
    slip = job_for(phone.user, supervisor, state="in_progress")
    day = (clock.local_today() + timedelta(days=2)).isoformat()
    refused, _data = tap(phone, slip.number, "pause", note="", day=day, window_start="09:00",
                         window_end="08:00")
    assert refused.status_code == 422
    assert field_errors(refused, "pause-note") == ["Give a reason."]
    assert reload(slip).state == "in_progress" and events(slip, "pause") == 0
    backwards, _data = tap(phone, slip.number, "pause", note="阀芯要订货", day=day,
                           window_start="09:00", window_end="08:00")
    assert backwards.status_code == 422 and reload(slip).state == "in_progress"
    assert field_errors(backwards, "window_end") == [
        "The time window must end after it starts (past midnight: tick “ends the next day”)."]
    resp, _data = tap(phone, slip.number, "pause", note="阀芯要订货", day=day,
                      window_start="09:00", window_end="11:00")
    assert resp.status_code == 302
    page = phone.get(f"/field/jobs/{slip.number}")
    assert "Second visit:" in text(page) and "阀芯要订货" in text(page)
    assert action_names(page) == ["check_in", "dispute"]
    assert reload(slip).state == "paused"
    back, _data = tap(phone, slip.number, "check_in")
    assert back.status_code == 302 and reload(slip).state == "in_progress"
