"""The printed slip (有偿服务单, two copies on one A4 sheet) and the nobody-home card (温馨提示卡):
what they print in both languages, the QR code a worker scans at the door, who may print them,
and how long a slip takes to render."""
from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.extensions import db as _db
from app.services import clock
from app.services import slips as svc
from tests import factories
from tests.conftest import _wipe
from tests.pdf.conftest import first_page_png, pdf_text

pytestmark = pytest.mark.pdf

OFFICE_PHONE = "0571-88886666"
NOTES = "家里有狗，请先敲门"
REQUEST = "厨房下水道堵塞"
# A normal slip: eight lines, the most one A4 sheet holds in two copies.
LINES = [(0, 1, None), (1, 2, 200000), (2, 3, None), (3, 1, None), (0, 2, None), (1, 1, 150000),
         (2, 1, 1500), (0, 1, None)]


@dataclass
class Printed:
    pdf: bytes
    text: str
    status: int
    headers: dict

    @property
    def pages(self) -> int:
        return self.text.rstrip("\f").count("\f") + 1


@dataclass
class World:
    number: str           # dispatched to the worker, nobody home once, eight lines
    fresh: str            # just opened: no worker yet
    worker_name: str
    clerk_name: str
    unit: str
    docs: dict[tuple[str, str], Printed]


def _signed_in(app, username: str):
    client = app.test_client()
    resp = client.post("/login", data={"username": username, "password": factories.PASSWORD})
    assert resp.status_code == 302, resp.text
    return client


def _fetch(client, url: str, workdir: Path, name: str) -> Printed:
    resp = client.get(url)
    text = pdf_text(resp.data, workdir, name) if resp.status_code == 200 else ""
    return Printed(resp.data, text, resp.status_code, dict(resp.headers))


def _set_language(client, lang: str) -> None:
    assert client.post("/language", data={"locale": lang, "next": "/desk/"}).status_code == 302


@pytest.fixture(scope="module")
def world(app, tmp_path_factory) -> Iterator[World]:
    """One slip with eight lines, dispatched, nobody home once; its slip and card PDFs in
    Chinese and English, fetched once. The tables are emptied afterwards."""
    missing = [t for t in ("pdftotext", "pdftoppm", "zbarimg") if shutil.which(t) is None]
    if missing:
        pytest.fail(f"missing tools: {missing} (apt-get install poppler-utils zbar-tools)")
    with app.app_context():
        from app.services.settings import update_settings
        update_settings(name="幸福花园物业服务中心", name_en="Happy Garden Property Service Centre",
                        address="幸福路88号", phone=OFFICE_PHONE, timezone="Asia/Shanghai",
                        currency="CNY")
        clerk = factories.user("clerk", username="pdf-clerk")
        boss = factories.user("supervisor", username="pdf-boss")
        worker = factories.user("worker", username="pdf-worker")
        clerk.full_name, worker.full_name = "刘芳", "李师傅"
        factories.user("worker", username="pdf-other-worker")
        factories.user("cashier", username="pdf-cashier")
        factories.user("manager", username="pdf-manager")
        pl = factories.price_list(clerk)
        unit = factories.unit("7", 1, "0802")
        resident = factories.resident(unit, name="王芳", phone="13912345678")
        lines = [svc.LineRequest(pl.items[i].id, q, p) for i, q, p in LINES]
        # Tomorrow 10:00–12:00 in the property's zone: a window inside one day whatever the
        # hour the suite runs (a window crossing midnight prints its end with a date).
        tomorrow = clock.local_today() + timedelta(days=1)
        start = datetime.combine(tomorrow, clock_time(10, 0), ZoneInfo("Asia/Shanghai"))
        slip = factories.slip(clerk, unit_=unit, lines=lines, urgent=True, resident=resident,
                              window=(start, start + timedelta(hours=2)),
                              contact_name="王芳", contact_phone="13912345678",
                              request=REQUEST, notes=NOTES, pl=pl)
        svc.dispatch(slip, boss, worker.id)
        svc.nobody_home(slip, worker)
        fresh = factories.slip(clerk, pl=pl)
        _db.session.commit()
        made = World(slip.number, fresh.number, worker.full_name, clerk.full_name,
                     unit.label, {})
        _db.session.remove()
    workdir = tmp_path_factory.mktemp("slip-pdf")
    client = _signed_in(app, "pdf-clerk")
    try:
        for lang in ("zh_CN", "en"):
            _set_language(client, lang)
            for kind in ("slip", "card"):
                made.docs[(kind, lang)] = _fetch(client, f"/slips/{made.number}/{kind}.pdf",
                                                 workdir, f"{kind}-{lang}")
        yield made
    finally:
        _wipe(app)


