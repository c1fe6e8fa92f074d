"""The clerk's finder (htmx live search) and what an expired session does to an htmx request."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db as _db
from tests.e2e.helpers import home_heading, sign_in, url_path

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def a_resident(live_app) -> tuple[str, str, str]:
    """(name, phone, unit label) of a demo resident whose phone is their own."""
    from app.models import Resident, Unit
    with live_app.app_context():
        rows = _db.session.execute(
            select(Resident.name, Resident.phone, Unit.label)
            .join(Unit, Resident.unit_id == Unit.id)
            .where(Resident.active.is_(True)).order_by(Resident.id)).all()
        _db.session.remove()
    counts: dict[str, int] = {}
    for _name, phone, _label in rows:
        counts[phone] = counts.get(phone, 0) + 1
    return next(tuple(r) for r in rows[40:] if counts[r.phone] == 1)


def test_finder_lists_units_as_the_clerk_types(desktop):
    page = desktop.new_page()
    sign_in(page, "clerk")
    expect(page.locator("main h1")).to_have_text(home_heading("clerk", "zh_CN"))
    finder = page.locator("#find-q")
    expect(finder).to_be_focused()  # autofocus: the clerk types as the phone rings

    finder.press_sequentially("3-2-15")

    labels = page.locator("#matches .match .unit-label")
    expect(labels).to_have_text(["3栋2单元1501", "3栋2单元1502"])
    expect(page).to_have_url(url_path("/desk/"))


def test_finder_finds_a_resident_by_phone(desktop, a_resident):
    name, phone, label = a_resident
    page = desktop.new_page()
    sign_in(page, "clerk")

    page.locator("#find-q").press_sequentially(phone)

    match = page.locator("#matches .match")
    expect(match).to_have_count(1)
    expect(match.locator(".unit-label")).to_have_text(label)
    expect(match.locator(".resident").first).to_contain_text(name)
    expect(match.locator(".resident .phone").first).to_have_text(phone)


def test_expired_session_on_htmx_request_goes_to_the_login_page(desktop, console_errors):
    # The 401 that carries HX-Redirect is logged by Chromium as a failed resource load.
    console_errors.allow(r"Failed to load resource: the server responded with a status of 401")
    page = desktop.new_page()
    sign_in(page, "clerk")
    expect(page).to_have_url(url_path("/desk/"))
    # Every response, static files included, refreshes the permanent session cookie: let the
    # page finish loading so no late response sets it again after it is cleared. (The live
    # screen keeps one wait open, so the network is never idle: wait for the load instead.)
    page.wait_for_load_state("load")
    page.wait_for_timeout(500)

    desktop.clear_cookies()
    assert desktop.cookies() == []
    page.locator("#find-q").fill("3-2-15")

    expect(page).to_have_url(re.compile(r"/login\?next=(/|%2F)desk(/|%2F)$"))
    expect(page.locator("#matches")).to_have_count(0)           # not a swapped fragment
    expect(page.locator("input[name=password]")).to_have_count(1)  # one login form, whole page
    # Signing in again returns to the desk.
    page.locator("input[name=username]").fill("clerk")
    page.locator("input[name=password]").fill("demo")
    page.locator("form:has(input[name=password]) [type=submit]").click()
    expect(page).to_have_url(url_path("/desk/"))


def test_desk_quotes_a_price_as_the_clerk_types(desktop):
    page = desktop.new_page()
    sign_in(page, "clerk")
    search = page.locator("main input[type=search][name=q]:not(#find-q)")

    search.fill("水龙头")

    rows = page.locator("#quick-prices tr")
    expect(rows.filter(has_text="换水暖件(水龙头)")).to_have_count(1)
    expect(rows.filter(has_text="换水暖件(水龙头)")).to_contain_text("10")
    expect(rows.filter(has_text="疏通下水")).to_have_count(0)
    expect(page.locator("main h1")).to_have_count(1)  # only the box's results swapped in
    expect(page).to_have_url(url_path("/desk/"))

    search.fill("")  # cleared: the version line again, never the whole list in the narrow card

    expect(page.locator("#quick-prices a[href$='/catalogue/']")).to_have_count(1)
    expect(rows).to_have_count(0)
    expect(page.locator("#price-list")).to_have_count(0)
