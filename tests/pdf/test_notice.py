"""The lobby notice (公告) of the price list: its text in both languages, every demo row, page
numbers, speed (libharfbuzz-subset), and page-1 pictures for a person to look at."""
from __future__ import annotations

import re
import subprocess
import time

import pytest

from app.demo import data as demo_data
from app.services.pdf import harfbuzz_subset_available
from tests.pdf.conftest import first_page_png

pytestmark = pytest.mark.pdf

PROPERTY_NAME = demo_data.PROPERTY["name"]
# demo_data: "Seed 002's table breaks off before this row's price"
LAST_ROW_OF_SEED_002 = "窗户(推拉门)换锁"
SEED_002 = demo_data.ITEMS[:[r[1] for r in demo_data.ITEMS].index(LAST_ROW_OF_SEED_002) + 1]


def _yuan(amount: int) -> str:
    return rf"{amount // 1000},?{amount % 1000:03d}" if amount >= 1000 else str(amount)


def price_pattern(lo, hi, by_workload: bool, free: bool) -> str:
    """What the price column must show for a row of demo_data.ITEMS."""
    if free:
        return "免费"
    if lo is None:
        return "视工程量定价" if by_workload else ""
    text = _yuan(lo) if lo == hi else rf"{_yuan(lo)}\s*[–~-]\s*{_yuan(hi)}"
    return rf"(?<![\d,.]){text}(?![\d,])"


def rows_with(notice, text: str) -> list[str]:
    """The printed table rows holding `text`. pdftotext -layout separates rows by a blank line
    and puts a vertically centred cell (seq, price) on its own line of a multi-line row."""
    blocks = re.split(r"\n\s*\n", notice.text.replace("\f", "\n\n"))
    return [b for b in blocks if text in b]


def test_notice_is_a_pdf(notices):
    for notice in notices.values():
        assert notice.content_type == "application/pdf"
        assert notice.pdf.startswith(b"%PDF-")
        assert notice.disposition.startswith("inline")


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_notice_shows_chinese_names_prices_and_the_property(notices, lang):
    notice = notices[lang]
    text = notice.text
    assert PROPERTY_NAME in text
    assert "公" in text and "告" in text
    for name in ("疏通下水", "换管", "安装水晶灯"):
        assert name in text, f"{name} missing from the {lang} notice"
    for name, lo, hi in (("疏通下水", 30, 30), ("换管", 10, 1000), ("安装水晶灯", 30, 200)):
        rows = rows_with(notice, name)
        assert any(re.search(price_pattern(lo, hi, False, False), r) for r in rows), (
            f"{name}: no {lo}–{hi} in {rows}")


def test_notice_in_english_adds_english_names(notices):
    en, zh = notices["en"].text, notices["zh_CN"].text
    for name in ("Unclog a drain", "Replace a pipe", "Install a crystal chandelier",
                 demo_data.PROPERTY["name_en"]):
        assert name in en
        assert name not in zh  # the Chinese notice is Chinese only
    assert "Price (CNY)" in en


def test_the_english_notice_keeps_the_chinese_page_footer_and_adds_the_english(notices):
    en, zh = notices["en"].text, notices["zh_CN"].text
    pages = en.rstrip("\f").count("\f") + 1
    footers = re.findall(r"第\s*(\d+)\s*页\s*/\s*共\s*(\d+)\s*页\s*·\s*Page (\d+) of (\d+)", en)
    assert footers == [(str(n), str(pages)) * 2 for n in range(1, pages + 1)], footers
    assert re.search(r"Printed \d{4}-\d{2}-\d{2} \d{2}:\d{2}", en)
    assert "服务电话 Service phone" in en
    assert "Page 1" not in zh and "Printed" not in zh and "Service phone" not in zh


def test_notice_has_page_numbers(notices):
    for notice in notices.values():
        numbers = re.findall(r"第\s*(\d+)\s*页\s*/\s*共\s*(\d+)\s*页", notice.text)
        pages = notice.text.rstrip("\f").count("\f") + 1
        assert numbers == [(str(n), str(pages)) for n in range(1, pages + 1)], numbers


@pytest.mark.parametrize("row", SEED_002,
                         ids=[f"{i + 1:02d}-{r[1]}" for i, r in enumerate(SEED_002)])
