"""One slip's life across three screens at once: the clerk's desk (1366×768), the supervisor's
dispatch board (1366×768) and the worker's phone (390×844), each in its own browser context.

Every change made on one screen must show on the others within 2 s, without a reload (the
live app really long-polls: LIVE_WAIT_SECONDS = 10). Each test works on slips it opens itself.
(Poor signal is tests/e2e/test_field_offline.py.)
"""
from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from urllib.parse import unquote

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import func, select

from app.extensions import db
from app.models import Resident, Unit, User
from app.models.slips import Slip, SlipEvent
from app.services import catalogue
from app.services import slips as svc
from tests.e2e.helpers import ready, sign_in, url_path

pytestmark = pytest.mark.e2e

LIVE_MS = 2_000  # the promise: a change shows on every open screen within 2 s
PDF_MS = 30_000  # a first PDF in the process imports WeasyPrint; a busy test machine is slower
# The worker's forward steps on a job ("resident refused" and dispute stay under "Other actions").
STEPS = "form.action-form:not([action$='/refuse']):not([action$='/dispute'])"
NUMBER = re.compile(r"/slips/(YC\d{6}-\d{4,})$")
# A card's dispatch refused on the board answers 422, which Chromium logs as a failed load.
REFUSED_ON_BOARD = r"Failed to load resource: the server responded with a status of 422"


# ---- the live app's data ------------------------------------------------------------------

@dataclass(frozen=True)
class Caller:
    """A demo unit with a recorded resident, as the clerk finds it."""

    unit_key: str     # what the clerk types: "1-1-1001"
    unit_label: str   # what the finder shows: "1栋1单元1001"
    resident_id: int
    resident_name: str


def _caller(live_app, offset: int) -> Caller:
    """A unit with a four-digit number (typing it matches only that unit) and an owner."""
    with live_app.app_context():
        rows = db.session.execute(
            select(Unit.search_key, Unit.label, Resident.id, Resident.name)
            .join(Resident, Resident.unit_id == Unit.id)
            .where(Resident.active.is_(True), Resident.kind == "owner",
                   func.length(Unit.number) == 4)
            .order_by(Unit.id, Resident.id)).all()
        db.session.remove()
    return Caller(*rows[offset])


def _user_ids(live_app) -> dict[str, int]:
    with live_app.app_context():
        ids = dict(db.session.execute(select(User.username, User.id)).all())
        db.session.remove()
    return ids


def _new_slip(live_app, *, item: str, quantity: int = 1, dispatch_to: str | None = None,
              request: str = "Kitchen drain blocked") -> str:
    """A slip opened at the desk for a demo resident (optionally dispatched); its number."""
    with live_app.app_context():
        people = {u.username: u for u in db.session.scalars(select(User))}
        price_list = catalogue.in_force()
        chosen = next(i for i in price_list.items if i.name_zh == item)
        resident = db.session.scalars(
            select(Resident).where(Resident.active.is_(True)).order_by(Resident.id.desc())
            .limit(1)).one()
        slip = svc.open_slip(svc.SlipRequest(
            unit=resident.unit, resident=resident, request=request,
            lines=[svc.LineRequest(chosen.id, quantity, None)]), people["clerk"], price_list)
        if dispatch_to:
            svc.dispatch(slip, people["supervisor"], people[dispatch_to].id)
        db.session.commit()
        number = slip.number
        db.session.remove()
    return number


def _recorded(live_app, number: str) -> tuple[str, list[str], int | None]:
    """(state, the actions of its timeline in order, its worker's id) as the database has it."""
    with live_app.app_context():
        slip = db.session.scalar(select(Slip).where(Slip.number == number))
        actions = list(db.session.scalars(select(SlipEvent.action)
                                          .where(SlipEvent.slip_id == slip.id)
                                          .order_by(SlipEvent.id)))
        found = (slip.state, actions, slip.worker_id)
        db.session.remove()
    return found


# ---- the screens --------------------------------------------------------------------------

def _open(context: BrowserContext, username: str, path: str | None = None) -> Page:
    """A signed-in page of `context`, on `path` (or the person's home), scripts wired up."""
    page = context.new_page()
    sign_in(page, username)
    if path is not None:
        page.goto(path)
        ready(page)
    return page