@pytest.fixture(scope="module")
def clerk(app, world):
    return _signed_in(app, "pdf-clerk")


def flat(text: str) -> str:
    """pdftotext output with every run of white space made one space."""
    return " ".join(text.split())


# ---- the slip ----------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_slip_is_one_a4_pdf(world, lang):
    doc = world.docs[("slip", lang)]
    assert doc.status == 200
    assert doc.headers["Content-Type"] == "application/pdf"
    assert doc.headers["Content-Disposition"] == f'inline; filename="slip-{world.number}.pdf"'
    assert doc.pdf.startswith(b"%PDF-")
    assert doc.pages == 1, "a slip of eight lines must keep both copies on one sheet"


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_number_is_on_both_copies(world, lang):
    assert world.docs[("slip", lang)].text.count(world.number) == 2


def test_both_copy_labels_in_chinese(world):
    text = flat(world.docs[("slip", "zh_CN")].text)
    assert "第一联（存根）" in text and "第二联（客户联）" in text
    assert "Copy 1" not in text and "Unclog a drain" not in text


def test_both_copy_labels_in_english_keep_the_chinese(world):
    text = flat(world.docs[("slip", "en")].text)
    for label in ("第一联（存根）", "第二联（客户联）",
                  "Copy 1 (office stub)", "Copy 2 (customer)"):
        assert label in text, label
    assert text.index("Copy 1 (office stub)") < text.index("Copy 2 (customer)")


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_chinese_item_names_print_on_both_copies(world, lang):
    text = world.docs[("slip", lang)].text
    for name, times in (("疏通下水", 3), ("换管", 2), ("换水暖件(水龙头)", 2), ("公共部位报修", 1)):
        assert text.count(name) == 2 * times, name
    english = ("Unclog a drain", "Replace a pipe", "Replace a tap", "Common-area repair")
    assert all((n in text) == (lang == "en") for n in english)


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_each_copy_carries_the_slip(world, lang):
    text = world.docs[("slip", lang)].text
    for value in (world.unit, "王芳", "13912345678", REQUEST, NOTES, "紧急", world.clerk_name,
                  world.worker_name, OFFICE_PHONE, "幸福花园物业服务中心"):
        assert text.count(value) >= 2, value
    assert len(re.findall(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}–\d{2}:\d{2}", text)) == 2  # the window
    for signature in ("业户签字", "服务人员", "日期", "验收意见"):
        assert text.count(signature) >= 2, signature


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_prices_quantities_and_totals_agree_with_the_slip(app, world, lang):
    text = world.docs[("slip", lang)].text
    with app.app_context():
        slip = svc.by_number(world.number)
        from app.domain.money import format_yuan
        total = format_yuan(slip.quoted_total_fen)
        rows = [(line.name_zh, line.quantity, format_yuan(line.unit_price_fen, symbol=""),
                 format_yuan(line.amount_fen, symbol="")) for line in slip.lines]
    assert text.count(total) == 2, total
    for name, qty, price, amount in rows:
        printed = [ln for ln in text.splitlines() if name in ln and f" {price} " in f"{ln} "]
        assert any(re.search(rf"\b{qty}\s+{re.escape(price)}\s+{re.escape(amount)}\s*$", ln)
                   for ln in printed), (name, qty, price, amount, printed)
    assert text.count("待审批") == 2 * 2  # the two lines priced outside the list


def test_english_labels_sit_beside_the_chinese(world):
    text = flat(world.docs[("slip", "en")].text)
    for pair in ("房号 Unit", "业户 Resident", "电话 Phone", "服务人员 Worker", "业户签字 Resident",
                 "报价合计 Quoted total", "Paid service slip"):
        assert pair in text, pair
    zh = flat(world.docs[("slip", "zh_CN")].text)
    assert "Quoted total" not in zh and "Paid service slip" not in zh


def test_a_slip_without_a_worker_leaves_the_name_blank(clerk, world, tmp_path):
    doc = _fetch(clerk, f"/slips/{world.fresh}/slip.pdf", tmp_path, "fresh")
    assert doc.status == 200 and doc.text.count(world.fresh) == 2
    assert world.worker_name not in doc.text


def _qr_codes(pdf: bytes, workdir: Path) -> list[str]:
    path = workdir / "slip.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "200", "-png", "-singlefile", str(path),
                    str(workdir / "slip")], check=True, capture_output=True)
    found = subprocess.run(["zbarimg", "--quiet", "--raw", str(workdir / "slip.png")],
                           capture_output=True, text=True)
    return found.stdout.split()


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_qr_codes_open_the_check_in_page(app, world, lang, tmp_path):
    codes = _qr_codes(world.docs[("slip", lang)].pdf, tmp_path)
    expected = f"http://localhost/field/jobs/{world.number}/door"
    assert codes == [expected, expected]  # one on each copy
    adapter = app.url_map.bind("localhost")
    assert adapter.match(f"/field/jobs/{world.number}/door")[0] == "field.door"


