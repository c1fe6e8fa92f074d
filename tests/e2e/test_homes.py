"""Every role lands on its own home, in Chinese and in English, chosen either way."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import HOMES, home_heading, sign_in, url_path

pytestmark = pytest.mark.e2e

BROWSER_LOCALE = {"en": "en-US", "zh_CN": "zh-CN"}
OTHER = {"en": "zh_CN", "zh_CN": "en"}
HTML_LANG = {"en": "en", "zh_CN": "zh-CN"}


@pytest.mark.parametrize("username", list(HOMES))
@pytest.mark.parametrize("lang", ["zh_CN", "en"])
@pytest.mark.parametrize("how", ["accept-language", "header-button"])
def test_role_lands_on_its_home_in_the_chosen_language(new_context, username, lang, how):
    """accept-language: the browser asks for the language; header-button: the browser asks
    for the other one and the person clicks the language button on the login page."""
    browser_lang = lang if how == "accept-language" else OTHER[lang]
    context = new_context("phone" if username == "worker" else "desktop",
                          locale=BROWSER_LOCALE[browser_lang])
    page = context.new_page()

    sign_in(page, username, switch_to=lang if how == "header-button" else None)

    expect(page).to_have_url(url_path(HOMES[username][0]))
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[lang])
    expect(page.locator("main h1")).to_have_text(home_heading(username, lang))
