"""Money on the other roles' screens: the worker's completion (who pays, an errand's cost),
the desk's errand purchase money, the board's money badges, the supervisor's review of owners'
account entries, the manager's refunds and corrections, and the slip page's money section.

Each screen is read the way a person reads it; each bad input gets its message next to the
field, a 422, and nothing changes."""
from __future__ import annotations

import subprocess

import pytest
from sqlalchemy import func, select

from app.domain.slip_states import State
from app.extensions import db as _db
from app.models import Category, ListStatus, PriceItem, PriceList
from app.models.billing import AccountEntry, DepositRefund, Payment, RefundState
from app.models.slips import Slip
from app.services import billing, clock, reception
from app.services import slips as svc
from tests import factories
from tests.moments import past_list_date, tomorrow
from tests.web.pages import field_errors, flashes, form_alerts, grab, text
from tests.web.test_field_views import action_form, signature_url, tap

# ---- the world ---------------------------------------------------------------------------


def _money_list(by) -> PriceList:
    """An approved list with a repair (fixed ¥30) and an errand (代办, fixed ¥10 fee)."""
    repair = Category(code="plumbing", name_zh="水电类", name_en="Plumbing", sort=1)
    errands = Category(code=svc.ERRAND_CATEGORY, name_zh="代办类", name_en="Errands", sort=2)
    _db.session.add_all([repair, errands])
    _db.session.flush()
    pl = PriceList(status=ListStatus.APPROVED, number=1, effective_date=past_list_date(),
                   created_by=by, approved_by=by)
    pl.items.append(PriceItem(category_id=repair.id, code="R01", name_zh="疏通下水",
                              name_en="Unclog a drain", unit="次", price_min_fen=3000,
                              price_max_fen=3000, department="repair", sort=1))
    pl.items.append(PriceItem(category_id=errands.id, code="E01", name_zh="代购物品",
                              name_en="Buy on the resident's behalf", unit="次",
                              price_min_fen=1000, price_max_fen=1000, department="repair",
                              sort=2))
    _db.session.add(pl)
    _db.session.flush()
    return pl


@pytest.fixture
def world(db):
    manager = factories.user("manager")
    pl = _money_list(manager)
    owner_unit = factories.unit("3", 2, "1502")
    tenant_unit = factories.unit("5", 1, "0802")
    owner = factories.resident(owner_unit, "张伟", "owner", "13800001111")
    tenant = factories.resident(tenant_unit, "李娜", "tenant", "13900002222")
    w = {"pl": pl, "repair": pl.items[0], "errand": pl.items[1], "owner": owner,
         "tenant": tenant, "clerk": factories.user("clerk"),
         "supervisor": factories.user("supervisor"), "cashier": factories.user("cashier"),
         "manager": manager}
    _db.session.commit()
    return w


def open_slip(w, resident, *, errand: bool = False, purchase_fen: int = 0) -> Slip:
    item = w["errand"] if errand else w["repair"]
    return factories.slip(w["clerk"], unit_=resident.unit, pl=w["pl"], resident=resident,
                          lines=[svc.LineRequest(item.id, 1, None)], purchase_fen=purchase_fen)


def bring_to(w, slip: Slip, worker, state: str, **acceptance) -> Slip:
    """Through the services: dispatched to `worker`, then on to `state`."""
    if slip.errand:
        billing.prepay_errand(slip, w["cashier"], "cash", billing.errand_prepayment_fen(slip))
    svc.dispatch(slip, w["supervisor"], worker.id)
    if state in ("in_progress", "completed"):
        svc.check_in(slip, worker)
        svc.confirm_fee(slip, worker, {})
    if state == "completed":
        svc.complete(slip, worker, svc.Acceptance("张伟", "signatures/x.png", True, **acceptance))
    _db.session.commit()
    return slip


def reload(model, id_):
    _db.session.expire_all()
    return _db.session.get(model, id_)