def _no_reload_mark(page: Page) -> None:
    """Mark the loaded document: the mark survives htmx swaps, not a page load."""
    page.evaluate("window.__sameDocument = true")


def _not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"


def _job_state(page: Page, state: str):
    """The worker's open job shows `state` (its badge and its class)."""
    expect(page.locator(f"#job.state-{state} .job-status .badge.state-{state}")).to_be_visible(
        timeout=LIVE_MS)


def _tap(page: Page, action: str) -> None:
    """Tap one of the job's buttons (the phone sends it with fetch and swaps the answer in)."""
    page.locator(f"#job form.action-form[action$='/{action}'] button[type=submit]").click()


def _sign(page: Page) -> None:
    """The resident signs on the glass: a stroke of pointer moves across the canvas."""
    canvas = page.locator("#job canvas.signature-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + w * 0.15, y + h * 0.6)
    page.mouse.down()
    for i in range(1, 13):  # a wavy name, not one dot
        page.mouse.move(x + w * (0.15 + 0.055 * i), y + h * (0.6 - 0.25 * (i % 2)), steps=3)
    page.mouse.up()
    expect(page.locator("#job .signature-pad.signed")).to_be_visible()
    expect(page.locator("#job input.signature-data")).to_have_value(
        re.compile(r"^data:image/png;base64,.{200,}"))


def _complete(page: Page, name: str, *, satisfied: bool, remarks: str = "") -> None:
    form = page.locator("#job form.complete-form")
    form.locator("textarea[name=materials]").fill("1 m drain hose")
    form.locator("input[name=acceptance_name]").fill(name)
    _sign(page)
    form.locator(f"input[name=satisfied][value={'yes' if satisfied else 'no'}]").check()
    if remarks:
        form.locator("textarea[name=remarks]").fill(remarks)
    form.locator("button[type=submit]").click()


def _shot(page: Page, artifacts, name: str, **kw) -> None:
    """A screenshot for a person to look at. The caret is left alone: hiding it leaves an
    empty style attribute on inputs, which htmx's settle then copies (a CSP report)."""
    page.screenshot(path=str(artifacts / f"slip-flow-{name}.png"), caret="initial", **kw)


def _card(board: Page, number: str, lane: str):
    return board.locator(f"#board .lane-{lane} #card-{number}")


def _scan_printed_slip(context: BrowserContext, number: str, workdir) -> str:
    """Print the slip (its PDF) and scan its QR codes, as the worker's phone camera would."""
    pdf = context.request.get(f"/slips/{number}/slip.pdf", timeout=PDF_MS)
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    (workdir / "slip.pdf").write_bytes(pdf.body())
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(workdir / "slip.pdf"),
                    str(workdir / "slip")], check=True, capture_output=True, timeout=60)
    found = subprocess.run(["zbarimg", "--quiet", "--raw", str(workdir / "slip.png")],
                           capture_output=True, text=True, timeout=60)
    codes = found.stdout.split()
    assert len(codes) == 2 and codes[0] == codes[1], codes  # one on each copy
    return codes[0]


# ---- (a) the happy path ---------------------------------------------------------------------