def test_the_qr_code_holds_the_public_address_when_one_is_set(app, clerk, world, tmp_path,
                                                              monkeypatch):
    """Printed on the desk PC at 127.0.0.1, the QR must still open on a phone on the LAN."""
    monkeypatch.setitem(app.config, "PUBLIC_URL", "http://192.168.1.20:5000/")
    resp = clerk.get(f"/slips/{world.number}/slip.pdf")
    assert resp.status_code == 200
    expected = f"http://192.168.1.20:5000/field/jobs/{world.number}/door"
    assert _qr_codes(resp.data, tmp_path) == [expected, expected]


def test_the_html_preview_is_the_same_slip(clerk, world):
    resp = clerk.get(f"/slips/{world.number}/slip.html")
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    assert html.count(world.number) >= 3 and "<svg" in html
    assert f'href="/slips/{world.number}/slip.pdf"' in html


def test_pictures_for_a_person_to_look_at(world, artifacts, tmp_path):
    """test-artifacts/slip-zh.png, slip-en.png, card-zh.png, card-en.png."""
    for (kind, lang), doc in world.docs.items():
        short = "zh" if lang == "zh_CN" else "en"
        png = first_page_png(doc.pdf, tmp_path, artifacts / f"{kind}-{short}.png")
        assert png.stat().st_size > 10_000


def test_warm_slip_render_time(clerk, world, artifacts):
    """Target 250 ms warm (issue 3); asserted loosely (shared CI machines), written down."""
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        resp = clerk.get(f"/slips/{world.number}/slip.pdf")
        timings.append(time.perf_counter() - started)
        assert resp.status_code == 200
    median = statistics.median(timings)
    (artifacts / "slip-pdf-timing.txt").write_text(
        "warm slip PDF (8 lines, two copies), seconds: "
        + ", ".join(f"{t:.3f}" for t in timings) + f"; median {median:.3f}\n")
    assert median < 5, f"a slip took {median:.2f} s to render (fontTools fallback?)"


# ---- the nobody-home card ----------------------------------------------------------------

@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_card_has_the_number_the_office_phone_and_the_visit(world, lang):
    doc = world.docs[("card", lang)]
    assert doc.status == 200 and doc.pages == 1
    assert doc.headers["Content-Disposition"] == f'inline; filename="card-{world.number}.pdf"'
    text = flat(doc.text)
    zh = "".join(text.split())  # Chinese wraps anywhere: read it without the line breaks
    assert world.number in text and OFFICE_PHONE in text and world.worker_name in text
    assert "有偿服务温馨提示卡" in zh and "家中无人" in zh and "另约服务时间" in zh
    assert re.search(r"服务人员于\d{4}-\d{2}-\d{2}\d{2}:\d{2}上门", zh), zh
    assert "疏通下水、换管、换水暖件(水龙头)等8项" in zh
    assert ("nobody was home" in text) == (lang == "en")
    if lang == "en":
        assert f"Please call {OFFICE_PHONE}" in text


def test_a_card_before_any_visit_leaves_the_time_to_write_in(clerk, world, tmp_path):
    doc = _fetch(clerk, f"/slips/{world.fresh}/card.pdf", tmp_path, "fresh-card")
    assert doc.status == 200
    zh = "".join(doc.text.split())
    assert world.fresh in zh and "服务人员于月日时分上门" in zh  # blanks to fill in by hand


# ---- who may print -----------------------------------------------------------------------

@pytest.mark.parametrize("user, slip_status, card_status", [
    ("pdf-clerk", 200, 200),
    ("pdf-boss", 200, 200),
    ("pdf-manager", 200, 403),
    ("pdf-cashier", 403, 403),
    ("pdf-worker", 403, 200),          # the assigned worker prints the card for the door
    ("pdf-other-worker", 403, 404),    # another worker's slip: nothing there
])
def test_who_may_print(app, world, user, slip_status, card_status):
    client = _signed_in(app, user)
    assert client.get(f"/slips/{world.number}/slip.pdf").status_code == slip_status
    assert client.get(f"/slips/{world.number}/slip.html").status_code == slip_status
    card = client.get(f"/slips/{world.number}/card.pdf")
    assert card.status_code == card_status
    if card_status == 200:
        assert card.data.startswith(b"%PDF-")


