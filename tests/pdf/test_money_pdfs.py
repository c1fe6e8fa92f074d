"""Money's printed paperwork: the receipt (收款收据, A5) and the refund voucher (退款凭证), the
owner's monthly statement (有偿便民服务月结统计表, A4, numbered pages) and the daily cash report.
What they print in both languages agrees with the database, and who may fetch each."""
from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.domain.money import capital_yuan, format_yuan
from app.extensions import db as _db
from app.models import ListStatus, PriceItem, PriceList
from app.models.billing import AccountEntry, Payment
from app.services import billing, clock
from app.services import slips as svc
from tests import factories
from tests.conftest import _wipe
from tests.moments import past_list_date
from tests.pdf.conftest import first_page_png, pdf_text

pytestmark = pytest.mark.pdf

OFFICE = "幸福花园物业服务中心"
DRAIN, PIPE, TAP, ERRAND = 0, 1, 2, 4  # ERRAND: added to the factory list below
ENTRIES = 60          # a statement this long runs over two A4 pages
VOID_REASON = "收错房号，重开"
COUNTED_SHORT_FEN = 500  # cashier A's drawer is five yuan short


@dataclass
class Printed:
    pdf: bytes
    text: str
    status: int
    headers: dict
    info: str = ""  # pdfinfo

    @property
    def pages(self) -> int:
        return self.text.rstrip("\f").count("\f") + 1

    @property
    def page_mm(self) -> tuple[int, int]:
        """The first page's width and height in whole millimetres, from pdfinfo."""
        w, h = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", self.info).groups()
        return round(float(w) * 25.4 / 72), round(float(h) * 25.4 / 72)

    @property
    def flat(self) -> str:
        return " ".join(self.text.split())


@dataclass
class World:
    paid: str             # a three-line slip paid in cash: ¥204.45
    paid_slip: str
    voided: str
    prepay: str           # an errand prepaid: fee and purchase money
    errand_slip: str
    change: str           # the errand's change given back: a refund voucher
    refund: str           # deposit money paid back: a refund voucher
    topup: str
    drawn: str            # a tenant's slip drawn from the deposit
    on_statement: str     # a partial payment of the statement
    unit_key: str         # the owner's unit, with the month's statement
    unit_label: str
    owner: str
    month: str
    day: str
    empty_unit_key: str   # a unit with no statement
    docs: dict[tuple[str, str], Printed] = field(default_factory=dict)


def _signed_in(app, username: str):
    client = app.test_client()
    resp = client.post("/login", data={"username": username, "password": factories.PASSWORD})
    assert resp.status_code == 302, resp.text
    return client


def _fetch(client, url: str, workdir: Path, name: str) -> Printed:
    resp = client.get(url)
    if resp.status_code != 200:
        return Printed(resp.data, "", resp.status_code, dict(resp.headers))
    path = workdir / f"{name}.pdf"
    path.write_bytes(resp.data)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True,
                          text=True).stdout
    return Printed(resp.data, pdf_text(resp.data, workdir, name), 200, dict(resp.headers), info)


def _set_language(client, lang: str) -> None:
    assert client.post("/language", data={"locale": lang, "next": "/desk/"}).status_code == 302


def _acceptance(**kw) -> svc.Acceptance:
    return svc.Acceptance(**{"name": "王芳", "signature_file": "signatures/x.png",
                             "satisfied": True, **kw})


