"""The price list on screen: reading it, the supervisor's draft, the manager's approval."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.models import AuditEvent, ListStatus, PriceItem, PriceList
from app.services import catalogue as cat
from app.services import clock
from tests import factories
from tests.moments import past_list_date
from tests.web.pages import (
    chinese,
    field_errors,
    flashes,
    form_alerts,
    grab,
    in_chinese,
    in_english,
    text,
)


def today() -> date:
    return clock.local_today()


@pytest.fixture
def v1(db):
    author = factories.user("manager", username="wang")
    pl = factories.price_list(author, number=1, effective=past_list_date())
    db.session.commit()
    return pl


@pytest.fixture
def supervisor(login_as):
    return login_as("supervisor")


@pytest.fixture
def manager(login_as):
    return login_as("manager")


def open_draft(client) -> PriceList:
    resp = client.post("/catalogue/draft")
    assert resp.status_code == 302
    from app.extensions import db
    db.session.expire_all()
    return cat.current_draft()


def draft_items(db) -> list[tuple]:
    db.session.expire_all()
    draft = cat.current_draft()
    return sorted((i.code, i.name_zh, i.price_min_fen, i.price_max_fen, i.free, i.by_workload)
                  for i in draft.items) if draft else []


def item_form(category_id, **changes) -> dict:
    data = {"category_id": str(category_id), "name_zh": "疏通马桶", "name_en": "Unblock a toilet",
            "unit": "次", "price_min": "50", "price_max": "", "department": "repair", "note": ""}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def rows(resp) -> list[str]:
    return grab(resp, lambda tag, a: tag == "tr")


# ---- reading ------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["clerk", "supervisor", "worker", "cashier", "manager"])
def test_everyone_reads_the_price_list_in_force(login_as, v1, role):
    resp = login_as(role).get("/catalogue/")
    assert resp.status_code == 200
    assert row_with(resp, "疏通下水", "Unclog a drain", "(次)", "¥30")
    assert row_with(resp, "换管", "¥10–1,000", "by workload")
    assert row_with(resp, "公共部位报修", "Free")


def row_with(resp, *parts) -> str | None:
    """The table row that shows every one of `parts`."""
    return next((r for r in rows(resp) if all(p in r for p in parts)), None)


def test_the_price_list_search_answers_htmx_with_the_matching_items(login_as, v1):
    resp = login_as("clerk").get("/catalogue/?q=水龙头", headers={"HX-Request": "true"})
    assert resp.status_code == 200 and "<html" not in resp.get_data(as_text=True)
    assert [r.split(" ")[0] for r in rows(resp)] == ["换水暖件(水龙头)"]
    resp = login_as("clerk").get("/catalogue/?q=zzz", headers={"HX-Request": "true"})
    assert "Nothing found for “zzz”." in text(resp)


def test_no_price_list_yet(login_as, db):
    resp = login_as("clerk").get("/catalogue/")
    assert resp.status_code == 200 and "No approved price list yet." in text(resp)


# ---- the supervisor drafts -----------------------------------------------------------------------

def test_the_supervisor_drafts_changes(db, supervisor, v1):
    draft = open_draft(supervisor)
    assert len(draft.items) == 4 and draft.based_on_id == v1.id
    category = draft.items[0].category_id

    resp = supervisor.post("/catalogue/draft/items/new", data=item_form(category))
    assert resp.status_code == 302
    drain = next(i for i in draft.items if i.name_zh == "疏通下水")
    resp = supervisor.post(f"/catalogue/draft/items/{drain.id}", data=item_form(
        category, name_zh="疏通下水", name_en="Unclog a drain", price_min="35"))
    assert resp.status_code == 302
    pipe = next(i for i in draft.items if i.name_zh == "换管")
    assert supervisor.post(f"/catalogue/draft/items/{pipe.id}/remove").status_code == 302

    page = supervisor.get("/catalogue/draft")
    changes = grab(page, lambda tag, a: tag == "tr" and a.get("class", "").startswith("change-"))
    assert len(changes) == 3
    assert any(c.startswith("added 疏通马桶 ¥50 /") for c in changes), changes
    assert any(c.startswith("changed 疏通下水 ¥30 → ¥35 /") for c in changes), changes
    assert any(c.startswith("removed 换管 ¥10–1,000 by workload /") for c in changes), changes
    # the desk still quotes the approved prices
    assert row_with(supervisor.get("/catalogue/"), "疏通下水", "¥30")
    actions = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.actor_id == supervisor.user.id).order_by(AuditEvent.id)).all()
    assert actions[-4:] == ["pricelist.draft", "pricelist.item_add", "pricelist.item_update",
                            "pricelist.item_remove"]


def test_the_edit_form_shows_the_items_current_values(supervisor, v1):
    draft = open_draft(supervisor)
    pipe = next(i for i in draft.items if i.name_zh == "换管")
    resp = supervisor.get(f"/catalogue/draft/items/{pipe.id}")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert 'value="换管"' in body and 'value="10"' in body and 'value="1000"' in body


def test_a_free_item_is_added_without_a_price(db, supervisor, v1):
    draft = open_draft(supervisor)
    resp = supervisor.post("/catalogue/draft/items/new", data=item_form(
        draft.items[0].category_id, name_zh="检查电表", price_min="", free="y"))
    assert resp.status_code == 302
    assert ("检查电表", 0, 0, True) in [(n, lo, hi, free) for _, n, lo, hi, free, _ in
                                      draft_items(db)]


BAD_ITEMS = [
    ({"price_min": "100", "price_max": "50"}, "price_max",
     "The highest price must not be below the lowest."),
    ({"price_min": "0"}, "price_min", "A price of zero: mark the item as free instead."),
    ({"price_min": "0", "price_max": "0"}, "price_min",
     "A price of zero: mark the item as free instead."),
    ({"name_zh": ""}, "name_zh", "Enter the item's Chinese name."),
    ({"name_zh": "疏通下水"}, "name_zh", "This category already has an item with this name."),
    ({"price_min": "abc"}, "price_min", "Enter an amount in yuan, e.g. 30 or 12.50."),
    ({"price_min": "-5"}, "price_min", "Enter an amount in yuan, e.g. 30 or 12.50."),
    ({"price_min": "12.345"}, "price_min", "Enter an amount in yuan, e.g. 30 or 12.50."),
    ({"price_min": "", "price_max": ""}, "price_min",
     "Give a price, or mark the item as priced by workload."),
    ({"price_min": "30", "free": "y"}, "price_min", "A free item has no price."),
    ({"unit": "吨"}, "unit", "Not a valid choice."),
]


@pytest.mark.parametrize("changes, field, message", BAD_ITEMS)
def test_a_bad_new_item_is_refused_next_to_the_field(db, supervisor, v1, changes, field, message):
    draft = open_draft(supervisor)
    before = draft_items(db)
    resp = supervisor.post("/catalogue/draft/items/new",
                           data=item_form(draft.items[0].category_id, **changes))
    assert resp.status_code == 422
    assert message in field_errors(resp, field), (field_errors(resp, field), form_alerts(resp))
    assert draft_items(db) == before


@pytest.mark.parametrize("changes, field, message", BAD_ITEMS[:5])
def test_a_bad_edit_is_refused_and_the_item_stays(db, supervisor, v1, changes, field, message):
    draft = open_draft(supervisor)
    pipe = next(i for i in draft.items if i.name_zh == "换管")
    before = draft_items(db)
    resp = supervisor.post(f"/catalogue/draft/items/{pipe.id}", data=item_form(
        pipe.category_id, **dict({"name_zh": "换管"}, **changes)))
    assert resp.status_code == 422
    assert message in field_errors(resp, field)
    assert draft_items(db) == before


def test_a_bad_item_in_chinese(app, db, login_as, v1):
    supervisor = in_chinese(login_as("supervisor"))
    draft = open_draft(supervisor)
    before = draft_items(db)
    resp = supervisor.post("/catalogue/draft/items/new", data=item_form(
        draft.items[0].category_id, price_min="100", price_max="50"))
    assert resp.status_code == 422
    assert field_errors(resp, "price_max") == [
        chinese(app, "The highest price must not be below the lowest.")]
    assert draft_items(db) == before


def test_with_no_draft_open_the_item_form_sends_you_to_open_one(supervisor, v1):
    resp = supervisor.get("/catalogue/draft/items/new")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/catalogue/draft")
    assert "There is no open draft. Start one first." in flashes(supervisor.get("/catalogue/draft"))


def test_opening_a_second_draft_says_one_is_open(db, supervisor, v1):
    open_draft(supervisor)
    resp = supervisor.post("/catalogue/draft")
    assert resp.status_code == 302
    assert "A draft is already open; continue that one." in flashes(
        supervisor.get(resp.headers["Location"]))
    assert db.session.scalar(select(func.count(PriceList.id)).where(
        PriceList.status == ListStatus.DRAFT)) == 1


def test_discarding_the_draft(db, supervisor, v1):
    open_draft(supervisor)
    resp = supervisor.post("/catalogue/draft/discard")
    assert resp.status_code == 302
    db.session.expire_all()
    assert cat.current_draft() is None
    assert "Open a draft" in text(supervisor.get("/catalogue/draft"))


# ---- the manager approves ------------------------------------------------------------------------

def test_the_supervisor_cannot_approve(db, supervisor, v1):
    open_draft(supervisor)
    page = supervisor.get("/catalogue/draft")
    assert "Only the manager approves the price list." in text(page)
    assert 'action="/catalogue/draft/approve"' not in page.get_data(as_text=True)
    resp = supervisor.post("/catalogue/draft/approve",
                           data={"effective_date": today().isoformat()})
    assert resp.status_code == 403
    db.session.expire_all()
    assert cat.current_draft() is not None
    assert [v.number for v in cat.versions()] == [1]


def test_the_manager_approves_the_draft(db, supervisor, manager, v1):
    draft = open_draft(supervisor)
    drain = next(i for i in draft.items if i.name_zh == "疏通下水")
    supervisor.post(f"/catalogue/draft/items/{drain.id}", data=item_form(
        drain.category_id, name_zh="疏通下水", name_en="Unclog a drain", price_min="35"))

    page = manager.get("/catalogue/draft")
    assert "Approve as version 2" in text(page)
    resp = manager.post("/catalogue/draft/approve",
                        data={"effective_date": today().isoformat(), "note": "人工成本上调"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/catalogue/versions/2")
    shown = manager.get("/catalogue/versions/2")
    assert f"Version 2 approved, in force from {today().isoformat()}." in flashes(shown)
    assert "Frozen: it never changes." in text(shown)

    db.session.expire_all()
    v2 = db.session.scalar(select(PriceList).where(PriceList.number == 2))
    assert (v2.status, v2.effective_date, v2.approved_by_id) == (
        "approved", today(), manager.user.id)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "pricelist.approve"))
    assert event.actor_id == manager.user.id and event.after["number"] == 2
    # the desk now quotes the new price; version 1 is still there to read
    assert row_with(manager.get("/catalogue/"), "疏通下水", "¥35")
    old = manager.get("/catalogue/versions/1")
    assert old.status_code == 200
    assert row_with(old, "疏通下水", "¥30")
    listing = text(manager.get("/catalogue/versions"))
    assert "Version 1" in listing and "Version 2" in listing


def test_a_version_approved_for_a_later_day_waits_for_that_day(db, supervisor, manager, v1):
    draft = open_draft(supervisor)
    drain = next(i for i in draft.items if i.name_zh == "疏通下水")
    supervisor.post(f"/catalogue/draft/items/{drain.id}", data=item_form(
        drain.category_id, name_zh="疏通下水", price_min="35"))
    later = today() + timedelta(days=7)
    assert manager.post("/catalogue/draft/approve",
                        data={"effective_date": later.isoformat()}).status_code == 302
    page = manager.get("/catalogue/")
    assert row_with(page, "疏通下水", "¥30")
    assert f"Version 2 takes effect on {later.isoformat()}." in text(page)


@pytest.mark.parametrize("day, message", [
    ("", "Enter a date."),
    ("not-a-date", "Enter a date."),
    ("yesterday", "The effective date cannot be in the past."),
])
def test_a_bad_effective_date_is_refused(db, supervisor, manager, v1, day, message):
    open_draft(supervisor)
    if day == "yesterday":
        day = (today() - timedelta(days=1)).isoformat()
    resp = manager.post("/catalogue/draft/approve", data={"effective_date": day})
    assert resp.status_code == 422
    assert message in field_errors(resp, "effective_date")
    db.session.expire_all()
    assert cat.current_draft() is not None and [v.number for v in cat.versions()] == [1]


def test_approving_twice_does_not_make_two_versions(db, supervisor, login_as, v1):
    open_draft(supervisor)
    first, second = login_as("manager"), login_as("manager")
    for client in (first, second):
        assert client.get("/catalogue/draft").status_code == 200   # both have the draft open
    data = {"effective_date": today().isoformat()}
    assert first.post("/catalogue/draft/approve", data=dict(data)).status_code == 302
    resp = second.post("/catalogue/draft/approve", data=dict(data))
    assert resp.status_code in (302, 409, 422), text(resp)
    if resp.status_code == 302:
        assert "There is no open draft" in " ".join(flashes(second.get(resp.headers["Location"])))
    db.session.expire_all()
    assert [v.number for v in cat.versions()] == [2, 1]


def test_a_conflicting_approval_is_explained_not_a_crash(db, supervisor, manager, v1,
                                                         monkeypatch):
    """The other manager's approval lands between loading the draft and saving ours."""
    from app.domain.errors import Conflict

    def raced(*args, **kwargs):
        raise Conflict("This draft was approved or discarded meanwhile.")

    open_draft(supervisor)
    monkeypatch.setattr(cat, "approve", raced)
    resp = manager.post("/catalogue/draft/approve", data={"effective_date": today().isoformat()})
    assert resp.status_code in (409, 422)
    assert "approved or discarded meanwhile" in text(resp)


