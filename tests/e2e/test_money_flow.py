"""Money across screens at once: the worker's phone (390×844) finishes a job while the cashier's
desk (1366×768) is already open, and the slip must reach the till without a reload.

(1) pay now: the resident pays at the office; the cashier takes it in three clicks; a receipt
    and its PDF. (2) a tenant: one click draws the fee from the prepaid deposit. (3) an owner on
    the monthly account: the supervisor reviews the signed entry, the cashier runs month end,
    prints the statement and takes its payment.

Every amount is compared three ways: on screen, in the database and on the PDF. Each test
works on a slip it opens itself for a demo resident, so it can run again on the same database.
"""
from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect
from sqlalchemy import exists, func, select

from app.domain.money import capital_yuan, format_yuan, parse_yuan
from app.extensions import db
from app.models import Resident, Unit, User
from app.models.billing import AccountEntry, Payment, Statement
from app.models.slips import Slip
from app.services import billing, catalogue, clock
from app.services import slips as svc
from tests.e2e.helpers import (
    mark_document,
    ready,
    same_document,
    sign_canvas,
    sign_in,
    url_path,
)
from tests.pdf.conftest import pdf_text

pytestmark = pytest.mark.e2e

LIVE_MS = 2_000     # the promise: a change shows on every open screen within 2 s
PDF_MS = 30_000     # a first PDF in the process imports WeasyPrint; a busy machine is slower
MONTH_END_MS = 20_000  # every unit with reviewed entries, 25 units a step
SHOTS = Path("/tmp/e2e-money")
RECEIPT = re.compile(r"^RC\d{6}-\d{4,6}$")
ITEM = "疏通下水"   # a fixed ¥30 on the demo price list


# ---- the live app's data ------------------------------------------------------------------

@dataclass(frozen=True)
class Job:
    """A slip opened at the desk for a demo resident and dispatched to 陈师傅."""

    number: str
    total_fen: int
    resident_name: str
    unit_key: str     # the unit in URLs: 1-1-1001
    unit_label: str   # as screens and papers show it: 1栋1单元1001


def _with_app(live_app, work):
    with live_app.app_context():
        try:
            return work()
        finally:
            db.session.remove()


def _people() -> dict[str, User]:
    return {u.username: u for u in db.session.scalars(select(User))}


def _resident(live_app, kind: str, *, fresh_month: str | None = None) -> int:
    """An active demo resident of `kind` (the last one that fits). With `fresh_month`: an
    owner whose unit has no statement for that month and no entry waiting to be billed, so
    month end makes a statement of this test's slip alone."""
    def pick() -> int:
        query = (select(Resident.id).join(Unit, Unit.id == Resident.unit_id)
                 .where(Resident.active.is_(True), Resident.kind == kind)
                 .order_by(Resident.id.desc()).limit(1))
        if fresh_month is not None:
            query = query.where(
                ~exists().where(Statement.unit_id == Unit.id, Statement.month == fresh_month),
                ~exists().where(AccountEntry.unit_id == Unit.id,
                                AccountEntry.statement_id.is_(None)))
        found = db.session.scalar(query)
        assert found is not None, f"the demo has no {kind} to use"
        return found
    return _with_app(live_app, pick)


def _dispatched(live_app, resident_id: int, request: str) -> Job:
    """A slip for the resident (one ¥30 drain unclogging), dispatched to the demo worker."""
    def make() -> Job:
        people = _people()
        price_list = catalogue.in_force()
        item = next(i for i in price_list.items if i.name_zh == ITEM)
        resident = db.session.get(Resident, resident_id)
        slip = svc.open_slip(svc.SlipRequest(
            unit=resident.unit, resident=resident, request=request,
            lines=[svc.LineRequest(item.id, 1, None)]), people["clerk"], price_list)
        svc.dispatch(slip, people["supervisor"], people["worker"].id)
        db.session.commit()
        return Job(slip.number, slip.total_fen, resident.name, resident.unit.search_key,
                   resident.unit.label)
    job = _with_app(live_app, make)
    assert job.total_fen > 0
    return job