class Office:
    """The people and the price list; `finish` takes a slip through the real services."""

    def __init__(self):
        self.clerk = factories.user("clerk", username="money-clerk")
        self.sup = factories.user("supervisor", username="money-sup")
        self.worker = factories.user("worker", username="money-worker")
        self.cashier = factories.user("cashier", username="money-cashier")
        self.cashier2 = factories.user("cashier", username="money-cashier2")
        self.manager = factories.user("manager", username="money-manager")
        self.cashier.full_name, self.cashier2.full_name = "陈会计", "赵出纳"
        self.pl = self._price_list()

    def _price_list(self) -> PriceList:
        """The factory list's four repairs, and an errand (代办) item in its own category."""
        repairs = factories.price_list(self.clerk, number=9)
        errands = factories.category(code=svc.ERRAND_CATEGORY, zh="代办类", en="Errands")
        pl = PriceList(status=ListStatus.APPROVED, number=10, effective_date=past_list_date(),
                       created_by=self.clerk, approved_by=self.clerk)
        for i, item in enumerate(repairs.items):
            pl.items.append(PriceItem(category_id=item.category_id, code=f"R{i}",
                                      name_zh=item.name_zh, name_en=item.name_en, unit=item.unit,
                                      price_min_fen=item.price_min_fen,
                                      price_max_fen=item.price_max_fen,
                                      by_workload=item.by_workload, free=item.free,
                                      department="repair", sort=i))
        pl.items.append(PriceItem(category_id=errands.id, code="E01", name_zh="代买煤气罐",
                                  name_en="Buy a gas cylinder", unit="次", price_min_fen=2000,
                                  price_max_fen=2000, department="errands", sort=9))
        _db.session.add(pl)
        _db.session.flush()
        return pl

    def line(self, i: int, qty: int = 1, price: int | None = None) -> svc.LineRequest:
        return svc.LineRequest(self.pl.items[i].id, qty, price)

    def open(self, unit, *lines, resident=None, **kw):
        return factories.slip(self.clerk, unit_=unit, lines=list(lines), pl=self.pl,
                              resident=resident, contact_name=resident.name if resident else "王芳",
                              **kw)

    def finish(self, slip, **acceptance):
        svc.dispatch(slip, self.sup, self.worker.id)
        svc.accept(slip, self.worker)
        svc.check_in(slip, self.worker)
        svc.confirm_fee(slip, self.worker, {})
        svc.complete(slip, self.worker, _acceptance(**acceptance))
        return slip


def _build() -> World:
    from app.services.settings import update_settings
    update_settings(name=OFFICE, name_en="Happy Garden Property Service Centre",
                    address="幸福路88号", phone="0571-88886666", timezone="Asia/Shanghai",
                    currency="CNY")
    o = Office()
    c, c2 = o.cashier, o.cashier2

    # Paid at the office in cash: 30.00 + 2 × 25.50 + 123.45 = 204.45
    walk_in = factories.unit("5", 1, "0301")
    paid_slip = o.finish(o.open(walk_in, o.line(DRAIN), o.line(TAP, 2, 2550),
                                o.line(PIPE, 1, 12345)))
    paid = billing.take_payment(paid_slip, c, "cash", billing.owed_fen(paid_slip),
                                payer_name="李先生")
    # Paid, then voided by the other cashier
    wrong = o.finish(o.open(walk_in, o.line(DRAIN)))
    voided = billing.take_payment(wrong, c2, "wechat", billing.owed_fen(wrong))
    billing.void(voided, c2, VOID_REASON)

    # An errand: prepaid 20 fee + 150 purchase money; the purchases cost 120: 30 back
    errand = o.open(walk_in, o.line(ERRAND), purchase_fen=15000)
    prepay = billing.prepay_errand(errand, c, "alipay", billing.errand_prepayment_fen(errand))
    o.finish(errand, purchase_spent_fen=12000)
    change = billing.take_payment(errand, c, "cash", None)

    # A tenant: a deposit topped up, a slip drawn from it, part of it refunded
    flat = factories.unit("6", 2, "1101")
    tenant = factories.resident(flat, name="刘租户", kind="tenant", phone="13900002222")
    topup = billing.top_up(flat, c2, "bank_transfer", 50000, payer_name="刘租户")
    rented = o.finish(o.open(flat, o.line(DRAIN), resident=tenant), pay_route="deposit")
    drawn = billing.draw_from_deposit(rented, c)
    ask = billing.request_refund(flat, c, 20000, "退租，退还部分预交款")
    billing.decide_refund(ask, o.manager, True)
    refund = billing.pay_refund(ask, c, "bank_transfer")

    # An owner on the monthly account: sixty signed slips, one reversed, then month end
    home = factories.unit("7", 1, "0802")
    owner = factories.resident(home, name="王芳", kind="owner", phone="13912345678")
    for i in range(ENTRIES):
        o.finish(o.open(home, o.line(TAP, 1 + i % 3, 1000 + 17 * i), resident=owner),
                 pay_route="on_account")
        billing.review_entry(billing.entries_to_review()[-1], o.sup)
    first = _db.session.scalar(select(AccountEntry).where(AccountEntry.unit_id == home.id)
                               .order_by(AccountEntry.id))
    billing.reverse_entry(first, o.sup, "业主称未做此项")
    month = first.month
    run = billing.start_month_end(month, c)
    while run.finished_at is None:
        billing.run_step(run, c)
    statement = billing.statement_of(home, month)
    part = billing.pay_statement(statement, c, "card", 10000, payer_name="王芳")

    billing.count_cash(clock.local_today(), c,
                       _cash_of(c.id) - COUNTED_SHORT_FEN, "少五元")
    empty = factories.unit("8", 1, "0101")
    _db.session.commit()
    return World(paid=paid.number, paid_slip=paid_slip.number, voided=voided.number,
                 prepay=prepay.number, errand_slip=errand.number, change=change.number,
                 refund=refund.number, topup=topup.number, drawn=drawn.number,
                 on_statement=part.number, unit_key=home.search_key, unit_label=home.label,
                 owner=owner.name, month=month, day=clock.local_today().isoformat(),
                 empty_unit_key=empty.search_key)


