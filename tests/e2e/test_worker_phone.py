"""The worker's phone screens at 390×844: the home (screenshot) and the live price search."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import home_heading, ready, sign_in, url_path

pytestmark = pytest.mark.e2e


def test_worker_home_on_a_phone(phone, artifacts):
    page = phone.new_page()
    sign_in(page, "worker")
    expect(page).to_have_url(url_path("/field/"))
    expect(page.locator("main h1")).to_have_text(home_heading("worker", "zh_CN"))
    # The tab bar and the big price button are reachable with one thumb.
    expect(page.locator("nav.tabbar a")).to_have_count(3)  # jobs, prices, the person
    expect(page.locator("a.bigbutton")).to_be_visible()
    page.screenshot(path=str(artifacts / "worker-home-phone.png"))
    # Nothing is wider than the phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_worker_finds_a_price_by_typing(phone):
    page = phone.new_page()
    sign_in(page, "worker")
    page.locator("nav.tabbar a[href$='/field/prices']").click()
    expect(page).to_have_url(url_path("/field/prices"))
    ready(page)
    rows = page.locator("#price-rows li")
    expect(rows.filter(has_text="疏通下水")).to_have_count(1)  # the whole list to start with

    page.locator("input.phone-search").fill("水龙头")

    expect(rows.filter(has_text="换水暖件(水龙头)")).to_have_count(1)
    expect(rows.filter(has_text="疏通下水")).to_have_count(0)  # swapped by htmx, not filtered away
    expect(page).to_have_url(url_path("/field/prices"))     # a live search, not a page load
    expect(page.locator("main h1")).to_have_count(1)        # the rows, not a whole page, swapped in
