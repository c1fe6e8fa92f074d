"""A person with two roles switches between them with the select in the header."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import home_heading, ready, sign_in, text_in, url_path

pytestmark = pytest.mark.e2e


def test_two_role_person_switches_role_in_the_header(desktop):
    page = desktop.new_page()
    sign_in(page, "cleaning_lead")  # supervisor + worker: lands as supervisor
    expect(page).to_have_url(url_path("/supervise/"))
    expect(page.locator("main h1")).to_have_text(home_heading("supervisor", "zh_CN"))
    switcher = page.locator("header select[name=role]")
    expect(switcher).to_have_value("supervisor")

    switcher.select_option("worker")

    expect(page).to_have_url(url_path("/field/"))
    expect(page.locator("main h1")).to_have_text(
        text_in("Hello, %(name)s", "zh_CN") % {"name": "周玉兰"})
    switcher = page.locator("header select[name=role]")
    expect(switcher).to_have_value("worker")
    ready(page)  # the auto-submit on change comes with app.js (deferred)

    switcher.select_option("supervisor")  # and back, from the phone layout

    expect(page).to_have_url(url_path("/supervise/"))
    expect(page.locator("header select[name=role]")).to_have_value("supervisor")