# ---- approved versions are frozen ----------------------------------------------------------------

def test_an_approved_items_edit_address_is_not_found(db, supervisor, v1):
    item = v1.items[0]
    assert supervisor.get(f"/catalogue/draft/items/{item.id}").status_code == 404
    resp = supervisor.post(f"/catalogue/draft/items/{item.id}", data=item_form(
        item.category_id, name_zh=item.name_zh, price_min="1"))
    assert resp.status_code == 404
    assert supervisor.post(f"/catalogue/draft/items/{item.id}/remove").status_code == 404
    db.session.expire_all()
    frozen = db.session.get(PriceItem, item.id)
    assert frozen is not None and frozen.price_min_fen == 3000


def test_a_version_that_does_not_exist_is_not_found(login_as, v1):
    assert login_as("clerk").get("/catalogue/versions/99").status_code == 404


def test_the_notice_preview_lists_the_version_in_force(login_as, v1):
    resp = login_as("clerk").get("/catalogue/notice.html")
    assert resp.status_code == 200
    assert "疏通下水" in resp.get_data(as_text=True)


def test_the_notice_preview_has_a_toolbar_the_pdf_has_not(login_as, v1):
    body = login_as("clerk").get("/catalogue/notice.html").get_data(as_text=True)
    bar = grab(body, lambda tag, a: "preview-bar" in a.get("class", "").split())
    assert bar == ["← Back to the price list Print / PDF"]
    assert 'href="/catalogue/"' in body and 'href="/catalogue/notice.pdf?version=1"' in body