def test_every_row_of_the_seed_002_table_is_on_the_notice(notices, row):
    """Name, unit and price in one printed row, in Chinese; the English names too in English."""
    _cat, zh, en, unit, lo, hi, workload, free, _dept, note = row
    pattern = price_pattern(lo, hi, workload, free)
    for lang, notice in notices.items():
        found = rows_with(notice, zh)
        assert found, f"{zh} is not on the {lang} notice"
        rows = [b for b in found if re.search(pattern, b) and unit in b and note in b
                and (lang != "en" or en in b)]
        assert rows, f"{lang}: no row with {zh}, unit {unit}, price /{pattern}/, {note}: {found}"
        if workload and lo is not None:
            assert any("视工程量定价" in b for b in rows)


def test_every_demo_item_is_on_both_notices(notices):
    for lang, notice in notices.items():
        for _cat, zh, en, *_ in demo_data.ITEMS:
            expected = sum(1 for r in demo_data.ITEMS if r[1] == zh)
            assert notice.text.count(zh) >= expected, f"{zh} missing from the {lang} notice"
            if lang == "en":
                assert en in notice.text, f"{en} missing from the English notice"
        for _code, zh, en in demo_data.CATEGORIES:
            assert zh in notice.text
            if lang == "en":
                assert en in notice.text


def test_libharfbuzz_subset_is_installed():
    """Not a skip: without it WeasyPrint subsets fonts with fontTools, 11-14 s per Chinese PDF."""
    assert harfbuzz_subset_available(), (
        "libharfbuzz-subset is missing (apt-get install libharfbuzz-subset0): WeasyPrint falls "
        "back to fontTools and every Chinese PDF takes 11-14 s")


def test_a_notice_renders_in_well_under_ten_seconds(notices, demo_client):
    """A guard against the fontTools fallback, not a benchmark (warm render here: ~0.5 s)."""
    started = time.perf_counter()
    resp = demo_client.get("/catalogue/notice.pdf")
    seconds = time.perf_counter() - started
    assert resp.status_code == 200
    assert seconds < 5, f"a notice took {seconds:.1f} s to render (fontTools fallback?)"
    assert notices["zh_CN"].seconds < 5  # the first render of the process, fonts loaded cold


def test_pictures_of_page_one(notices, artifacts, tmp_path):
    """For a person to look at: test-artifacts/notice-zh-p1.png and notice-en-p1.png."""
    for lang, name in (("zh_CN", "notice-zh-p1.png"), ("en", "notice-en-p1.png")):
        png = first_page_png(notices[lang].pdf, tmp_path, artifacts / name)
        assert png.stat().st_size > 10_000


def test_notice_embeds_only_noto_sans_cjk(notices, tmp_path):
    """The font sits on html: page numbers must not pull in a serif CJK face (STACK.md)."""
    for lang, notice in notices.items():
        path = tmp_path / f"{lang}.pdf"
        path.write_bytes(notice.pdf)
        out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True,
                             text=True).stdout
        fonts = {line.split()[0].split("+", 1)[-1] for line in out.splitlines()[2:] if line.strip()}
        assert fonts and all(f.startswith("Noto-Sans-CJK-SC") for f in fonts), (lang, fonts)


def test_notice_shows_when_it_was_printed(notices):
    """templates/pdf/notice.html prints "打印时间 <printed_at>" so an outdated copy on the board
    can be told apart."""
    for lang, notice in notices.items():
        assert re.search(r"打印时间\s*\d{4}-\d{2}-\d{2}\s+\d{2}:\d{2}", notice.text), (
            f"the print time is not on the {lang} notice")


def test_english_units_of_charge_fit_their_column(notices, app):
    """Each English unit of charge ("leaf (door/window)", "socket/switch") on one line of its
    cell."""
    units = _english_units(app)
    assert units
    broken = [u for u in sorted(units) if u not in notices["en"].text]
    assert not broken, f"wrapped in the 单位/Unit column of the English notice: {broken}"


def _english_units(app) -> set[str]:
    from app.domain.pricing import UNITS_OF_CHARGE
    used = {row[3] for row in demo_data.ITEMS}
    with app.test_request_context(headers={"Accept-Language": "en"}):
        return {str(UNITS_OF_CHARGE[u]) for u in used if u in UNITS_OF_CHARGE}