def count(model) -> int:
    _db.session.expire_all()
    return _db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def phone(login_as):
    return login_as("worker")


def complete_fields(**kw) -> dict:
    return {"acceptance_name": "张伟", "signature": signature_url(), "satisfied": "yes", **kw}


# ---- the worker's phone: who pays ------------------------------------------------------------

def test_an_owner_signs_for_the_monthly_account_or_pays_at_the_office(world, phone):
    slip = bring_to(world, open_slip(world, world["owner"]), phone.user, "in_progress")
    page = phone.get(f"/field/jobs/{slip.number}")
    form = action_form(page, "complete")
    assert form["fields"]["pay_route"] == "on_account"  # the slip's own route, chosen
    routes = grab(page, lambda tag, a: tag == "label" and "route" in a.get("class", "").split())
    assert len(routes) == 2
    assert routes[0].startswith("Owner's monthly account")
    assert "signature below confirms ¥30.00 on the owner's monthly account" in routes[0]
    assert routes[1].startswith("Pay at the office")
    assert "Payment is made at the service office — staff never take money." in text(page)

    resp, _ = tap(phone, slip.number, "complete", page=page, **complete_fields())
    assert resp.status_code == 302
    slip = reload(Slip, slip.id)
    assert (slip.state, slip.pay_route) == (State.COMPLETED, "on_account")
    entry = _db.session.scalar(select(AccountEntry).where(AccountEntry.slip_id == slip.id))
    assert (entry.amount_fen, entry.signed_name, entry.reviewed_at) == (3000, "张伟", None)


def test_an_owner_may_choose_to_pay_at_the_office(world, phone):
    slip = bring_to(world, open_slip(world, world["owner"]), phone.user, "in_progress")
    resp, _ = tap(phone, slip.number, "complete", **complete_fields(pay_route="pay_now"))
    assert resp.status_code == 302
    assert reload(Slip, slip.id).pay_route == "pay_now"
    assert count(AccountEntry) == 0


def test_a_tenant_sees_the_deposit_and_its_shortfall(world, phone):
    billing.top_up(world["tenant"].unit, world["cashier"], "cash", 1000)
    _db.session.commit()
    slip = bring_to(world, open_slip(world, world["tenant"]), phone.user, "in_progress")
    page = phone.get(f"/field/jobs/{slip.number}")
    assert action_form(page, "complete")["fields"]["pay_route"] == "deposit"
    routes = grab(page, lambda tag, a: tag == "label" and "route" in a.get("class", "").split())
    assert routes[0].startswith("From the tenant's deposit")
    assert "Deposit balance: ¥10.00." in routes[0]
    assert "¥20.00 short of this job's ¥30.00" in routes[0]
    assert not any("monthly account" in r for r in routes)

    resp, _ = tap(phone, slip.number, "complete", page=page, **complete_fields())
    assert resp.status_code == 302
    assert reload(Slip, slip.id).pay_route == "deposit"


def test_a_worker_cannot_put_a_tenants_job_on_the_monthly_account(world, phone):
    slip = bring_to(world, open_slip(world, world["tenant"]), phone.user, "in_progress")
    resp, _ = tap(phone, slip.number, "complete", **complete_fields(pay_route="on_account"))
    assert resp.status_code == 422
    errors = field_errors(resp, "pay_route")
    assert errors == ["Only an owner's services go on the monthly account."]
    slip = reload(Slip, slip.id)
    assert (slip.state, slip.pay_route, slip.signature_file) == (State.IN_PROGRESS, "deposit", "")
    assert count(AccountEntry) == 0


def test_an_unknown_route_is_refused_next_to_the_choice(world, phone):
    slip = bring_to(world, open_slip(world, world["owner"]), phone.user, "in_progress")
    resp, _ = tap(phone, slip.number, "complete", **complete_fields(pay_route="bitcoin"))
    assert resp.status_code == 422
    assert field_errors(resp, "pay_route") == ["Choose how the resident pays."]
    assert reload(Slip, slip.id).state == State.IN_PROGRESS