def _top_up(live_app, unit_key: str, fen: int) -> int:
    """The tenant tops up the deposit at the till (billing.top_up); the balance after."""
    def pay() -> int:
        unit = billing.unit_by_key(unit_key)
        billing.top_up(unit, _people()["cashier"], "cash", fen, payer_name="租户")
        db.session.commit()
        return billing.deposit_balance(unit)
    return _with_app(live_app, pay)


def _balance(live_app, unit_key: str) -> int:
    return _with_app(live_app, lambda: billing.deposit_balance(billing.unit_by_key(unit_key)))


@dataclass(frozen=True)
class Paid:
    state: str
    receipts: list[tuple[str | None, int, str, int]]  # (number, amount, method, deposit move)


def _paid(live_app, number: str) -> Paid:
    """The slip's state and every payment recorded against it, as the database has them."""
    def read() -> Paid:
        slip = db.session.scalar(select(Slip).where(Slip.number == number))
        rows = db.session.execute(select(Payment.number, Payment.amount_fen, Payment.method,
                                         Payment.deposit_fen)
                                  .where(Payment.slip_id == slip.id).order_by(Payment.id)).all()
        return Paid(slip.state, [tuple(r) for r in rows])
    return _with_app(live_app, read)


def _this_month(live_app) -> str:
    """The property's current month, YYYY-MM (what <input type=month> takes)."""
    return _with_app(live_app, lambda: clock.local_today().strftime("%Y-%m"))


# ---- the screens --------------------------------------------------------------------------

def _open(context: BrowserContext, username: str, path: str | None = None) -> Page:
    page = context.new_page()
    sign_in(page, username)
    if path is not None:
        page.goto(path)
        ready(page)
    return page


def _shot(page: Page, name: str, **kw) -> None:
    """A screenshot to look at; the caret left alone (hiding it upsets htmx's settle)."""
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), caret="initial", **kw)


def _job_state(page: Page, state: str) -> None:
    expect(page.locator(f"#job.state-{state} .job-status .badge.state-{state}")).to_be_visible(
        timeout=LIVE_MS)


def _at_work(phone: Page, number: str) -> None:
    """At the door (the slip's QR code): check in, agree the list fee; work under way."""
    phone.goto(f"/field/jobs/{number}/door")
    ready(phone)
    phone.locator("#job form.check-in.ready button[type=submit]").click()
    _job_state(phone, "on_site")
    phone.locator("#job form.fee-form button[type=submit]").click()
    _job_state(phone, "in_progress")


def _route(phone: Page, route: str) -> Locator:
    """The completion form's choice of who pays (pay_now / deposit / on_account), chosen."""
    choice = phone.locator(f"#job form.complete-form label.route-{route}")
    choice.locator(f"input[name=pay_route][value={route}]").check()
    expect(choice.locator("input")).to_be_checked()
    return choice


def _sign_and_complete(phone: Page, name: str) -> None:
    form = phone.locator("#job form.complete-form")
    form.locator("input[name=acceptance_name]").fill(name)
    sign_canvas(phone)
    form.locator("input[name=satisfied][value=yes]").check()
    form.locator("button[type=submit]").click()
    _job_state(phone, "completed")


@contextmanager
def _queue_refresh_after_completion(till: Page, phone: Page, number: str) -> Iterator[None]:
    """Waits, after the block, for the till's queue to be redrawn by a live refresh that
    started after the phone sent the job's completion (not one left over from an earlier
    step). The wait covers the block too: the signing takes a few seconds."""
    sent = {"complete": False}
    after: list = []

    def on_phone(request) -> None:
        if request.method == "POST" and request.url.endswith(f"/field/jobs/{number}/complete"):
            sent["complete"] = True

    def on_till(request) -> None:
        if sent["complete"] and request.method == "GET" \
                and url_path("/cashier/").match(request.url) \
                and request.headers.get("hx-request") == "true":
            after.append(request)

    phone.on("request", on_phone)
    till.on("request", on_till)
    try:
        with till.expect_response(lambda r: r.request in after, timeout=15_000):
            yield
    finally:
        phone.remove_listener("request", on_phone)
        till.remove_listener("request", on_till)


def _queue_row(till: Page, number: str) -> Locator:
    return till.locator(f"#queue tr.queue-row[data-slip='{number}']")


