"""Every role lands on its own home in Chinese and in English, the language chosen either by
the browser (Accept-Language) or with the header button on the login page; every page of the
role's menu then loads without console errors (CSP violations, script errors)."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import HOMES, home_heading, sign_in, url_path

pytestmark = pytest.mark.e2e

ROLES = list(HOMES)
LANGS = ["zh_CN", "en"]
BROWSER_LOCALE = {"en": "en-US", "zh_CN": "zh-CN"}
OTHER = {"en": "zh_CN", "zh_CN": "en"}
HTML_LANG = {"en": "en", "zh_CN": "zh-CN"}


def _layout(username: str) -> str:
    return "phone" if username == "worker" else "desktop"


def _assert_home(page: Page, username: str, lang: str) -> None:
    expect(page).to_have_url(url_path(HOMES[username][0]))
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[lang])
    expect(page.locator("main h1")).to_have_text(home_heading(username, lang))


@pytest.mark.parametrize("username", ROLES)
@pytest.mark.parametrize("lang", LANGS)
def test_home_in_the_language_the_browser_asks_for(new_context, console_errors, username, lang):
    page = new_context(_layout(username), locale=BROWSER_LOCALE[lang]).new_page()

    sign_in(page, username)

    _assert_home(page, username, lang)
    # Then every page of the role's menu: no error page, no console error, same language.
    links = page.locator("header nav a, nav.tabbar a, main a.bigbutton")
    hrefs = sorted(set(links.evaluate_all("els => els.map(a => a.getAttribute('href'))")))
    assert len(hrefs) >= 2, hrefs
    for href in hrefs:
        response = page.goto(href)
        assert response is not None and response.status == 200, f"GET {href}: {response.status}"
        expect(page.locator("main h1").first).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[lang])
    assert not console_errors.unexpected, (
        f"console errors on {hrefs}:\n" + "\n".join(console_errors.unexpected))


@pytest.mark.parametrize("username", ROLES)
@pytest.mark.parametrize("lang", LANGS)
def test_home_in_the_language_chosen_on_the_login_page(new_context, username, lang):
    """The browser asks for the other language; the header button on the login page wins,
    and signing in keeps it."""
    page = new_context(_layout(username), locale=BROWSER_LOCALE[OTHER[lang]]).new_page()

    sign_in(page, username, switch_to=lang)

    _assert_home(page, username, lang)