# ---- the worker's phone: an errand ----------------------------------------------------------

def test_an_errand_is_completed_with_what_the_purchases_cost(world, phone):
    slip = bring_to(world, open_slip(world, world["owner"], errand=True, purchase_fen=20000),
                    phone.user, "in_progress")
    page = phone.get(f"/field/jobs/{slip.number}")
    form = action_form(page, "complete")
    assert form["fields"]["pay_route"] == "pay_now" and "purchase_spent" in form["fields"]
    hint = grab(page, lambda tag, a: a.get("id") == "purchase_spent-hint")[0]
    assert "Prepaid at the office: ¥210.00 (fee ¥10.00 + purchase money ¥200.00)" in hint
    assert "Payment is made at the service office — staff never take money." in text(page)

    resp, _ = tap(phone, slip.number, "complete", page=page,
                  **complete_fields(purchase_spent="185.50"))
    assert resp.status_code == 302
    slip = reload(Slip, slip.id)
    assert (slip.state, slip.purchase_spent_fen) == (State.COMPLETED, 18550)
    assert billing.owed_fen(slip) == -1450  # change to give back


@pytest.mark.parametrize("spent, message", [
    ("", "Enter what the purchases cost (zero if nothing was bought)."),
    ("-5", "Enter an amount in yuan, e.g. 30 or 12.50."),
    ("abc", "Enter an amount in yuan, e.g. 30 or 12.50."),
])
def test_an_errand_without_its_cost_is_refused(world, phone, spent, message):
    slip = bring_to(world, open_slip(world, world["owner"], errand=True, purchase_fen=20000),
                    phone.user, "in_progress")
    resp, _ = tap(phone, slip.number, "complete", **complete_fields(purchase_spent=spent))
    assert resp.status_code == 422
    assert field_errors(resp, "purchase_spent") == [message]
    slip = reload(Slip, slip.id)
    assert (slip.state, slip.purchase_spent_fen) == (State.IN_PROGRESS, None)


def test_a_resent_completion_with_its_route_is_applied_once(world, phone):
    slip = bring_to(world, open_slip(world, world["owner"]), phone.user, "in_progress")
    resp, data = tap(phone, slip.number, "complete", **complete_fields())
    assert resp.status_code == 302
    again = phone.post(f"/field/jobs/{slip.number}/complete", data=data)  # the offline resend
    assert again.status_code == 302
    assert count(AccountEntry) == 1


# ---- the desk: an errand's purchase money -------------------------------------------------

@pytest.fixture
def desk(login_as):
    return login_as("clerk")


def contact(w, desk) -> int:
    entry = reception.log_contact(reception.Contact(
        channel="phone", kind="paid", request="代买米面", unit=w["owner"].unit,
        resident=w["owner"]), desk.user)
    _db.session.commit()
    return entry.id


def slip_fields(item, **kw) -> dict:
    return {"window_date": tomorrow().isoformat(), "window_start": "10:00", "window_end": "12:00",
            "request": "代买米面", "contact_name": "张伟", "contact_phone": "13800001111",
            "lines-0-item_id": str(item.id), "lines-0-quantity": "1", **kw}