def test_a_phone_call_becomes_a_signed_slip_live_on_every_screen(
        new_context, live_app, artifacts, tmp_path):
    caller = _caller(live_app, 3)
    worker_id = _user_ids(live_app)["worker"]
    clerk = new_context("desktop", locale="en")
    boss = new_context("desktop", locale="en")
    phone = new_context("phone", locale="en")
    desk = _open(clerk, "clerk")
    board = _open(boss, "supervisor")
    jobs = _open(phone, "worker")
    expect(board).to_have_url(url_path("/supervise/"))
    expect(jobs).to_have_url(url_path("/field/"))
    for page in (board, jobs):
        _no_reload_mark(page)

    # The clerk: the unit as the phone rings, the resident, a paid job, its slip.
    desk.locator("#find-q").press_sequentially(caller.unit_key)
    expect(desk.locator("#matches .match.first .unit-label")).to_have_text(caller.unit_label)
    desk.locator("#find-q").press("Enter")
    expect(desk.locator("#contact-unit .unit-label")).to_have_text(caller.unit_label)
    desk.locator(f"#contact-unit input[name=resident_id][value='{caller.resident_id}']").check()
    desk.locator("#contact-form input[name=channel][value=phone]").check()
    desk.locator("#contact-form input[name=kind][value=paid]").check()
    desk.locator("#contact-form textarea[name=request]").fill("Kitchen drain blocked")
    desk.locator("#contact-form button[type=submit]").click()
    expect(desk).to_have_url(re.compile(r"/desk/contacts/\d+/slip$"))
    ready(desk)
    with desk.expect_response(lambda r: "/slip/items?" in r.url
                              and unquote(r.url).endswith("q=疏通下水")):
        desk.locator("#item-q").press_sequentially("疏通下水")
    expect(desk.locator("#item-hits .hit.first")).to_contain_text("疏通下水")
    desk.locator("#item-q").press("Enter")  # the first match goes on the slip
    lines = desk.locator("#slip-lines tbody tr")
    expect(lines).to_have_count(1)
    expect(lines.first.locator(".fixed-price")).to_have_text("¥30.00")
    expect(desk.locator("#slip-total")).to_have_text("¥30.00")
    desk.locator("#slip-form button[type=submit]").click()

    expect(desk).to_have_url(NUMBER)
    number = NUMBER.search(desk.url).group(1)
    expect(desk.locator("main h1")).to_contain_text(number)
    expect(desk.locator(".flashes")).to_contain_text(f"Slip {number} opened.")
    expect(desk.locator("#slip-state")).to_have_class(re.compile(r"\bstate-registered\b"))

    # The supervisor's open board: the new slip is in the unassigned tray.
    card = _card(board, number, "tray")
    expect(card).to_be_visible(timeout=LIVE_MS)
    expect(card.locator(".where")).to_contain_text(caller.unit_label)
    expect(card.locator(".what")).to_contain_text("Unclog a drain")
    _not_reloaded(board)
    _shot(board, artifacts, "a-board-new-slip")

    # The clerk keeps the desk's slip list open beside the slip page.
    listing = clerk.new_page()
    listing.goto(f"/desk/slips?q={number}")
    ready(listing)
    _no_reload_mark(listing)
    row = listing.locator(f"#desk-slips tr:has(a.slip-no:text-is('{number}'))")
    expect(row.locator(".badge.st-registered")).to_be_visible()
    _no_reload_mark(desk)

    # Dispatch to 陈师傅 from the card.
    card.locator("select[name=worker_id]").select_option(str(worker_id))
    card.locator("form.assign button[type=submit]").click()
    expect(board.locator("#board-note .alert.success")).to_contain_text(
        f"Slip {number} dispatched to 陈师傅.")
    expect(_card(board, number, "dispatched")).to_be_visible()

    # The worker's open phone list has the job; the desk sees the dispatch.
    job_card = jobs.locator(f"#jobs li.job-card[data-slip='{number}']")
    expect(job_card).to_be_visible(timeout=LIVE_MS)
    expect(job_card.locator(".badge.state-dispatched")).to_be_visible()
    _not_reloaded(jobs)
    expect(row.locator(".badge.st-dispatched")).to_be_visible(timeout=LIVE_MS)
    expect(desk.locator("#slip-state.state-dispatched")).to_be_visible(timeout=LIVE_MS)
    _shot(jobs, artifacts, "a-phone-new-job")

    # The worker: opens the job, accepts it.
    job_card.locator("a.job-link").click()
    expect(jobs).to_have_url(url_path(f"/field/jobs/{number}"))
    ready(jobs)
    _tap(jobs, "accept")
    _job_state(jobs, "accepted")
    expect(jobs.locator(".flashes")).to_contain_text(f"Job {number} accepted.")
    expect(_card(board, number, "accepted")).to_be_visible(timeout=LIVE_MS)
    expect(desk.locator("#slip-state.state-accepted")).to_be_visible(timeout=LIVE_MS)

    # At the door: the QR printed on the slip opens the job with "check in" ready.
    door_url = _scan_printed_slip(clerk, number, tmp_path)
    assert door_url.endswith(f"/field/jobs/{number}/door"), door_url
    jobs.goto(door_url)
    ready(jobs)
    check_in = jobs.locator("#job form.check-in.ready button[type=submit]")
    expect(check_in).to_be_focused()
    jobs.locator("#job form.check-in textarea[name=damage_note]").fill(
        "Scratch on the cabinet door")
    check_in.click()
    _job_state(jobs, "on_site")
    expect(jobs.locator(".flashes")).to_contain_text("Checked in at")
    expect(_card(board, number, "on_site")).to_be_visible(timeout=LIVE_MS)
    expect(desk.locator("#slip-state.state-on_site")).to_be_visible(timeout=LIVE_MS)

    # The fee: a fixed list price, agreed with the resident.
    fee = jobs.locator("#job form.fee-form")
    expect(fee.locator(".fee-total .amount")).to_have_text("¥30.00")
    fee.locator("button[type=submit]").click()
    _job_state(jobs, "in_progress")
    expect(jobs.locator(".flashes")).to_contain_text("Fee agreed: ¥30.00. Work can start.")
    expect(_card(board, number, "in_progress")).to_be_visible(timeout=LIVE_MS)
    expect(desk.locator("#slip-state.state-in_progress")).to_be_visible(timeout=LIVE_MS)

    # Done: the resident signs on the glass, satisfied.
    _complete(jobs, caller.resident_name, satisfied=True)
    _job_state(jobs, "completed")
    banner = jobs.locator("#job .banner.done")
    expect(banner).to_contain_text(f"Signed by {caller.resident_name}")
    expect(banner.locator("img.signature-image")).to_be_visible()
    jobs.wait_for_function(  # the stored signature really loads back
        "() => { const img = document.querySelector('#job img.signature-image');"
        " return !!img && img.complete && img.naturalWidth > 0; }")
    _shot(jobs, artifacts, "a-phone-completed", full_page=True)

    # The clerk's open screens follow, without a reload.
    expect(desk.locator("#slip-state.state-completed")).to_be_visible(timeout=LIVE_MS)
    expect(row.locator(".badge.st-completed")).to_be_visible(timeout=LIVE_MS)
    expect(_card(board, number, "completed")).to_be_visible(timeout=LIVE_MS)
    for page in (desk, listing, board):
        _not_reloaded(page)
    expect(desk.locator("#slip-acceptance")).to_contain_text(caller.resident_name)
    expect(desk.locator("#slip-acceptance img.signature-img")).to_be_visible()

    # The worker brings the slip back to the desk (返单).
    desk.locator("#action-hand_back button[type=submit]").click()
    expect(desk.locator(".flashes")).to_contain_text(f"Slip {number} handed back.")
    expect(desk.locator("#slip-state")).to_have_class(re.compile(r"\bstate-handed_back\b"))
    expect(row.locator(".badge.st-handed_back")).to_be_visible(timeout=LIVE_MS)
    expect(board.locator(f"#card-{number}")).to_have_count(0, timeout=LIVE_MS)  # off the board

    steps = ["open", "dispatch", "accept", "check_in", "confirm_fee", "complete", "hand_back"]
    timeline = desk.locator("#slip-timeline tbody tr")
    expect(timeline).to_have_count(len(steps))
    assert timeline.evaluate_all("rows => rows.map(r => r.dataset.action)") == steps
    expect(timeline.nth(1)).to_contain_text("陈师傅")   # dispatched to whom
    expect(timeline.nth(3)).to_contain_text("陈师傅")   # checked in by whom
    expect(desk.locator("#slip-facts")).to_contain_text("Scratch on the cabinet door")
    _shot(desk, artifacts, "a-desk-timeline", full_page=True)
    assert _recorded(live_app, number) == ("handed_back", steps, worker_id)


