"""What the browser tests share: expected headings in both languages, signing in."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from playwright.sync_api import Page, expect

TRANSLATIONS = Path(__file__).resolve().parents[2] / "app" / "translations"
DEMO_PASSWORD = "demo"

# username -> (home path, msgid of its h1, the name the h1 is formatted with)
HOMES = {
    "clerk": ("/desk/", "Front desk", None),
    "supervisor": ("/supervise/", "Dispatch board", None),
    "worker": ("/field/", "Hello, %(name)s", "陈师傅"),
    "cashier": ("/cashier/", "Cashier", None),
    "manager": ("/manage/", "Manager", None),
}


def chinese_po() -> Path:
    """The Chinese catalogue (app/translations/zh*/LC_MESSAGES/messages.po)."""
    found = sorted(TRANSLATIONS.glob("zh*/LC_MESSAGES/messages.po"))
    assert len(found) == 1, f"expected one Chinese messages.po under {TRANSLATIONS}, found {found}"
    return found[0]


@lru_cache(maxsize=1)
def _catalog():
    with chinese_po().open("rb") as f:
        return read_po(f)


def zh(msgid: str) -> str:
    """The Chinese of a message as messages.po has it now; fails when it is not translated."""
    message = _catalog().get(msgid)
    if message is None or not message.string or message.fuzzy:
        pytest.fail(f"messages.po has no Chinese translation for {msgid!r}: the Chinese screen "
                    f"shows the English text")
    return message.string


def text_in(msgid: str, lang: str) -> str:
    return msgid if lang == "en" else zh(msgid)


def home_heading(username: str, lang: str) -> str:
    _path, msgid, name = HOMES[username]
    text = text_in(msgid, lang)
    return text % {"name": name} if name else text


def url_path(path: str) -> re.Pattern:
    """A URL whose path is exactly `path` (any host, any query)."""
    return re.compile(r"^https?://[^/]+" + re.escape(path) + r"(\?.*)?$")


def sign_in(page: Page, username: str, *, switch_to: str | None = None) -> None:
    """Open the login page, optionally click the header language button, sign in with "demo".

    Returns once the browser has left the login page.
    """
    page.goto("/login")
    if switch_to == "en":
        page.get_by_role("button", name="English", exact=True).click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
    elif switch_to == "zh_CN":
        page.get_by_role("button", name="中文", exact=True).click()
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("form:has(input[name=password]) [type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/login"))
    ready(page)


def ready(page: Page) -> None:
    """Wait until the page's deferred scripts have run and htmx has wired up its elements.

    Until then a typed character fires no htmx request (an autofocused finder takes keys as
    soon as it is painted), so type only after this.
    """
    page.wait_for_load_state("load")


# ---- shared by the multi-screen flows (tests/e2e/test_money_flow.py) -------------------------

def mark_document(page: Page) -> None:
    """Mark the loaded document: the mark survives htmx swaps, not a page load."""
    page.evaluate("window.__sameDocument = true")


def same_document(page: Page) -> bool:
    """True while the page marked by `mark_document` has not been reloaded."""
    return page.evaluate("window.__sameDocument === true")


def sign_canvas(page: Page, scope: str = "#job") -> None:
    """The resident signs on the glass: a wavy stroke of pointer moves across the canvas in
    `scope`; returns once the pad holds the signature as a PNG data URL."""
    canvas = page.locator(f"{scope} canvas.signature-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + w * 0.15, y + h * 0.6)
    page.mouse.down()
    for i in range(1, 13):
        page.mouse.move(x + w * (0.15 + 0.055 * i), y + h * (0.6 - 0.25 * (i % 2)), steps=3)
    page.mouse.up()
    expect(page.locator(f"{scope} .signature-pad.signed")).to_be_visible()
    expect(page.locator(f"{scope} input.signature-data")).to_have_value(
        re.compile(r"^data:image/png;base64,.{200,}"))