def test_an_errand_takes_its_purchase_money_and_says_the_prepayment(world, desk):
    entry_id = contact(world, desk)
    plain = desk.get(f"/desk/contacts/{entry_id}/slip/lines",
                     query_string={"add": world["repair"].id}, headers={"HX-Request": "true"})
    assert 'id="errand-box"' not in plain.text  # not an errand: no purchase money
    added = desk.get(f"/desk/contacts/{entry_id}/slip/lines",
                     query_string={"add": world["errand"].id}, headers={"HX-Request": "true"})
    assert 'id="errand-box"' in added.text and 'name="purchase"' in added.text
    quote = desk.get(f"/desk/contacts/{entry_id}/slip/quote", headers={"HX-Request": "true"},
                     query_string=slip_fields(world["errand"], purchase="200"))
    prepay = grab(quote, lambda tag, a: a.get("id") == "errand-prepay")[0]
    assert "Prepayment ¥210.00 = fee ¥10.00 + purchase money ¥200.00." in prepay
    assert "The cashier takes it before the worker is dispatched." in prepay

    resp = desk.post(f"/desk/contacts/{entry_id}/slip",
                     data=slip_fields(world["errand"], purchase="200"))
    assert resp.status_code == 302
    slip = _db.session.scalar(select(Slip))
    assert (slip.errand, slip.purchase_fen, slip.total_fen) == (True, 20000, 1000)
    assert billing.errand_prepayment_fen(slip) == 21000


@pytest.mark.parametrize("item, purchase, message", [
    ("errand", "-20", "Enter an amount in yuan, e.g. 30 or 12.50."),
    ("errand", "1.234", "Enter an amount in yuan, e.g. 30 or 12.50."),
    ("repair", "50", "Purchase money is only for errands (代办)."),
])
def test_bad_purchase_money_is_refused_next_to_it(world, desk, item, purchase, message):
    entry_id = contact(world, desk)
    resp = desk.post(f"/desk/contacts/{entry_id}/slip",
                     data=slip_fields(world[item], purchase=purchase))
    assert resp.status_code == 422
    assert field_errors(resp, "purchase") == [message]
    assert count(Slip) == 0


# ---- the dispatch board: money before dispatch ------------------------------------------------

@pytest.fixture
def board(world, login_as):
    return login_as("supervisor")


def card(page, slip) -> str:
    return grab(page, lambda tag, a: a.get("id") == f"card-{slip.number}")[0]


def test_the_board_flags_a_short_deposit_and_an_errand_not_prepaid(world, board):
    billing.top_up(world["tenant"].unit, world["cashier"], "cash", 1000)
    tenant_slip = open_slip(world, world["tenant"])
    owner_slip = open_slip(world, world["owner"])
    errand = open_slip(world, world["owner"], errand=True, purchase_fen=5000)
    _db.session.commit()
    page = board.get("/supervise/")
    assert "Deposit short ¥20 — ask for a top-up" in card(page, tenant_slip)
    assert "Not prepaid — cashier first" in card(page, errand)
    assert "Deposit short" not in card(page, owner_slip)
    assert "prepaid" not in card(page, owner_slip)

    billing.top_up(world["tenant"].unit, world["cashier"], "cash", 2000)
    billing.prepay_errand(errand, world["cashier"], "cash", 6000)
    _db.session.commit()
    page = board.get("/supervise/")
    assert "Deposit short" not in card(page, tenant_slip)
    assert "Not prepaid" not in card(page, errand)


def test_dispatching_an_errand_not_prepaid_is_refused_on_its_card(world, board, login_as):
    worker = factories.user("worker")
    errand = open_slip(world, world["owner"], errand=True, purchase_fen=5000)
    _db.session.commit()
    resp = board.post(f"/supervise/slips/{errand.number}/dispatch",
                      data={"version": errand.version, "worker_id": worker.id},
                      headers={"HX-Request": "true"})
    assert resp.status_code == 422
    assert "not prepaid yet" in field_errors(resp, "worker_id")[0]
    assert "not prepaid yet" in form_alerts(resp)[0]
    assert reload(Slip, errand.id).state == State.REGISTERED


def test_the_board_counts_the_entries_to_review(world, board, phone):
    page = board.get("/supervise/")
    link = grab(page, lambda tag, a: a.get("id") == "entries-link")
    assert link == ["0 account entries to review"]
    bring_to(world, open_slip(world, world["owner"]), phone.user, "completed")
    page = board.get("/supervise/")
    assert grab(page, lambda tag, a: a.get("id") == "entries-link") == \
        ["1 account entry to review"]
    assert 'href="/supervise/accounts"' in page.text