# ---- (b) nobody home ------------------------------------------------------------------------

def test_b_nobody_home_offers_the_card_and_the_slip_goes_back_to_the_tray(
        new_context, live_app, artifacts, tmp_path):
    number = _new_slip(live_app, item="换水暖件(水龙头)", dispatch_to="worker",
                       request="卫生间水龙头漏水")
    boss = new_context("desktop", locale="zh-CN")
    phone = new_context("phone", locale="zh-CN")
    board = _open(boss, "supervisor")
    expect(_card(board, number, "dispatched")).to_be_visible()
    _no_reload_mark(board)
    job = _open(phone, "worker", f"/field/jobs/{number}")
    _job_state(job, "dispatched")

    job.once("dialog", lambda dialog: dialog.accept())  # "nobody answered after 2–5 minutes?"
    _tap(job, "nobody_home")

    _job_state(job, "nobody_home")
    card_link = job.locator(f"#job .banner.away a[href$='/slips/{number}/card.pdf']")
    expect(card_link).to_be_visible()
    expect(job.locator(f"#job .job-actions {STEPS}")).to_have_count(0)  # the desk finds a new time
    _shot(job, artifacts, "b-phone-nobody-home", full_page=True)

    # The reminder card prints from the phone (the worker's own session).
    pdf = phone.request.get(card_link.get_attribute("href"), timeout=PDF_MS)
    assert pdf.ok, pdf.status
    assert pdf.headers["content-type"] == "application/pdf"
    body = pdf.body()
    assert body.startswith(b"%PDF")
    (tmp_path / "card.pdf").write_bytes(body)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "card.pdf"), "-"],
                          capture_output=True, text=True, check=True, timeout=60).stdout
    assert number in text

    # The board, without a reload: back in the tray, its clock paused, who tried and when.
    card = _card(board, number, "tray")
    expect(card).to_be_visible(timeout=LIVE_MS)
    expect(card).to_have_class(re.compile(r"\bpaused\b"))
    expect(card.locator(".clock.paused")).to_be_visible()
    expect(card.locator(".nobody")).to_contain_text("陈师傅")
    expect(card.locator("select[name=worker_id]")).to_be_visible()  # ready to dispatch again
    _not_reloaded(board)
    card.scroll_into_view_if_needed()
    _shot(board, artifacts, "b-board-paused")

    state, actions, _worker = _recorded(live_app, number)
    assert (state, actions) == ("nobody_home", ["open", "dispatch", "nobody_home"])