def _cash_of(cashier_id: int) -> int:
    return _db.session.scalar(select(func.coalesce(func.sum(Payment.amount_fen), 0)).where(
        Payment.cashier_id == cashier_id, Payment.method == "cash"))


DOCS = ("paid", "voided", "prepay", "change", "refund", "topup", "drawn", "on_statement")


@pytest.fixture(scope="module")
def world(app, tmp_path_factory) -> Iterator[World]:
    """Money of one day through the real services; every document fetched once in Chinese and
    in English by the cashier. The tables are emptied afterwards."""
    missing = [t for t in ("pdftotext", "pdftoppm", "pdfinfo") if shutil.which(t) is None]
    if missing:
        pytest.fail(f"missing tools: {missing} (apt-get install poppler-utils)")
    with app.app_context():
        made = _build()
        _db.session.remove()
    workdir = tmp_path_factory.mktemp("money-pdf")
    client = _signed_in(app, "money-cashier")
    try:
        for lang in ("zh_CN", "en"):
            _set_language(client, lang)
            for doc in DOCS:
                number = getattr(made, doc)
                made.docs[(doc, lang)] = _fetch(client, f"/receipts/{number}.pdf", workdir,
                                                f"{doc}-{lang}")
            made.docs[("statement", lang)] = _fetch(
                client, f"/statements/{made.unit_key}/{made.month}.pdf", workdir,
                f"statement-{lang}")
            made.docs[("report", lang)] = _fetch(client, f"/reports/cashier/{made.day}.pdf",
                                                 workdir, f"report-{lang}")
        yield made
    finally:
        _wipe(app)


def _payment(number: str) -> Payment:
    return billing.receipt(number)


# ---- the receipt ---------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_a_receipt_is_one_a5_page(world, lang):
    doc = world.docs[("paid", lang)]
    assert doc.status == 200
    assert doc.headers["Content-Type"] == "application/pdf"
    assert doc.headers["Content-Disposition"] == f'inline; filename="receipt-{world.paid}.pdf"'
    assert doc.pages == 1
    assert doc.page_mm == (148, 210), "A5 portrait"


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_receipt_names_what_was_paid(app, world, lang):
    text = world.docs[("paid", lang)].flat
    with app.app_context():
        p = _payment(world.paid)
        total, unit, cashier = format_yuan(p.amount_fen), p.unit.label, p.cashier.full_name
        lines = [(line.name_zh, line.quantity, format_yuan(line.price_fen, symbol=""),
                  format_yuan(line.amount_fen, symbol="")) for line in p.slip.lines]
    assert total == "¥204.45"
    for value in (OFFICE, "收款收据", world.paid, world.paid_slip, unit, "李先生", "现金",
                  cashier, total):
        assert value in text, value
    for name, qty, price, amount in lines:
        assert re.search(rf"{re.escape(name)}[^¥]*? {qty} ?[次个] {re.escape(price)} "
                         rf"{re.escape(amount)}", text), (name, qty, price, amount)
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", text)
    assert "VOID" not in text and "作废" not in text