# ---- the supervisor reviews owners' account entries -------------------------------------------

def signed_entry(w, worker) -> tuple[Slip, AccountEntry]:
    slip = bring_to(w, open_slip(w, w["owner"]), worker, "completed")
    entry = _db.session.scalar(select(AccountEntry).where(AccountEntry.slip_id == slip.id))
    return slip, entry


def test_the_review_page_shows_each_entry_against_its_signed_slip(world, board):
    slip, entry = signed_entry(world, factories.user("worker"))
    page = board.get("/supervise/accounts")
    assert page.status_code == 200
    assert 'data-live="/live/' in page.text or "data-live=" in page.text
    row = grab(page, lambda tag, a: a.get("id") == f"entry-{entry.id}")[0]
    for shown in (slip.number, slip.unit.label, "Unclog a drain", "¥30.00", "张伟"):
        assert shown in row
    assert f'href="/slips/{slip.number}"' in page.text
    assert f'src="/slips/{slip.number}/signature.png"' in page.text

    resp = board.post(f"/supervise/accounts/{entry.id}/review", data={"version": slip.version})
    assert resp.status_code == 302
    page = board.get(resp.location)
    assert "posted to the monthly account" in flashes(page)[0]
    assert f"entry-{entry.id}" not in page.text
    entry = reload(AccountEntry, entry.id)
    assert entry.reviewed_by_id == board.user.id and entry.reviewed_at is not None
    assert reload(Slip, slip.id).state == State.ON_ACCOUNT


def test_a_review_on_an_old_page_changes_nothing(world, board):
    slip, entry = signed_entry(world, factories.user("worker"))
    resp = board.post(f"/supervise/accounts/{entry.id}/review",
                      data={"version": slip.version - 1}, headers={"HX-Request": "true"})
    assert resp.status_code == 422
    assert form_alerts(resp)
    assert reload(AccountEntry, entry.id).reviewed_at is None
    again = board.post(f"/supervise/accounts/{entry.id}/review", data={"version": ""})
    assert again.status_code == 422
    assert form_alerts(again) == ["This page was out of date. Look at it again."]
    assert reload(AccountEntry, entry.id).reviewed_at is None


def test_reversing_needs_a_reason_and_happens_once(world, board):
    slip, entry = signed_entry(world, factories.user("worker"))
    empty = board.post(f"/supervise/accounts/{entry.id}/reverse", data={"note": "  "})
    assert empty.status_code == 422
    assert field_errors(empty, "note") == ["Give a reason."]
    assert count(AccountEntry) == 1

    resp = board.post(f"/supervise/accounts/{entry.id}/reverse",
                      data={"note": "业主说应现付"}, headers={"HX-Request": "true"})
    assert resp.status_code == 200
    assert "reversed: the slip is paid at the cashier" in text(resp)
    assert f"entry-{entry.id}" not in resp.text  # a reversed entry waits for nothing
    assert reload(Slip, slip.id).pay_route == "pay_now"
    assert count(AccountEntry) == 2

    twice = board.post(f"/supervise/accounts/{entry.id}/reverse", data={"note": "again"})
    assert twice.status_code == 422
    assert "already reversed" in form_alerts(twice)[0]
    assert count(AccountEntry) == 2


def test_only_the_supervisor_reviews(world, login_as):
    slip, entry = signed_entry(world, factories.user("worker"))
    for role in ("clerk", "cashier", "manager", "worker"):
        other = login_as(role)
        assert other.get("/supervise/accounts").status_code == 403
        assert other.post(f"/supervise/accounts/{entry.id}/review",
                          data={"version": slip.version}).status_code == 403
    assert reload(AccountEntry, entry.id).reviewed_at is None


# ---- the manager: refunds and corrections ---------------------------------------------------

@pytest.fixture
def manager(world, login_as):
    return login_as("manager")