# ---- (c) a price outside the range ------------------------------------------------------

def test_c_price_outside_the_range_waits_for_the_supervisor_live(
        new_context, live_app, artifacts):
    # 换水暖件(水龙头): 10–30 yuan per tap; two taps.
    number = _new_slip(live_app, item="换水暖件(水龙头)", quantity=2, dispatch_to="worker",
                       request="厨房和卫生间水龙头都要换")
    boss = new_context("desktop", locale="en")
    phone = new_context("phone", locale="zh-CN")
    board = _open(boss, "supervisor")
    _no_reload_mark(board)
    job = _open(phone, "worker", f"/field/jobs/{number}/door")
    job.locator("#job form.check-in.ready button[type=submit]").click()
    _job_state(job, "on_site")

    fee = job.locator("#job form.fee-form")
    price = fee.locator("input[data-min]")
    expect(price).to_have_value("10")  # the quoted price, the low end of the range
    expect(fee.locator(".outside-hint")).to_be_hidden()
    price.fill("45")
    expect(fee.locator(".outside-hint")).to_be_visible()  # said before it is sent
    expect(fee.locator(".fee-total .amount")).to_have_text("¥90.00")
    fee.locator("button[type=submit]").click()

    _job_state(job, "awaiting_price")
    expect(job.locator("#job .banner.waiting")).to_contain_text("¥90.00")
    expect(job.locator(f"#job .job-actions {STEPS}")).to_have_count(0)  # nothing but wait
    _no_reload_mark(job)
    _shot(job, artifacts, "c-phone-waiting", full_page=True)

    # The board, live: the request waits on the supervisor, with the list range and the ask.
    card = _card(board, number, "decide")
    expect(card).to_be_visible(timeout=LIVE_MS)
    expect(card).to_have_class(re.compile(r"\bneeds-approval\b"))
    box = card.locator(".approve-box")
    expect(box).to_contain_text("The worker asks for a price outside the list")
    expect(box.locator("td.asked")).to_have_text("¥45")
    _not_reloaded(board)
    card.scroll_into_view_if_needed()
    _shot(board, artifacts, "c-board-approval")

    box.locator("form[action$='/approve-price'] button[type=submit]").click()
    expect(board.locator("#board-note .alert.success")).to_contain_text(
        f"Price on slip {number} approved: work may start.")
    expect(_card(board, number, "in_progress")).to_be_visible()

    # The phone that was waiting shows the answer by itself.
    _job_state(job, "in_progress")
    expect(job.locator("#job .banner.waiting")).to_have_count(0)
    expect(job.locator("#job form.complete-form")).to_be_visible()
    expect(job.locator("#job .job-items .total .amount")).to_have_text("¥90.00")
    _not_reloaded(job)
    _shot(job, artifacts, "c-phone-approved")

    _complete(job, "王女士", satisfied=False, remarks="水龙头有点晃")
    _job_state(job, "completed")
    expect(job.locator("#job .banner.done img.signature-image")).to_be_visible()
    expect(_card(board, number, "completed")).to_be_visible(timeout=LIVE_MS)

    state, actions, _worker = _recorded(live_app, number)
    assert (state, actions) == ("completed", ["open", "dispatch", "check_in", "request_price",
                                              "approve_price", "complete"])