def test_the_english_notice_names_the_propertys_currency(db, login_as, v1):
    from app.models import PropertySettings
    db.session.add(PropertySettings(name="阳光花园", name_en="Sunshine", address="", phone="1",
                                    timezone="Asia/Hong_Kong", currency="HKD"))
    db.session.commit()
    en = text(in_english(login_as("clerk")).get("/catalogue/notice.html"))
    assert "Price (HKD)" in en and "CNY" not in en


# ---- the desk's quote box ----------------------------------------------------------------------

def quick(client, q: str):
    return client.get("/catalogue/quick", query_string={"q": q}, headers={"HX-Request": "true"})


def test_the_quote_box_with_nothing_typed_shows_the_version_line(login_as, v1):
    resp = quick(login_as("clerk"), "")
    assert resp.status_code == 200 and "<html" not in resp.get_data(as_text=True)
    assert 'id="quick-prices"' in resp.get_data(as_text=True)
    assert grab(resp, lambda tag, a: a.get("id") == "quick-prices") == [
        f"Version 1, in force since {v1.effective_date.isoformat()}. Whole list"]
    assert rows(resp) == []  # not the whole list
    assert "HX-Request" in resp.headers["Vary"]


def test_the_quote_box_shows_only_the_matching_items(login_as, v1):
    resp = quick(login_as("cashier"), "水龙头")
    assert resp.status_code == 200
    assert [r.split(" ")[0] for r in rows(resp)] == ["换水暖件(水龙头)"]
    assert "¥10–30" in rows(resp)[0]
    assert "more in the whole list" not in text(resp)
    assert "Nothing found for “zzz”." in text(quick(login_as("clerk"), "zzz"))