def asked_refund(w, amount=3000) -> DepositRefund:
    billing.top_up(w["tenant"].unit, w["cashier"], "cash", 5000)
    refund = billing.request_refund(w["tenant"].unit, w["cashier"], amount, "退租")
    _db.session.commit()
    return refund


def test_a_refund_waits_with_the_balance_and_is_approved(world, manager):
    refund = asked_refund(world)
    page = manager.get("/manage/refunds")
    row = grab(page, lambda tag, a: a.get("id") == f"refund-{refund.id}")[0]
    for shown in (refund.unit.label, "¥50.00", "¥30.00", "退租", world["cashier"].full_name):
        assert shown in row
    resp = manager.post(f"/manage/refunds/{refund.id}/decide",
                        data={"version": refund.version, "decision": "approve"})
    assert resp.status_code == 302
    page = manager.get(resp.location)
    assert "approved: the cashier pays it out" in flashes(page)[0]
    assert reload(DepositRefund, refund.id).state == RefundState.APPROVED
    decided = grab(page, lambda tag, a: a.get("id") == "decided-refunds")[0]
    assert "Approved: to be paid out" in decided and manager.user.full_name in decided


def test_refusing_a_refund_needs_a_note(world, manager):
    refund = asked_refund(world)
    resp = manager.post(f"/manage/refunds/{refund.id}/decide",
                        data={"version": refund.version, "decision": "refuse", "note": ""})
    assert resp.status_code == 422
    assert field_errors(resp, "note") == ["Give a reason."]
    assert reload(DepositRefund, refund.id).state == RefundState.PENDING

    resp = manager.post(f"/manage/refunds/{refund.id}/decide",
                        data={"version": refund.version, "decision": "refuse",
                              "note": "押金抵欠费"}, headers={"HX-Request": "true"})
    assert resp.status_code == 200 and "refused" in text(resp)
    refund = reload(DepositRefund, refund.id)
    assert (refund.state, refund.decision_note) == (RefundState.REJECTED, "押金抵欠费")


def test_a_refund_decided_meanwhile_or_a_bad_decision_changes_nothing(world, manager):
    refund = asked_refund(world)
    odd = manager.post(f"/manage/refunds/{refund.id}/decide",
                       data={"version": refund.version, "decision": "maybe"})
    assert odd.status_code == 422
    assert field_errors(odd, "decision") == ["Approve or refuse the refund."]
    stale = manager.post(f"/manage/refunds/{refund.id}/decide",
                         data={"version": refund.version + 5, "decision": "approve"})
    assert stale.status_code == 422 and "changed since you opened it" in form_alerts(stale)[0]
    stale = manager.post(f"/manage/refunds/{refund.id}/decide", data={"decision": "approve"})
    assert stale.status_code == 422
    assert form_alerts(stale) == ["This page was out of date. Look at it again."]
    assert reload(DepositRefund, refund.id).state == RefundState.PENDING
    assert manager.post("/manage/refunds/99999/decide",
                        data={"version": 1, "decision": "approve"}).status_code == 404


def test_corrections_list_every_void_and_reversed_entry(world, manager, phone):
    slip = bring_to(world, open_slip(world, world["tenant"]), phone.user, "completed",
                    pay_route="pay_now")
    receipt = billing.take_payment(slip, world["cashier"], "wechat", 3000)
    billing.void(receipt, world["cashier"], "收错了单")
    owner_slip, entry = signed_entry(world, phone.user)
    billing.reverse_entry(entry, world["supervisor"], "应现付")
    _db.session.commit()

    home = manager.get("/manage/")
    assert "2 money corrections (1 voided receipts, 1 reversed entries, 0 fees waived)" in \
        grab(home, lambda tag, a: a.get("id") == "corrections-link")[0]
    assert "0 deposit refunds to decide" in \
        grab(home, lambda tag, a: a.get("id") == "refunds-link")[0]

    page = manager.get("/manage/corrections")
    voids = grab(page, lambda tag, a: a.get("id") == "voided-receipts")[0]
    for shown in (receipt.number, "VOID", "¥30.00", "WeChat Pay", world["cashier"].full_name,
                  "收错了单", slip.number):
        assert shown in voids
    assert f'href="/receipts/{receipt.number}.pdf"' in page.text
    entries = grab(page, lambda tag, a: a.get("id") == "reversed-entries")[0]
    for shown in (owner_slip.number, owner_slip.unit.label, "¥30.00", "应现付",
                  world["supervisor"].full_name):
        assert shown in entries