# ---- (d) two supervisors dispatch the same slip at the same moment -----------------------

def test_d_two_supervisors_dispatch_the_same_slip_only_one_wins(
        new_context, live_app, console_errors, artifacts):
    console_errors.allow(REFUSED_ON_BOARD)
    number = _new_slip(live_app, item="疏通下水", request="Bathroom drain slow")
    ids = _user_ids(live_app)
    picks = {"supervisor": ids["worker"], "cleaning_lead": ids["worker2"]}
    boards: dict[str, Page] = {}
    answers: dict[str, list[int]] = {}
    for username, locale in (("supervisor", "en"), ("cleaning_lead", "zh-CN")):
        board = _open(new_context("desktop", locale=locale), username)  # both land on the board
        expect(board).to_have_url(url_path("/supervise/"))
        answers[username] = []
        board.on("response", lambda r, seen=answers[username]: seen.append(r.status)
                 if r.request.method == "POST" and r.url.endswith(f"/slips/{number}/dispatch")
                 else None)
        card = _card(board, number, "tray")
        expect(card).to_be_visible()
        card.locator("select[name=worker_id]").select_option(str(picks[username]))
        boards[username] = board

    # Both press "dispatch" at once: the second click goes out before the first is answered.
    buttons = [boards[u].locator(f"#card-{number} form.assign button[type=submit]")
               for u in boards]
    for button in buttons:
        expect(button).to_be_enabled()
    for button in buttons:
        button.click(no_wait_after=True)

    for board in boards.values():
        expect(board.locator("#board-note .alert")).to_be_visible()
    won = [u for u, b in boards.items() if b.locator("#board-note .alert.success").count()]
    lost = [u for u, b in boards.items() if b.locator("#board-note .alert.error").count()]
    assert len(won) == 1 and len(lost) == 1, (won, lost)
    winner, loser = won[0], lost[0]
    assert answers[winner] == [200] and answers[loser] == [422], answers

    # The loser is told plainly, on the board as it is now (not an error page).
    refusal = boards[loser].locator("#board-note .alert.error")
    expect(refusal).to_contain_text(number)
    expect(boards[loser].locator(".error-page")).to_have_count(0)
    for board in boards.values():
        expect(_card(board, number, "dispatched")).to_be_visible(timeout=LIVE_MS)
    name = {ids["worker"]: "陈师傅", ids["worker2"]: "李师傅"}[picks[winner]]
    expect(boards[loser].locator(f"#card-{number} .worker")).to_contain_text(name)
    for username, board in boards.items():
        _shot(board, artifacts, f"d-board-{username}")

    state, actions, worker_id = _recorded(live_app, number)
    assert (state, actions, worker_id) == ("dispatched", ["open", "dispatch"], picks[winner])
    page = boards[winner]
    page.goto(f"/slips/{number}")
    expect(page.locator("#slip-timeline tbody tr[data-action=dispatch]")).to_have_count(1)
    expect(page.locator("#slip-timeline tbody tr")).to_have_count(2)