def _receipt_done(till: Page, number: str) -> str:
    """The receipt number the payment panel shows for this slip."""
    shown = till.locator(f"#pay-panel[data-slip='{number}'] .receipt-done .big-number strong")
    expect(shown).to_have_text(re.compile(r"^RC\d{6}-\d{4,6}$"))
    return shown.inner_text().strip()


def _pdf(context: BrowserContext, href: str | None, workdir: Path, name: str) -> str:
    """The PDF behind a link, fetched with the context's session, as pdftotext reads it."""
    assert href, "no PDF link on the page"
    resp = context.request.get(href, timeout=PDF_MS)
    assert resp.ok, (href, resp.status)
    assert resp.headers["content-type"] == "application/pdf"
    body = resp.body()
    assert body.startswith(b"%PDF")
    (SHOTS / f"{name}.pdf").write_bytes(body)
    return pdf_text(body, workdir, name)


def _money_line(text: str, label: str) -> str:
    """The line of the PDF's text that starts with `label` (e.g. the total's)."""
    found = [line for line in text.splitlines() if label in line]
    assert found, f"no line with {label!r} in:\n{text}"
    return found[0]


# ---- (1) pay now ------------------------------------------------------------------------

def test_pay_now_reaches_the_open_till_and_is_paid_in_three_clicks(
        new_context, live_app, tmp_path):
    started = time.monotonic()
    job = _dispatched(live_app, _resident(live_app, "owner"), "Kitchen drain blocked")
    cashier = new_context("desktop")
    till = _open(cashier, "cashier")
    expect(till).to_have_url(url_path("/cashier/"))
    expect(till.locator("#queue")).to_be_visible()
    expect(_queue_row(till, job.number)).to_have_count(0)  # not finished: nothing to take yet
    mark_document(till)

    phone = _open(new_context("phone"), "worker")
    _at_work(phone, job.number)
    # An owner may go on the monthly account; this one pays at the office instead.
    choice = _route(phone, "pay_now")
    expect(choice).to_contain_text(format_yuan(job.total_fen))
    _sign_and_complete(phone, job.resident_name)

    # The till, without a reload: the finished slip waits to be paid, with its amount.
    row = _queue_row(till, job.number)
    expect(row).to_be_visible(timeout=LIVE_MS)
    expect(row).to_have_class(re.compile(r"\bwhy-pay\b"))
    expect(row.locator("td.amount")).to_have_text(format_yuan(job.total_fen))
    expect(row).to_contain_text(job.unit_label)
    assert same_document(till), "the till was reloaded"
    row.scroll_into_view_if_needed()
    _shot(till, "1-queue-new-row")

    # Take payment → method → Confirm: three clicks, the amount and payer already filled in.
    clicks = 0

    def click(target: Locator) -> None:
        nonlocal clicks
        clicks += 1
        target.click()

    click(row.locator("a.button.primary"))
    panel = till.locator(f"#pay-panel[data-slip='{job.number}']")
    amount = panel.locator("input[name=amount]")
    expect(amount).to_be_visible()
    assert parse_yuan(amount.input_value()) == job.total_fen
    expect(panel.locator("input[name=payer_name]")).to_have_value(job.resident_name)
    click(panel.locator("label.pill:has(input[name=method][value=wechat])"))
    expect(panel.locator("input[name=method][value=wechat]")).to_be_checked()
    click(panel.locator("button.confirm"))
    number = _receipt_done(till, job.number)
    assert clicks <= 3
    expect(panel.locator(".receipt-done")).to_contain_text(format_yuan(job.total_fen))
    expect(_queue_row(till, job.number)).to_have_count(0)  # paid: off the queue at once
    assert same_document(till), "the till was reloaded"
    _shot(till, "1-receipt-panel")

    # The database: settled (the paper is still out), one receipt for the whole amount.
    paid = _paid(live_app, job.number)
    assert paid.state == "settled"
    assert paid.receipts == [(number, job.total_fen, "wechat", 0)]

    # The printed receipt, through the panel's own link, with the cashier's session.
    text = _pdf(cashier, panel.locator("a[href$='.pdf']").get_attribute("href"), tmp_path,
                "1-receipt")
    assert number in text
    assert job.number in text
    assert job.unit_label in text
    assert format_yuan(job.total_fen) in _money_line(text, "合计金额")
    assert capital_yuan(job.total_fen) in text  # 大写金额 on the Chinese receipt
    assert time.monotonic() - started < 40