def test_only_the_manager_sees_refunds_and_corrections(world, login_as):
    refund = asked_refund(world)
    for role in ("clerk", "cashier", "supervisor", "worker"):
        other = login_as(role)
        assert other.get("/manage/refunds").status_code == 403
        assert other.get("/manage/corrections").status_code == 403
        assert other.post(f"/manage/refunds/{refund.id}/decide",
                          data={"version": refund.version, "decision": "approve"}
                          ).status_code == 403
    assert reload(DepositRefund, refund.id).state == RefundState.PENDING


def test_the_manager_home_counts_the_refunds_waiting(world, manager):
    asked_refund(world, 1000)
    home = manager.get("/manage/")
    link = grab(home, lambda tag, a: a.get("id") == "refunds-link")[0]
    assert link == "1 deposit refund to decide"
    assert 'href="/manage/refunds"' in home.text


# ---- the slip page's money -------------------------------------------------------------------

def test_the_slip_page_shows_who_pays_and_the_receipts(world, login_as, phone):
    slip = bring_to(world, open_slip(world, world["tenant"]), phone.user, "completed",
                    pay_route="pay_now")
    clerk = login_as("clerk")
    page = clerk.get(f"/slips/{slip.number}")
    money = grab(page, lambda tag, a: a.get("id") == "slip-money")[0]
    assert "Who pays Pay at the office" in money and "Owed now ¥30.00" in money
    assert "No money recorded on this slip yet." in money

    receipt = billing.take_payment(slip, world["cashier"], "cash", 3000)
    _db.session.commit()
    page = clerk.get(f"/slips/{slip.number}")
    row = grab(page, lambda tag, a: a.get("id") == "slip-payments")[0]
    assert receipt.number in row and "Cash" in row and "¥30.00" in row
    assert f'href="/receipts/{receipt.number}.pdf"' in page.text  # the clerk may print it
    assert f'href="/cashier/receipts/{receipt.number}"' not in page.text  # not the till
    assert "Owed now ¥0.00" in grab(page, lambda tag, a: a.get("id") == "slip-money")[0]

    billing.void(receipt, world["cashier"], "收错了")
    _db.session.commit()
    till = login_as("cashier")
    page = till.get(f"/slips/{slip.number}")
    row = grab(page, lambda tag, a: a.get("id") == "slip-payments")[0]
    assert f"{receipt.number} VOID" in row and f"Voids {receipt.number}" in row
    assert "收错了" in row
    assert f'href="/cashier/receipts/{receipt.number}"' in page.text
    assert "Owed now ¥30.00" in grab(page, lambda tag, a: a.get("id") == "slip-money")[0]


def test_the_slip_page_shows_the_account_entry_and_its_review(world, login_as, phone):
    slip, entry = signed_entry(world, phone.user)
    office = login_as("supervisor")
    page = office.get(f"/slips/{slip.number}")
    money = grab(page, lambda tag, a: a.get("id") == "slip-money")[0]
    assert "Who pays Owner's monthly account" in money
    entries = grab(page, lambda tag, a: a.get("id") == "slip-entries")[0]
    assert "张伟" in entries and "Waiting for the supervisor's review" in entries
    billing.review_entry(entry, world["supervisor"])
    _db.session.commit()
    entries = grab(office.get(f"/slips/{slip.number}"),
                   lambda tag, a: a.get("id") == "slip-entries")[0]
    assert f"Reviewed by {world['supervisor'].full_name}" in entries