def test_the_chinese_receipt_gives_the_amount_in_capitals(app, world):
    text = world.docs[("paid", "zh_CN")].flat
    with app.app_context():
        fen = _payment(world.paid).amount_fen
    assert capital_yuan(fen) == "贰佰零肆元肆角伍分"
    assert f"大写金额 人民币 {capital_yuan(fen)}" in text
    assert "Receipt" not in text and "Cash" not in text


def test_the_english_receipt_keeps_the_chinese_beside_the_english(world):
    text = world.docs[("paid", "en")].flat
    for value in ("收款收据", "Receipt", "房号 Unit", "付款人 Payer", "现金 Cash",
                  "Replace a tap", "Total"):
        assert value in text, value
    assert "大写金额" not in text  # capital numerals are for the Chinese receipt


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_a_voided_receipt_says_void_with_the_reason_and_date(app, world, lang):
    text = world.docs[("voided", lang)].flat
    with app.app_context():
        p = _payment(world.voided)
        assert p.void
        total = format_yuan(p.amount_fen)
        voided_on = p.reversed_by.at.astimezone(clock.zone()).strftime("%Y-%m-%d %H:%M")
    assert "VOID" in text and "作废" in text
    assert VOID_REASON in text and voided_on in text
    assert world.voided in text and total in text  # the receipt keeps its number and amount


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_an_errand_prepayment_lists_the_fee_and_the_purchase_money(world, lang):
    text = world.docs[("prepay", lang)].flat
    assert "收款收据" in text and world.errand_slip in text
    assert "代买煤气罐" in text and "20.00" in text
    assert "代购款 150.00" in text if lang == "zh_CN" else "Purchase money" in text
    assert "¥170.00" in text and "支付宝" in text
    if lang == "zh_CN":
        assert "壹佰柒拾元整" in text


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_money_paid_out_is_a_refund_voucher(app, world, lang):
    for doc, kind, fen in (("change", "代购款找零", -3000), ("refund", "预交款退款", -20000)):
        text = world.docs[(doc, lang)].flat
        with app.app_context():
            assert _payment(getattr(world, doc)).amount_fen == fen
        assert "退款凭证" in text and "收款收据" not in text, doc
        assert kind in text and format_yuan(-fen) in text, doc
        if lang == "en":
            assert "Refund voucher" in text
        else:
            assert capital_yuan(-fen) in text
    assert "退租，退还部分预交款" in world.docs[("refund", lang)].flat


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_deposit_and_statement_receipts_say_what_they_are_for(world, lang):
    assert "预交服务费" in world.docs[("topup", lang)].flat
    assert "¥500.00" in world.docs[("topup", lang)].flat
    drawn = world.docs[("drawn", lang)].flat
    assert "预交款抵扣" in drawn and "疏通下水" in drawn
    paid = world.docs[("on_statement", lang)].flat
    assert f"有偿便民服务月结 {world.month}（{ENTRIES + 1} 笔）" in paid
    assert "¥100.00" in paid and world.unit_label in paid and "银行卡" in paid


def test_unknown_or_malformed_receipt_numbers_are_not_found(app, world):
    client = _signed_in(app, "money-cashier")
    for number in ("RC209901-9999", "RC2026", "not-a-receipt", "rc%27--"):
        assert client.get(f"/receipts/{number}.pdf").status_code == 404, number


# ---- the monthly statement -----------------------------------------------------------------

