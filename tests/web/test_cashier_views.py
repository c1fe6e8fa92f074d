"""The cashier's screens: the live queue, taking a payment in at most three requests, a unit's
account (deposit, refunds, statements), receipts and voids, the day's cash report, month end.
Bad input gets its message next to the field and changes nothing."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.domain.slip_states import State
from app.extensions import db as _db
from app.models import ListStatus, PriceItem, PriceList
from app.models.billing import (
    AccountEntry,
    CashCount,
    DepositRefund,
    Payment,
    PaymentKind,
    Statement,
    StatementRun,
)
from app.services import billing, clock
from app.services import slips as svc
from tests import factories
from tests.web.pages import field_errors, flashes, form_alerts, grab, text

HX = {"HX-Request": "true"}


# ---- slips made through the real services ---------------------------------------------------

class Office:
    """The people a slip meets on its way to the till."""

    def __init__(self, db):
        self.clerk = factories.user("clerk")
        self.sup = factories.user("supervisor")
        self.worker = factories.user("worker")
        self.pl = factories.price_list(self.clerk)

    def finished(self, *, resident=None, route=None, contact="王芳", unit=None):
        """A drain unclogged (¥30), signed for by the resident."""
        s = factories.slip(self.clerk, pl=self.pl, contact_name=contact, resident=resident,
                           unit_=unit or (resident.unit if resident else None))
        svc.dispatch(s, self.sup, self.worker.id)
        svc.check_in(s, self.worker)
        svc.confirm_fee(s, self.worker, {})
        svc.complete(s, self.worker, svc.Acceptance("王芳", "sig/x.png", True, pay_route=route))
        return s

    def errand(self, *, fee=2000, purchase=10000):
        """An errand (代办) at `fee` (a range item's price) with `purchase` of shopping money,
        not yet out."""
        pl = getattr(self, "errands", None)
        if pl is None:
            cat = factories.category(code="errands", zh="代办", en="Errands")
            pl = self.errands = PriceList(status=ListStatus.APPROVED, number=90,
                                          created_by=self.clerk, approved_by=self.clerk,
                                          effective_date=self.pl.effective_date)
            pl.items.append(PriceItem(category_id=cat.id, code="E01", name_zh="代购",
                                      name_en="Buy", unit="次", price_min_fen=500,
                                      price_max_fen=5000, by_workload=False, free=False,
                                      department="errands", sort=1))
            _db.session.add(pl)
            _db.session.flush()
        return factories.slip(self.clerk, pl=pl, contact_name="李娜", purchase_fen=purchase,
                              lines=[svc.LineRequest(pl.items[0].id, 1, fee)])


@pytest.fixture
def cashier(login_as):
    return login_as("cashier")


@pytest.fixture
def office(db, cashier):
    o = Office(db)
    _db.session.commit()
    return o


def hidden(page, name: str) -> str:
    found = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', page.get_data(as_text=True))
    assert found, f"no hidden {name}"
    return found.group(1)


def input_value(page, name: str) -> str:
    html = page.get_data(as_text=True)
    tag = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', html)
    assert tag, f"no input {name}"
    found = re.search(r'value="([^"]*)"', tag.group(0))
    return found.group(1) if found else ""


def payments() -> int:
    return _db.session.scalar(select(func.count()).select_from(Payment))


def reload(slip):
    _db.session.expire_all()
    return _db.session.get(type(slip), slip.id)


def pay_form(client, slip) -> dict:
    """What the panel sends when the cashier only confirms: everything as it is prefilled."""
    panel = client.get(f"/cashier/slips/{slip.number}/pay", headers=HX)
    assert panel.status_code == 200
    return {"version": hidden(panel, "version"), "request_key": hidden(panel, "request_key"),
            "amount": input_value(panel, "amount"), "method": "cash",
            "payer_name": input_value(panel, "payer_name"), "note": ""}


# ---- the queue and taking a payment ----------------------------------------------------------

def test_the_queue_shows_a_finished_slip_with_what_it_owes(cashier, office):
    slip = office.finished()
    _db.session.commit()
    page = cashier.get("/cashier/")
    assert page.status_code == 200
    row = grab(page, lambda tag, a: tag == "tr" and a.get("data-slip") == slip.number)
    assert row and "¥30.00" in row[0] and "Take payment" in row[0] and "Pay now" in row[0]
    # the queue refreshes itself on live changes, and is the partial an htmx refresh gets
    html = page.get_data(as_text=True)
    assert 'hx-trigger="live-changed from:body, queue-changed from:body"' in html
    assert "data-live=" in html
    part = cashier.get("/cashier/", headers=HX)
    assert part.get_data(as_text=True).lstrip().startswith("<section id=\"queue\"")
    # the finder opens a unit's account
    found = cashier.get("/cashier/find", query_string={"q": slip.unit.search_key})
    assert f"/cashier/units/{slip.unit.search_key}" in found.get_data(as_text=True)


def test_paying_takes_three_requests_and_issues_one_receipt(app, cashier, office):
    slip = office.finished()
    _db.session.commit()
    assert cashier.get("/cashier/").status_code == 200                      # 1: the queue
    panel = cashier.get(f"/cashier/slips/{slip.number}/pay", headers=HX)   # 2: the panel
    assert input_value(panel, "amount") == "30"
    assert input_value(panel, "payer_name") == "王芳"
    assert re.search(r'<input checked[^>]*value="cash"', panel.get_data(as_text=True))
    data = {"version": hidden(panel, "version"), "request_key": hidden(panel, "request_key"),
            "amount": "30", "method": "wechat", "payer_name": "王芳"}
    done = cashier.post(f"/cashier/slips/{slip.number}/pay", data=data, headers=HX)  # 3
    assert done.status_code == 200, text(done)
    assert done.headers["HX-Trigger"] == "queue-changed"
    payment = _db.session.scalar(select(Payment))
    assert payment.number and payment.number in text(done)
    assert "¥30.00" in text(done) and "WeChat Pay" in text(done)
    if "papers.receipt_pdf" in app.view_functions:
        assert f"/receipts/{payment.number}.pdf" in done.get_data(as_text=True)
    assert reload(slip).state == State.SETTLED
    assert slip.number not in text(cashier.get("/cashier/"))
    # the same form sent again (a double click) records nothing more
    again = cashier.post(f"/cashier/slips/{slip.number}/pay", data=data, headers=HX)
    assert again.status_code == 200 and payment.number in text(again)
    assert payments() == 1
    # a second, fresh attempt is refused: the slip is settled
    late = cashier.post(f"/cashier/slips/{slip.number}/pay",
                        data={**data, "request_key": "another-key-123"}, headers=HX)
    assert late.status_code == 422 and "already settled" in " ".join(form_alerts(late))
    assert payments() == 1


def test_a_plain_form_post_goes_to_the_new_receipt(cashier, office):
    slip = office.finished()
    _db.session.commit()
    page = cashier.get(f"/cashier/slips/{slip.number}/pay")  # no htmx: a page of its own
    assert "<html" in page.get_data(as_text=True) and "Confirm payment" in text(page)
    resp = cashier.post(f"/cashier/slips/{slip.number}/pay", data=pay_form(cashier, slip))
    number = _db.session.scalar(select(Payment.number))
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/receipts/{number}")
    page = cashier.get(resp.headers["Location"])
    assert number in text(page) and "Cash" in text(page) and "王芳" in text(page)


@pytest.mark.parametrize("amount, field, message", [
    ("0", "amount", "Enter an amount above zero."),
    ("-5", "amount", "Enter an amount in yuan"),
    ("abc", "amount", "Enter an amount in yuan"),
    ("20", "amount", "it is paid in full"),
    ("50", "note", "give the reason in the note"),
])
def test_a_wrong_amount_is_refused_next_to_its_field(cashier, office, amount, field, message):
    slip = office.finished()
    _db.session.commit()
    data = {**pay_form(cashier, slip), "amount": amount}
    resp = cashier.post(f"/cashier/slips/{slip.number}/pay", data=data, headers=HX)
    assert resp.status_code == 422
    assert any(message in m for m in field_errors(resp, field)), field_errors(resp, field)
    assert payments() == 0 and reload(slip).state == State.COMPLETED
    # the refused panel is drawn again with a fresh key, ready for the correction
    assert hidden(resp, "request_key") != data["request_key"]


def test_more_than_owed_is_taken_with_a_reason(cashier, office):
    slip = office.finished()
    _db.session.commit()
    data = {**pay_form(cashier, slip), "amount": "50", "note": "不用找了"}
    resp = cashier.post(f"/cashier/slips/{slip.number}/pay", data=data, headers=HX)
    assert resp.status_code == 200
    assert _db.session.scalar(select(Payment.amount_fen)) == 5000


def test_a_stale_panel_is_refused(cashier, office):
    slip = office.finished()
    _db.session.commit()
    data = pay_form(cashier, slip)
    svc.hand_back(reload(slip), office.clerk)  # the slip moves on meanwhile
    _db.session.commit()
    resp = cashier.post(f"/cashier/slips/{slip.number}/pay", data=data, headers=HX)
    assert resp.status_code == 422 and payments() == 0
    assert form_alerts(resp)


@pytest.mark.parametrize("role", ["clerk", "supervisor", "manager", "worker"])
def test_only_the_cashier_takes_money(login_as, db, role):
    o = Office(db)
    slip = o.finished()
    _db.session.commit()
    other = login_as(role)
    resp = other.post(f"/cashier/slips/{slip.number}/pay",
                      data={"version": slip.version, "request_key": "abcdefgh12",
                            "amount": "30", "method": "cash"})
    assert resp.status_code == 403
    queue = other.get("/cashier/")
    if role == "manager":  # the manager watches the queue: the slip is there, no button is
        assert queue.status_code == 200 and slip.number in queue.text
        assert f"/cashier/slips/{slip.number}/pay" not in queue.text
        assert "pay-panel" not in queue.text and "/cashier/month-end" not in queue.text
    else:
        assert queue.status_code == 403
    assert payments() == 0 and reload(slip).state == State.COMPLETED


def test_unknown_slips_units_and_receipts_are_not_found(cashier, office):
    assert cashier.get("/cashier/slips/YC209901-0001/pay").status_code == 404
    assert cashier.get("/cashier/units/9-9-9999").status_code == 404
    assert cashier.get("/cashier/units/not a key").status_code == 404
    assert cashier.get("/cashier/receipts/RC209901-0001").status_code == 404
    assert cashier.get("/cashier/receipts/nonsense").status_code == 404
    assert cashier.post("/cashier/receipts/nonsense/void", data={}).status_code == 404
    assert cashier.get("/cashier/month-end/runs/99999").status_code == 404


# ---- tenants' deposits ---------------------------------------------------------------------

def test_a_tenant_short_of_deposit_is_shown_the_shortfall_then_drawn_in_one_click(cashier,
                                                                                   office):
    tenant = factories.resident(factories.unit(number="0802"), name="陈静", kind="tenant")
    slip = office.finished(resident=tenant)
    _db.session.commit()
    key = tenant.unit.search_key
    row = grab(cashier.get("/cashier/"),
               lambda t, a: t == "tr" and a.get("data-slip") == slip.number)[0]
    assert "From deposit" in row and "Deposit ¥0.00" in row and "Short by ¥30.00" in row
    assert "take a top-up" in row and "Draw" not in row
    # the top-up on the unit's account
    account = cashier.get(f"/cashier/units/{key}")
    resp = cashier.post(f"/cashier/units/{key}/top-up", data={
        "topup-request_key": hidden(account, "topup-request_key"), "topup-amount": "100",
        "topup-method": "cash", "topup-payer_name": "陈静"})
    assert resp.status_code == 303
    assert "Deposit topped up by ¥100.00" in " ".join(
        flashes(cashier.get(resp.headers["Location"])))
    # now one button draws it
    queue = cashier.get("/cashier/")
    row = grab(queue, lambda t, a: t == "tr" and a.get("data-slip") == slip.number)[0]
    assert "Draw ¥30.00 from deposit" in row and "Deposit ¥100.00" in row
    done = cashier.post(f"/cashier/slips/{slip.number}/draw", headers=HX, data={
        "version": hidden(queue, "version"), "request_key": hidden(queue, "request_key")})
    assert done.status_code == 200, text(done)
    assert "Prepaid deposit" in text(done)
    assert billing.deposit_balance(reload(slip).unit) == 7000
    assert reload(slip).state == State.SETTLED
    account = text(cashier.get(f"/cashier/units/{key}"))
    assert "¥70.00" in account and "Deposit top-up" in account and "-¥30.00" in account


def test_drawing_more_than_the_deposit_is_refused(cashier, office):
    tenant = factories.resident(factories.unit(number="0803"), kind="tenant")
    slip = office.finished(resident=tenant)
    _db.session.commit()
    resp = cashier.post(f"/cashier/slips/{slip.number}/draw", headers=HX,
                        data={"version": slip.version, "request_key": "key-abcdefgh"})
    assert resp.status_code == 422
    assert "short" in " ".join(form_alerts(resp))
    assert payments() == 0


def test_a_refund_is_asked_for_approved_and_paid_out(login_as, cashier, office):
    tenant = factories.resident(factories.unit(number="0901"), kind="tenant")
    _db.session.commit()
    key = tenant.unit.search_key
    unit = tenant.unit
    billing.top_up(unit, cashier.user, "cash", 5000)
    _db.session.commit()
    # above the balance: refused next to the amount, nothing asked
    resp = cashier.post(f"/cashier/units/{key}/refunds",
                        data={"refund-amount": "80", "refund-reason": "搬走了"})
    assert resp.status_code == 422
    assert "above the deposit" in " ".join(field_errors(resp, "refund-amount"))
    assert _db.session.scalar(select(func.count()).select_from(DepositRefund)) == 0
    # no reason: refused
    resp = cashier.post(f"/cashier/units/{key}/refunds",
                        data={"refund-amount": "20", "refund-reason": ""})
    assert resp.status_code == 422 and field_errors(resp, "refund-reason")
    # asked for
    resp = cashier.post(f"/cashier/units/{key}/refunds",
                        data={"refund-amount": "20", "refund-reason": "搬走了"})
    assert resp.status_code == 303
    page = text(cashier.get(f"/cashier/units/{key}"))
    assert "Waiting for the manager" in page and "Pay out" not in page
    refund = _db.session.scalar(select(DepositRefund))
    manager = factories.user("manager")
    billing.decide_refund(refund, manager, True)
    _db.session.commit()
    account = cashier.get(f"/cashier/units/{key}")
    assert "Pay out ¥20.00" in text(account)
    assert "Refunds to pay out 1" in text(cashier.get("/cashier/"))
    resp = cashier.post(f"/cashier/refunds/{refund.id}/pay", data={
        f"payout{refund.id}-request_key": hidden(account, f"payout{refund.id}-request_key"),
        f"payout{refund.id}-method": "cash"})
    assert resp.status_code == 303
    assert "Refund voucher" in text(cashier.get(resp.headers["Location"]))
    assert billing.deposit_balance(unit) == 3000
    # paying it again changes nothing
    again = cashier.post(f"/cashier/refunds/{refund.id}/pay", data={
        f"payout{refund.id}-request_key": "another-key-1", f"payout{refund.id}-method": "cash"})
    assert again.status_code == 422 and billing.deposit_balance(unit) == 3000


# ---- errands ---------------------------------------------------------------------------------

def test_an_errand_is_prepaid_then_reconciled_with_change_back(cashier, office):
    slip = office.errand(fee=2000, purchase=10000)
    _db.session.commit()
    row = grab(cashier.get("/cashier/"),
               lambda t, a: t == "tr" and a.get("data-slip") == slip.number)[0]
    assert "Errand: prepay" in row and "¥120.00" in row
    data = pay_form(cashier, slip)
    assert data["amount"] == "120"
    short = cashier.post(f"/cashier/slips/{slip.number}/prepay", headers=HX,
                         data={**data, "amount": "100"})
    assert short.status_code == 422 and "prepaid in full" in " ".join(field_errors(short, "amount"))
    done = cashier.post(f"/cashier/slips/{slip.number}/prepay", data=data, headers=HX)
    assert done.status_code == 200 and "¥120.00" in text(done)
    # out and back: the shopping cost ¥85
    s = reload(slip)
    svc.dispatch(s, office.sup, office.worker.id)
    svc.check_in(s, office.worker)
    svc.confirm_fee(s, office.worker, {})
    svc.complete(s, office.worker, svc.Acceptance("李娜", "sig/y.png", True,
                                                  purchase_spent_fen=8500))
    _db.session.commit()
    row = grab(cashier.get("/cashier/"),
               lambda t, a: t == "tr" and a.get("data-slip") == slip.number)[0]
    assert "Prepaid ¥120.00, cost ¥105.00" in row and "Change due ¥15.00" in row
    panel = cashier.get(f"/cashier/slips/{slip.number}/pay", headers=HX)
    assert "Give ¥15.00 in cash back" in text(panel)
    back = cashier.post(f"/cashier/slips/{slip.number}/pay", headers=HX, data={
        "version": hidden(panel, "version"), "request_key": hidden(panel, "request_key"),
        "method": "cash", "payer_name": "李娜"})
    assert back.status_code == 200 and "Change given back: ¥15.00" in text(back)
    assert reload(slip).state == State.SETTLED
    assert billing.prepaid_fen(reload(slip)) == 10500


# ---- receipts and voids ----------------------------------------------------------------------

def test_voiding_keeps_the_number_and_the_slip_is_owed_again(cashier, office):
    slip = office.finished()
    _db.session.commit()
    cashier.post(f"/cashier/slips/{slip.number}/pay", data=pay_form(cashier, slip))
    number = _db.session.scalar(select(Payment.number))
    page = cashier.get(f"/cashier/receipts/{number}")
    # no reason: refused, nothing changed
    resp = cashier.post(f"/cashier/receipts/{number}/void",
                        data={"request_key": hidden(page, "request_key"), "reason": " "})
    assert resp.status_code == 422 and field_errors(resp, "reason")
    assert payments() == 1
    resp = cashier.post(f"/cashier/receipts/{number}/void",
                        data={"request_key": hidden(page, "request_key"), "reason": "金额录错"})
    assert resp.status_code == 303
    page = text(cashier.get(f"/cashier/receipts/{number}"))
    assert "VOID" in page and "金额录错" in page and cashier.user.full_name in page
    assert "Void this receipt" not in page
    # voiding again: refused with a message, still one reversal
    again = cashier.post(f"/cashier/receipts/{number}/void",
                         data={"request_key": "fresh-key-123", "reason": "again"})
    assert again.status_code == 422 and "already void" in " ".join(form_alerts(again))
    assert _db.session.scalar(select(func.count()).where(
        Payment.kind == PaymentKind.REVERSAL.value)) == 1
    # the slip is owed again: back in the queue, and paid with a new number
    assert reload(slip).state == State.COMPLETED
    assert slip.number in text(cashier.get("/cashier/"))
    cashier.post(f"/cashier/slips/{slip.number}/pay", data=pay_form(cashier, slip))
    numbers = _db.session.scalars(select(Payment.number).where(Payment.number.is_not(None))
                                  .order_by(Payment.id)).all()
    assert len(numbers) == 2 and numbers[0] == number and numbers[1] != number
    assert reload(slip).state == State.SETTLED


def test_a_non_cashier_cannot_void(login_as, cashier, office):
    slip = office.finished()
    _db.session.commit()
    cashier.post(f"/cashier/slips/{slip.number}/pay", data=pay_form(cashier, slip))
    number = _db.session.scalar(select(Payment.number))
    manager = login_as("manager")
    resp = manager.post(f"/cashier/receipts/{number}/void",
                        data={"request_key": "abcdefgh12", "reason": "x"})
    assert resp.status_code == 403 and payments() == 1


# ---- the day's cash report -------------------------------------------------------------------

def test_the_day_report_shows_the_database_totals_and_the_count(cashier, office):
    a, b, c = (office.finished(contact=n) for n in ("甲", "乙", "丙"))
    _db.session.commit()
    for s, method in ((a, "cash"), (b, "wechat"), (c, "cash")):
        cashier.post(f"/cashier/slips/{s.number}/pay", data={**pay_form(cashier, s),
                                                               "method": method})
    _db.session.expire_all()
    voided = _db.session.scalars(select(Payment).order_by(Payment.id)).all()[2]
    billing.void(voided, cashier.user, "收错了")
    _db.session.commit()
    today = clock.local_today().isoformat()
    assert cashier.get("/cashier/day").headers["Location"].endswith(f"/cashier/day/{today}")
    page = cashier.get(f"/cashier/day/{today}")
    assert page.status_code == 200
    db_total = _db.session.scalar(select(func.sum(Payment.amount_fen)))
    db_cash = _db.session.scalar(select(func.sum(Payment.amount_fen))
                                 .where(Payment.method == "cash"))
    assert db_total == 6000 and db_cash == 3000
    assert grab(page, lambda t, a: "day-total" in a.get("class", "")) == [billing.money(db_total)]
    cash_row = grab(page, lambda t, a: a.get("data-method") == "cash")[0]
    assert billing.money(db_cash) in cash_row
    mine = grab(page, lambda t, a: a.get("data-cashier") == str(cashier.user.id))[0]
    assert "¥30.00" in mine and "not counted" in mine
    listed = text(page)
    assert "Reversal" in listed and "收错了" in listed and "-¥30.00" in listed
    # a bad count: refused next to the field, nothing saved
    resp = cashier.post(f"/cashier/day/{today}/count", data={"counted": "-1"})
    assert resp.status_code == 422 and field_errors(resp, "counted")
    assert _db.session.scalar(select(func.count()).select_from(CashCount)) == 0
    resp = cashier.post(f"/cashier/day/{today}/count", data={"counted": "25"})
    assert resp.status_code == 303
    mine = grab(cashier.get(f"/cashier/day/{today}"),
                lambda t, a: a.get("data-cashier") == str(cashier.user.id))[0]
    assert "¥25.00" in mine and "-¥5.00" in mine


@pytest.mark.parametrize("day", ["2999-01-01", "tomorrow", "2026-13-40", "1999-12-31"])
def test_a_day_not_begun_or_not_a_day_is_not_found_with_the_reason(cashier, office, day):
    if day == "tomorrow":
        day = (clock.local_today() + timedelta(days=1)).isoformat()
    resp = cashier.get(f"/cashier/day/{day}")
    assert resp.status_code == 404
    assert form_alerts(resp)
    assert cashier.post(f"/cashier/day/{day}/count", data={"counted": "1"}).status_code == 404
    assert _db.session.scalar(select(func.count()).select_from(CashCount)) == 0


# ---- owners' statements and month end --------------------------------------------------------

def _on_account(office, unit_number: str):
    owner = factories.resident(factories.unit(number=unit_number), name="张伟", kind="owner")
    slip = office.finished(resident=owner, route="on_account")
    entry = _db.session.scalar(select(AccountEntry).where(AccountEntry.slip_id == slip.id))
    billing.review_entry(entry, office.sup)
    return owner.unit


def _run(cashier, month: str):
    resp = cashier.post("/cashier/month-end", data={"month": month})
    assert resp.status_code == 303, text(resp)
    page = cashier.get(resp.headers["Location"])
    assert 'hx-trigger="load' in page.get_data(as_text=True)
    run_id = int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    for _ in range(10):
        step = cashier.post(f"/cashier/month-end/runs/{run_id}/step", headers=HX)
        assert step.status_code == 200
        if 'hx-trigger="load' not in step.get_data(as_text=True):
            return step
    raise AssertionError("the run never finished")


def test_month_end_bills_each_unit_once_and_a_second_run_makes_nothing(cashier, office):
    units = [_on_account(office, n) for n in ("1101", "1102")]
    _db.session.commit()
    month = clock.local_today().strftime("%Y-%m")
    form = cashier.get("/cashier/month-end")
    last = (clock.local_today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    assert f'type="month" value="{last}"' in form.get_data(as_text=True)
    done = _run(cashier, month)
    assert "2 new statements; 0 units already had one" in text(done)
    assert "2 of 2 units done" in text(done) and "¥60.00 billed" in text(done)
    assert _db.session.scalar(select(func.count()).select_from(Statement)) == 2
    again = _run(cashier, month)
    assert "0 new statements; 2 units already had one" in text(again)
    assert _db.session.scalar(select(func.count()).select_from(Statement)) == 2
    assert _db.session.scalar(select(func.count()).select_from(StatementRun)) == 2
    # the statement is paid on the unit's account, with a receipt
    key = units[0].search_key
    account = cashier.get(f"/cashier/units/{key}")
    st = billing.statement_of(units[0], month)
    assert "¥30.00" in text(account) and f"On statement {month}" in text(account)
    prefix = f"st{st.id}"
    assert input_value(account, f"{prefix}-amount") == "30"
    resp = cashier.post(f"/cashier/units/{key}/statements/{month}/pay", data={
        f"{prefix}-request_key": hidden(account, f"{prefix}-request_key"),
        f"{prefix}-amount": "30", f"{prefix}-method": "bank_transfer",
        f"{prefix}-payer_name": "张伟"})
    assert resp.status_code == 303
    assert "Monthly statement" in text(cashier.get(resp.headers["Location"]))
    assert billing.statement_due_fen(st) == 0
    assert "Paid" in text(cashier.get(f"/cashier/units/{key}"))


@pytest.mark.parametrize("month, message", [
    ("2999-01", "has not begun"), ("next", "has not begun"), ("2026-13", "YYYY-MM"),
    ("26-1", "YYYY-MM"), ("", "YYYY-MM")])
def test_a_bad_month_is_refused_next_to_the_field(cashier, office, month, message):
    if month == "next":
        d = clock.local_today().replace(day=28) + timedelta(days=5)
        month = d.strftime("%Y-%m")
    resp = cashier.post("/cashier/month-end", data={"month": month})
    assert resp.status_code == 422
    assert any(message in m for m in field_errors(resp, "month")), field_errors(resp, "month")
    assert _db.session.scalar(select(func.count()).select_from(StatementRun)) == 0


def test_a_statement_cannot_be_paid_beyond_what_is_due_without_a_note(cashier, office):
    unit = _on_account(office, "1201")
    _db.session.commit()
    month = clock.local_today().strftime("%Y-%m")
    _run(cashier, month)
    st = billing.statement_of(unit, month)
    prefix = f"st{st.id}"
    resp = cashier.post(f"/cashier/units/{unit.search_key}/statements/{month}/pay", data={
        f"{prefix}-request_key": "abcdefghijk", f"{prefix}-amount": "99",
        f"{prefix}-method": "cash"})
    assert resp.status_code == 422
    assert "give the reason" in " ".join(field_errors(resp, f"{prefix}-note"))
    assert payments() == 0
    assert cashier.post(f"/cashier/units/{unit.search_key}/statements/2020-01/pay",
                        data={}).status_code == 404