def test_the_slip_page_shows_an_errands_money(world, login_as, phone):
    slip = bring_to(world, open_slip(world, world["owner"], errand=True, purchase_fen=20000),
                    phone.user, "completed", purchase_spent_fen=23000)
    page = login_as("clerk").get(f"/slips/{slip.number}")
    money = grab(page, lambda tag, a: a.get("id") == "slip-money")[0]
    assert "Errand prepaid ¥210.00" in money
    assert "Purchase money (代购款) ¥200.00" in money
    assert "Purchases cost ¥230.00" in money
    assert "Owed now ¥30.00" in money
    assert "Errand prepayment" in grab(page, lambda tag, a: a.get("id") == "slip-payments")[0]
    assert _db.session.scalar(select(func.count()).select_from(Payment)) == 1


def test_a_fee_waived_on_the_slip_page_is_listed_for_the_manager(world, board, manager, phone):
    slip, entry = signed_entry(world, phone.user)
    page = board.get(f"/slips/{slip.number}")
    assert "Waive the fee" in page.text and "the fee of ¥30.00 is waived in your name" in page.text
    refused = board.post(f"/slips/{slip.number}/waive",
                         data={"waive-version": slip.version, "waive-note": " "})
    assert refused.status_code == 422 and "Give a reason." in refused.text
    assert reload(Slip, slip.id).waived_at is None

    done = board.post(f"/slips/{slip.number}/waive",
                      data={"waive-version": slip.version, "waive-note": "公共管道问题，免收"},
                      follow_redirects=True)
    assert "Fee on slip" in done.text and "waived: nothing is owed on it." in done.text
    money = grab(done, lambda tag, a: a.get("id") == "slip-money")[0]
    assert "公共管道问题，免收" in money and board.user.full_name in money
    assert "Waive the fee" not in grab(done, lambda tag, a: a.get("id") == "slip-actions")[0]
    assert billing.entries_to_review() == []

    corrections = manager.get("/manage/corrections")
    assert corrections.text.count('id="waived-fees"') == 1
    listed = grab(corrections, lambda tag, a: a.get("id") == "waived-fees")
    for shown in (slip.number, "¥30.00", board.user.full_name, "公共管道问题，免收"):
        assert shown in listed[0]
    home = manager.get("/manage/")
    assert "1 fees waived" in grab(home, lambda tag, a: a.get("id") == "corrections-link")[0]
    assert reload(AccountEntry, entry.id).reversed  # the signed entry stays, reversed

    # The reprinted slip says so too: the fee struck through, nothing to pay, who and why.
    printed = subprocess.run(["pdftotext", "-layout", "-", "-"], check=True, capture_output=True,
                             input=board.get(f"/slips/{slip.number}/slip.pdf").data).stdout
    printed = printed.decode()
    assert "¥30.00 ¥0.00" in printed and "公共管道问题，免收" in printed
    assert board.user.full_name in printed


def test_the_manager_watches_the_board_and_reads_the_days_cash_without_acting(world, manager):
    slip = open_slip(world, world["owner"])
    _db.session.commit()
    board = manager.get("/supervise/")
    assert board.status_code == 200 and slip.number in board.text
    assert "<form" not in board.text.split(f'id="card-{slip.number}"')[1].split("</article>")[0]
    assert manager.post(f"/supervise/slips/{slip.number}/dispatch",
                        data={"version": slip.version,
                              "worker_id": world["cashier"].id}).status_code == 403
    day = clock.local_today().isoformat()
    page = manager.get(f"/cashier/day/{day}")
    assert page.status_code == 200 and f"Cash report {day}" in page.text
    assert "Record the count" not in page.text and 'class="crumbs"' not in page.text
    assert manager.get(f"/reports/cashier/{day}.pdf").status_code == 200
    assert manager.post(f"/cashier/day/{day}/count", data={"counted": "0"}).status_code == 403