@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_a_long_statement_runs_over_numbered_a4_pages(world, lang):
    doc = world.docs[("statement", lang)]
    assert doc.status == 200
    assert doc.page_mm == (210, 297), "A4 portrait"
    assert doc.pages >= 2
    n = doc.pages
    footer = r"第\s*(\d+)\s*页\s*/\s*共\s*(\d+)\s*页" + (r"\s*·\s*Page (\d+) of (\d+)"
                                                       if lang == "en" else "")
    numbers = [tuple(map(int, m)) for m in re.findall(footer, doc.text)]
    expected = [(p, n, p, n) if lang == "en" else (p, n) for p in range(1, n + 1)]
    assert numbers == expected
    with_entries = [p for p in doc.text.split("\f") if re.search(r"YC\d{6}-\d{4}", p)]
    assert len(with_entries) >= 2
    assert all("服务单号" in p for p in with_entries), "the table head repeats on every page"


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_statement_total_is_the_sum_of_its_entries(app, world, lang):
    doc = world.docs[("statement", lang)]
    with app.app_context():
        unit = billing.unit_by_key(world.unit_key)
        statement = billing.statement_of(unit, world.month)
        amounts = _db.session.scalars(select(AccountEntry.amount_fen)
                                      .where(AccountEntry.statement_id == statement.id)).all()
        slips = _db.session.scalars(select(AccountEntry.slip_id)
                                    .where(AccountEntry.statement_id == statement.id)).all()
        paid = billing.statement_paid_fen(statement)
        stored_total = statement.total_fen
    assert len(amounts) == ENTRIES + 1 and min(amounts) < 0  # one reversal, negative
    total = sum(amounts)
    text = doc.flat
    assert f"¥{format_yuan(total, symbol='')}" in text
    assert stored_total == total
    assert f"¥{format_yuan(paid, symbol='')}" in text and paid == 10000
    assert f"¥{format_yuan(total - paid, symbol='')}" in text
    for value in ("有偿便民服务月结统计表", OFFICE, world.unit_label, world.owner, world.month,
                  "业主确认签字", "日期", "业主称未做此项", "冲正"):
        assert value in text, value
    assert len(set(slips)) == ENTRIES
    # every entry's amount is printed on its row: the reversal negative
    for fen in set(amounts):
        assert format_yuan(fen, symbol="") in text, fen


def test_the_english_statement_has_english_labels(world):
    text = world.docs[("statement", "en")].flat
    for value in ("有偿便民服务月结统计表", "Monthly statement", "Owner's signature",
                  "Still due", "Paid so far"):
        assert value in text, value


def test_no_statement_is_not_found(app, world):
    client = _signed_in(app, "money-cashier")
    for url in (f"/statements/{world.empty_unit_key}/{world.month}.pdf",
                f"/statements/9-9-9999/{world.month}.pdf",
                f"/statements/{world.unit_key}/2026-13.pdf",
                f"/statements/{world.unit_key}/2999-01.pdf",
                f"/statements/{world.unit_key}/last-month.pdf"):
        assert client.get(url).status_code == 404, url


# ---- the daily cash report -----------------------------------------------------------------