# ---- (2) a tenant's deposit -------------------------------------------------------------

def test_tenant_slip_is_drawn_from_the_deposit_with_one_click(new_context, live_app, tmp_path):
    started = time.monotonic()
    job = _dispatched(live_app, _resident(live_app, "tenant"), "Bathroom drain slow")
    before = _top_up(live_app, job.unit_key, job.total_fen + 5_000)  # covers the job
    assert before >= job.total_fen
    cashier = new_context("desktop")
    till = _open(cashier, "cashier")
    expect(till.locator("#queue")).to_be_visible()
    expect(_queue_row(till, job.number)).to_have_count(0)
    mark_document(till)

    phone = _open(new_context("phone"), "worker")
    _at_work(phone, job.number)
    choice = _route(phone, "deposit")  # the tenant's own route, told the balance
    expect(choice).to_contain_text(format_yuan(before))
    expect(choice.locator(".warn")).to_have_count(0)  # not short
    _sign_and_complete(phone, job.resident_name)

    # The till, live: the row says the deposit holds enough, and offers the draw.
    row = _queue_row(till, job.number)
    expect(row).to_be_visible(timeout=LIVE_MS)
    expect(row).to_have_class(re.compile(r"\bwhy-deposit\b"))
    expect(row.locator("td.amount")).to_have_text(format_yuan(job.total_fen))
    expect(row.locator("td.details")).to_contain_text(format_yuan(before))
    expect(row.locator(".short")).to_have_count(0)
    draw = row.locator("form[action$='/draw'] button[type=submit]")
    expect(draw).to_contain_text(format_yuan(job.total_fen))
    assert same_document(till), "the till was reloaded"
    row.scroll_into_view_if_needed()
    _shot(till, "2-queue-deposit-row")

    draw.click()  # the one click
    number = _receipt_done(till, job.number)
    expect(_queue_row(till, job.number)).to_have_count(0)
    _shot(till, "2-receipt-panel")

    after = _balance(live_app, job.unit_key)
    assert after == before - job.total_fen
    paid = _paid(live_app, job.number)
    assert paid.state == "settled"
    assert paid.receipts == [(number, job.total_fen, "deposit", -job.total_fen)]

    panel = till.locator(f"#pay-panel[data-slip='{job.number}']")
    text = _pdf(cashier, panel.locator("a[href$='.pdf']").get_attribute("href"), tmp_path,
                "2-receipt")
    assert number in text
    assert job.number in text
    assert format_yuan(job.total_fen) in _money_line(text, "合计金额")

    # The unit's account: the balance dropped by the total; the draw in the deposit's history.
    till.goto(f"/cashier/units/{job.unit_key}")
    ready(till)
    expect(till.locator(".account-stats .stat").first.locator("strong")).to_have_text(
        format_yuan(after))
    move = till.locator(f"#deposit tbody tr:has(a.receipt-no:text-is('{number}'))")
    expect(move).to_contain_text(job.number)
    expect(move.locator("td.num")).to_have_text(format_yuan(-job.total_fen))
    _shot(till, "2-unit-account", full_page=True)
    assert time.monotonic() - started < 40


# ---- (3) an owner's month end -----------------------------------------------------------