def test_the_quote_box_shows_a_screenful_and_links_to_the_rest(db, login_as):
    lamps = [(f"安装灯具{n:02d}", f"Fit lamp {n}", "盏", 3000, 3000, False, False)
             for n in range(1, 21)]
    factories.price_list(factories.user("manager", username="wang"), items=lamps)
    db.session.commit()
    resp = quick(login_as("clerk"), "灯具")
    assert len(rows(resp)) == 15
    more = grab(resp, lambda tag, a: tag == "a" and "q=" in a.get("href", ""))
    assert more == ["5 more in the whole list"]


def test_the_quote_box_address_typed_by_hand_opens_the_whole_list(login_as, v1):
    resp = login_as("clerk").get("/catalogue/quick?q=水龙头")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/catalogue/?q=")


def test_the_desk_and_the_cashier_quote_through_the_quick_box(login_as, v1):
    for role, home in (("clerk", "/desk/"), ("cashier", "/cashier/")):
        body = login_as(role).get(home).get_data(as_text=True)
        assert 'hx-get="/catalogue/quick"' in body and 'hx-select' not in body


# ---- the item form -----------------------------------------------------------------------------

def test_an_empty_new_item_shows_every_error_at_once(db, supervisor, v1):
    draft = open_draft(supervisor)
    resp = supervisor.post("/catalogue/draft/items/new", data=item_form(
        draft.items[0].category_id, name_zh="", price_min="", price_max=""))
    assert resp.status_code == 422
    assert field_errors(resp, "name_zh") == ["Enter the item's Chinese name."]
    assert field_errors(resp, "price_min") == [
        "Give a price, or mark the item as priced by workload."]