METHOD_ZH = {"cash": "现金", "wechat": "微信支付", "alipay": "支付宝", "card": "银行卡",
             "bank_transfer": "银行转账", "deposit": "预交款抵扣"}


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_cash_report_totals_by_method_equal_the_database(app, world, lang):
    doc = world.docs[("report", lang)]
    assert doc.status == 200 and doc.page_mm == (210, 297)
    with app.app_context():
        sums = dict(_db.session.execute(select(Payment.method, func.sum(Payment.amount_fen))
                                        .group_by(Payment.method)).all())
    lines = doc.text.splitlines()
    for method, zh in METHOD_ZH.items():
        if method == "deposit":
            continue
        amount = format_yuan(sums.get(method, 0), symbol="")
        row = next(ln for ln in lines if ln.strip().startswith(zh))
        assert row.rstrip().endswith(f" {amount}"), (method, row)
    money_total = sum(v for k, v in sums.items() if k != "deposit")
    assert re.search(rf"收款合计.*¥{re.escape(format_yuan(money_total, symbol=''))}", doc.text)
    drawn = next(ln for ln in lines if "预交款抵扣（不计入收款）" in ln)
    assert re.search(rf"\s1\s+{re.escape(format_yuan(sums['deposit'], symbol=''))}$",
                     drawn.rstrip()), drawn


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_cash_report_compares_expected_and_counted_cash(app, world, lang):
    text = world.docs[("report", lang)].text
    with app.app_context():
        expected = _cash_of(billing.receipt(world.paid).cashier_id)
    row = next(ln for ln in text.splitlines() if ln.strip().startswith("陈会计"))
    counted = expected - COUNTED_SHORT_FEN
    assert re.search(rf"{re.escape(format_yuan(expected, symbol=''))}\s+"
                     rf"{re.escape(format_yuan(counted, symbol=''))}\s+-5\.00\s*$", row), row
    other = next(ln for ln in text.splitlines() if ln.strip().startswith("赵出纳"))
    assert other.rstrip().endswith("—") and "未点" in text  # not counted: no difference


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_cash_report_lists_every_receipt_with_the_voids(world, lang):
    text = world.docs[("report", lang)].flat
    for doc in DOCS:
        assert getattr(world, doc) in text, doc
    assert f"作废 {world.voided}：{VOID_REASON}" in text
    for value in ("收银日报表", world.day, "收银员签字", "复核人签字", "打印时间"):
        assert value in text, value
    if lang == "en":
        assert "Daily cash report" in text and "By cashier" in text


def test_a_bad_or_future_day_is_not_found(app, world):
    client = _signed_in(app, "money-cashier")
    with app.app_context():
        tomorrow = (clock.local_today() + timedelta(days=1)).isoformat()
    for day in (tomorrow, "2026-02-30", "yesterday", "1999-12-31"):
        assert client.get(f"/reports/cashier/{day}.pdf").status_code == 404, day


# ---- who may fetch them --------------------------------------------------------------------

def _urls(world: World) -> dict[str, str]:
    return {"receipt": f"/receipts/{world.paid}.pdf",
            "statement": f"/statements/{world.unit_key}/{world.month}.pdf",
            "report": f"/reports/cashier/{world.day}.pdf"}


@pytest.mark.parametrize("who, allowed", [
    ("money-worker", set()),
    ("money-sup", set()),
    ("money-clerk", {"receipt"}),
    ("money-manager", {"receipt", "statement", "report"}),
])
def test_who_may_fetch_each_paper(app, world, who, allowed):
    client = _signed_in(app, who)
    for name, url in _urls(world).items():
        resp = client.get(url)
        assert resp.status_code == (200 if name in allowed else 403), (who, name)
        if name in allowed:
            assert resp.data.startswith(b"%PDF-")


def test_anonymous_goes_to_the_login_page(app, world):
    client = app.test_client()
    for url in _urls(world).values():
        resp = client.get(url)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], url


def test_pictures_for_a_person_to_look_at(world, artifacts, tmp_path):
    """test-artifacts/money-<doc>-<lang>.png (and .pdf): first pages, and the statement's last
    page."""
    for (doc, lang), printed in world.docs.items():
        short = "zh" if lang == "zh_CN" else "en"
        (artifacts / f"money-{doc}-{short}.pdf").write_bytes(printed.pdf)
        png = first_page_png(printed.pdf, tmp_path, artifacts / f"money-{doc}-{short}.png")
        assert png.stat().st_size > 5_000
    last = world.docs[("statement", "zh_CN")]
    path = tmp_path / "statement-last.pdf"
    path.write_bytes(last.pdf)
    subprocess.run(["pdftoppm", "-r", "60", "-f", str(last.pages), "-l", str(last.pages), "-png",
                    "-singlefile", str(path), str(artifacts / "money-statement-zh-last")],
                   check=True, capture_output=True)