def test_owner_on_account_is_reviewed_billed_at_month_end_and_paid(
        new_context, live_app, tmp_path):
    started = time.monotonic()
    month = _this_month(live_app)
    job = _dispatched(live_app, _resident(live_app, "owner", fresh_month=month),
                      "Balcony drain blocked")
    cashier = new_context("desktop")
    till = _open(cashier, "cashier")
    expect(till.locator("#queue")).to_be_visible()
    mark_document(till)
    review = _open(new_context("desktop"), "supervisor", "/supervise/accounts")
    expect(review.locator("#accounts")).to_be_visible()
    mark_document(review)

    phone = _open(new_context("phone"), "worker")
    _at_work(phone, job.number)
    choice = _route(phone, "on_account")  # the owner signs for the monthly account
    expect(choice).to_contain_text(format_yuan(job.total_fen))
    # The till's queue refreshes by itself once the job is signed, and the slip is not the
    # till's to take: it waits for the supervisor's review and the month's statement.
    with _queue_refresh_after_completion(till, phone, job.number):
        _sign_and_complete(phone, job.resident_name)
    expect(_queue_row(till, job.number)).to_have_count(0)
    assert same_document(till), "the till was reloaded"

    # The supervisor's open list: the signed entry, live; reviewed, it goes on the account.
    entry = review.locator(f"#accounts tr:has(a.slip-no:text-is('{job.number}'))")
    expect(entry).to_be_visible(timeout=LIVE_MS)
    expect(entry.locator("td.amount")).to_have_text(format_yuan(job.total_fen))
    expect(entry).to_contain_text(job.resident_name)
    assert same_document(review), "the review list was reloaded"
    with review.expect_response(lambda r: r.request.method == "POST"
                                and r.url.endswith("/review")) as answer:
        entry.locator("form[action$='/review'] button[type=submit]").click()
    assert answer.value.status == 200
    # The answer says so (the list's own live refresh may then redraw it without the note).
    assert job.number in answer.value.text()
    expect(entry).to_have_count(0)
    assert _paid(live_app, job.number) == Paid("on_account", [])

    # Month end for this month: the run goes to its end by itself.
    till.goto("/cashier/month-end")
    ready(till)
    till.locator("form.month-form input[type=month]").fill(month)
    till.locator("form.month-form button[type=submit]").click()
    expect(till).to_have_url(re.compile(r"/cashier/month-end/runs/\d+$"))
    progress = till.locator("#month-progress")
    done = progress.locator(".alert[role=status]")
    expect(done).to_be_visible(timeout=MONTH_END_MS)
    bar = progress.locator("progress")
    assert bar.get_attribute("value") == bar.get_attribute("max")
    mine = progress.locator(f"tbody tr.new:has(a:text-is('{job.unit_label}'))")
    expect(mine).to_be_visible()
    expect(mine.locator("td.num").first).to_have_text(format_yuan(job.total_fen))
    _shot(till, "3-month-end-done", full_page=True)

    text = _pdf(cashier, mine.locator(f"a[href$='/{month}.pdf']").get_attribute("href"),
                tmp_path, "3-statement")
    assert job.unit_label in text
    assert month in text
    assert job.number in text
    assert format_yuan(job.total_fen) in _money_line(text, "本月合计")
    # 第 1 页 / 共 M 页 in the page margin (pdftotext drops the spaces between CJK glyphs)
    assert re.search(r"第\s*1\s*页\s*/\s*共\s*\d+\s*页", text), text

    # The owner pays the statement at the till: the amount due is filled in; a receipt.
    till.goto(f"/cashier/units/{job.unit_key}")
    ready(till)
    pay = till.locator(f"#statements form[action$='/statements/{month}/pay']")
    due = pay.locator("input[name$=amount]")
    expect(due).to_be_visible()
    assert parse_yuan(due.input_value()) == job.total_fen
    pay.locator("button[type=submit]").click()
    expect(till).to_have_url(re.compile(r"/cashier/receipts/RC\d{6}-\d{4,6}$"))
    number = till.locator("h1 .receipt-no").inner_text().strip()
    assert RECEIPT.match(number)
    expect(till.locator(".receipt-lines .total")).to_have_text(format_yuan(job.total_fen))
    expect(till.locator(".receipt-lines")).to_contain_text(job.number)
    _shot(till, "3-statement-receipt")

    def statement_money():
        unit = billing.unit_by_key(job.unit_key)
        statement = billing.statement_of(unit, month)
        payments = db.session.execute(select(Payment.number, Payment.amount_fen).where(
            Payment.statement_id == statement.id)).all()
        entries = db.session.scalar(select(func.count()).select_from(AccountEntry).where(
            AccountEntry.statement_id == statement.id))
        return statement.total_fen, billing.statement_due_fen(statement), \
            [tuple(p) for p in payments], entries
    assert _with_app(live_app, statement_money) == (job.total_fen, 0,
                                                   [(number, job.total_fen)], 1)
    assert time.monotonic() - started < 40