def test_unknown_numbers_and_strangers(app, clerk, world):
    for url in ("/slips/YC209901-0001/slip.pdf", "/slips/YC209901-0001/card.pdf",
                "/slips/YC209901-0001/slip.html"):
        assert clerk.get(url).status_code == 404
    anonymous = app.test_client()
    resp = anonymous.get(f"/slips/{world.number}/slip.pdf")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_a_long_slip_loses_nothing(app, clerk, world, tmp_path):
    """Thirty lines and long notes do not fit half a sheet: each copy then takes its own
    sheet(s), whole, instead of being cut off."""
    with app.app_context():
        from sqlalchemy import select

        from app.models import PriceList, User
        clerk_user = _db.session.scalar(select(User).where(User.username == "pdf-clerk"))
        pl = _db.session.scalar(select(PriceList))
        lines = [svc.LineRequest(pl.items[i % 3].id, 1, None) for i in range(30)]
        notes = "老人独居，听力不好，请多按几次门铃。" * 12
        slip = factories.slip(clerk_user, pl=pl, lines=lines, notes=notes)
        _db.session.commit()
        number = slip.number
        _db.session.remove()
    doc = _fetch(clerk, f"/slips/{number}/slip.pdf", tmp_path, "long")
    assert doc.status == 200 and doc.pages >= 2
    assert doc.text.count(number) == 2
    text = "".join(doc.text.split())
    assert text.count("门铃") == 2 * 12  # every word of the notes, on both copies
    assert text.count("第一联（存根）") == 1 and text.count("第二联（客户联）") == 1
    first_sheet = doc.text.split("\f")[0]
    assert "第一联" in first_sheet and "第二联" not in first_sheet  # copy 2 starts a new sheet
    for seq in range(1, 31):
        assert len(re.findall(rf"^\s*{seq}\s+\S", doc.text, re.M)) == 2, seq


# A 1×1 PNG: the signature file the reprint embeds.
SIGNATURE_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000" "1f15c489"
    "0000000d49444154789c63f8ffff3f0005fe02fea73581840000000049454e44ae426082")


def test_a_reprint_after_payment_tells_the_whole_story(app, clerk, world, tmp_path, artifacts):
    """Signed, satisfied, paid at the till: the reprint carries the acceptance with the
    signature image, and the receipt, on both copies of one sheet; before completion the
    boxes stay blank."""
    from sqlalchemy import select

    from app.models import User
    from app.services import billing
    with app.app_context():
        people = {u.username: u for u in _db.session.scalars(select(User))}
        slip = factories.slip(people["pdf-clerk"])
        svc.dispatch(slip, people["pdf-boss"], people["pdf-worker"].id)
        svc.check_in(slip, people["pdf-worker"])
        svc.confirm_fee(slip, people["pdf-worker"], {})
        path = f"signatures/{slip.number}-pdf.png"
        signed = Path(app.instance_path) / path
        signed.parent.mkdir(parents=True, exist_ok=True)
        signed.write_bytes(SIGNATURE_PNG)
        svc.complete(slip, people["pdf-worker"], svc.Acceptance(
            "王芳", path, True, "师傅很细心", "阀芯1个"))
        receipt = billing.take_payment(slip, people["pdf-cashier"], "wechat",
                                       billing.owed_fen(slip))
        _db.session.commit()
        number, receipt_no = slip.number, receipt.number
        _db.session.remove()
    doc = _fetch(clerk, f"/slips/{number}/slip.pdf", tmp_path, "paid")
    assert doc.status == 200 and doc.pages == 1
    text = "".join(doc.text.split())
    assert text.count(f"收据{receipt_no}·微信支付") == 2
    assert text.count("☑满意") == 2 and text.count("师傅很细心") == 2
    assert text.count("阀芯1个") == 2  # the materials the worker wrote
    assert text.count("王芳") >= 2
    preview = clerk.get(f"/slips/{number}/slip.html").get_data(as_text=True)
    assert preview.count('<img class="signature" src="data:image/png;base64,') == 2
    first_page_png(doc.pdf, tmp_path, artifacts / "slip-paid-zh.png")
    blank = "".join(world.docs[("slip", "zh_CN")].text.split())
    assert "☑" not in blank and "收费情况" not in blank