def test_an_inverted_range_is_refused_with_the_name_missing_too(db, supervisor, v1):
    draft = open_draft(supervisor)
    resp = supervisor.post("/catalogue/draft/items/new", data=item_form(
        draft.items[0].category_id, name_zh="", price_min="100", price_max="50"))
    assert field_errors(resp, "name_zh") == ["Enter the item's Chinese name."]
    assert field_errors(resp, "price_max") == ["The highest price must not be below the lowest."]
    assert field_errors(resp, "price_min") == []


def category_options(resp) -> list[str]:
    body = resp.get_data(as_text=True)
    select_html = body[body.index('name="category_id"'):]
    return grab(select_html[:select_html.index("</select>")], lambda tag, a: tag == "option")


def test_the_category_dropdown_speaks_one_language(db, supervisor, login_as, v1):
    open_draft(supervisor)
    assert category_options(in_english(supervisor).get("/catalogue/draft/items/new")) == [
        "Plumbing (水电类)"]
    zh = in_chinese(login_as("supervisor", username="zhang"))
    assert category_options(zh.get("/catalogue/draft/items/new")) == ["水电类"]


# ---- versions ----------------------------------------------------------------------------------

def test_the_versions_page_costs_the_same_queries_for_one_version_or_five(app, db, login_as):
    from tests.web.test_property_views import counting_queries
    author = factories.user("manager", username="wang")
    factories.price_list(author, number=1, effective=past_list_date())
    db.session.commit()
    clerk = login_as("clerk")
    clerk.get("/catalogue/versions")  # warm up
    with counting_queries(app) as one:
        clerk.get("/catalogue/versions")
    for n in range(2, 6):
        factories.price_list(factories.user("manager"), number=n,
                             effective=past_list_date() + timedelta(days=n))
    db.session.commit()
    with counting_queries(app) as five:
        resp = clerk.get("/catalogue/versions")
    assert len(five) == len(one), five
    listing = rows(resp)[1:]
    assert len(listing) == 5 and all(" 4 " in r for r in listing), listing
