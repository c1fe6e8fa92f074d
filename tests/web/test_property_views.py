"""The finder, the unit card, and the manager's forms and CSV import, as people use them."""
from __future__ import annotations

import io
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select

from app.models import AuditEvent, Building, Resident, Unit
from tests import factories
from tests.web.pages import (
    chinese,
    field_errors,
    flashes,
    form_alerts,
    grab,
    in_chinese,
    text,
)


def count(db, model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def counts(db) -> tuple[int, int, int]:
    return count(db, Building), count(db, Unit), count(db, Resident)


def match_labels(resp) -> list[str]:
    return grab(resp, lambda tag, a: "unit-label" in a.get("class", "").split())


@pytest.fixture
def estate(db):
    a = factories.unit("3", 2, "1502")
    factories.resident(a, "张伟", "owner", "13800001111", notes="家有大型犬，入户前请先电话")
    factories.resident(a, "李娜", "tenant", "13900002222")
    factories.unit("3", 1, "1502")
    factories.unit("5", 2, "1502")
    db.session.commit()
    return a


@pytest.fixture
def manager(login_as):
    return login_as("manager")


@pytest.fixture
def clerk(login_as):
    return login_as("clerk")


# ---- the finder ------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, expected", [
    ("3-2-1502", ["3栋2单元1502"]),
    ("3栋2单元1502", ["3栋2单元1502"]),
    ("1502", ["3栋1单元1502", "3栋2单元1502", "5栋2单元1502"]),
    ("张伟", ["3栋2单元1502"]),
    ("13900002222", ["3栋2单元1502"]),
])
def test_the_finder_page(clerk, estate, typed, expected):
    resp = clerk.get("/property/find", query_string={"q": typed})
    assert resp.status_code == 200
    assert sorted(match_labels(resp)) == sorted(expected)
    assert "<html" in resp.get_data(as_text=True)


def test_the_finder_answers_htmx_with_only_the_results(clerk, estate):
    resp = clerk.get("/property/find?q=3-2-1502", headers={"HX-Request": "true"})
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert "<html" not in body and 'id="matches"' in body
    assert match_labels(resp) == ["3栋2单元1502"]
    assert "HX-Request" in resp.headers.get("Vary", "")
    # the residents, owner first, with phone and the flag for special notes
    page = text(resp)
    assert page.index("张伟") < page.index("李娜")
    assert "13800001111" in page and "⚑" in page


def test_the_finder_shows_a_residents_special_note_as_text(clerk, estate):
    """A touch screen has no hover: the note is written under the resident, not in a title."""
    resp = clerk.get("/property/find?q=张伟", headers={"HX-Request": "true"})
    notes = grab(resp, lambda tag, a: "resident-note" in a.get("class", "").split())
    assert notes == ["⚑ 家有大型犬，入户前请先电话"]


def test_the_finder_says_when_nothing_matches(clerk, estate):
    resp = clerk.get("/property/find?q=9-9-9999", headers={"HX-Request": "true"})
    assert match_labels(resp) == []
    assert "Nothing found for “9-9-9999”." in text(resp)


def test_the_finder_links_to_the_unit_card(clerk, estate):
    resp = clerk.get("/property/find?q=3-2-1502")
    assert f'href="/property/units/{estate.id}"' in resp.get_data(as_text=True)
    card = clerk.get(f"/property/units/{estate.id}")
    assert card.status_code == 200
    page = text(card)
    assert "3栋2单元1502" in page and "张伟" in page and "李娜" in page
    assert "家有大型犬，入户前请先电话" in page
    assert "Edit unit" not in page  # the clerk reads; only the manager edits


def test_the_units_page_lists_a_building(clerk, estate):
    building = estate.building_id
    resp = clerk.get(f"/property/units?building={building}")
    assert resp.status_code == 200
    assert "1502" in text(resp)


def test_the_units_page_explains_its_grid(clerk, estate):
    resp = clerk.get(f"/property/units?building={estate.building_id}")
    legend = grab(resp, lambda tag, a: "grid-legend" in a.get("class", "").split())
    assert len(legend) == 1
    assert "residents recorded" in legend[0] and "grey: no resident recorded" in legend[0]
    cells = grab(resp, lambda tag, a: tag == "a" and "unit-cell" in a.get("class", "").split())
    assert sorted(cells) == ["1-1502 0", "2-1502 2"]


def test_the_units_page_with_no_buildings_yet(clerk):
    assert clerk.get("/property/units").status_code == 200


@contextmanager
def counting_queries(app):
    from app.extensions import db
    with app.app_context():
        engine = db.engine
    statements = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def test_the_finder_on_demo_data_uses_few_queries_whatever_is_typed(real_db, app, db, login_as):
    """Fast as the clerk types: a small, constant number of SQL statements per request."""
    from app import demo
    demo.seed()
    db.session.commit()
    clerk = login_as("clerk")
    clerk.get("/property/find?q=1", headers={"HX-Request": "true"})  # warm up
    some_name = db.session.scalar(select(Resident.name).limit(1))
    some_phone = db.session.scalar(select(Resident.phone).limit(1))
    per_query = {}
    dashed_phone = f"{some_phone[:3]}-{some_phone[3:7]}-{some_phone[7:]}"
    for typed in ("1", "101", "3-2-1502", "3栋2单元1502", some_name, some_name[0], some_phone,
                  dashed_phone, "nobody-here"):
        with counting_queries(app) as statements:
            resp = clerk.get("/property/find", query_string={"q": typed},
                             headers={"HX-Request": "true"})
        assert resp.status_code == 200
        finder = [s for s in statements if "units" in s or "residents" in s]
        per_query[typed] = (len(statements), len(finder))
    assert len(match_labels(clerk.get("/property/find?q=1", headers={"HX-Request": "true"}))) == 12
    assert all(finder <= 4 for _, finder in per_query.values()), per_query
    assert all(total <= 8 for total, _ in per_query.values()), per_query
    # constant: twelve units with all their residents cost what one unit costs
    assert per_query["1"] == per_query["3-2-1502"] == per_query[some_name], per_query


# ---- the manager adds and corrects ---------------------------------------------------------------

def test_the_manager_adds_a_building_a_unit_and_a_resident(db, manager):
    resp = manager.post("/property/buildings/new", data={"code": "9", "name": "", "floors": "18"})
    assert resp.status_code == 302
    building = db.session.scalar(select(Building).where(Building.code == "9"))
    assert building.name == "9栋" and building.floors == 18

    resp = manager.post("/property/units/new", data={
        "building_id": building.id, "entrance": "2", "number": "1502", "area_m2": "96"})
    assert resp.status_code == 302
    unit = db.session.scalar(select(Unit).where(Unit.search_key == "9-2-1502"))
    assert resp.headers["Location"].endswith(f"/property/units/{unit.id}")
    assert unit.label == "9栋2单元1502"

    resp = manager.post(f"/property/units/{unit.id}/residents/new", data={
        "name": "王芳", "kind": "tenant", "phone": "13700003333", "notes": "有猫"})
    assert resp.status_code == 302
    card = manager.get(f"/property/units/{unit.id}")
    assert "王芳" in text(card) and "有猫" in text(card)
    assert "Resident added." in flashes(card)

    actions = [(e.action, e.actor_id) for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.in_(
            ["building.create", "unit.create", "resident.create"])).order_by(AuditEvent.id))]
    assert actions == [("building.create", manager.user.id), ("unit.create", manager.user.id),
                       ("resident.create", manager.user.id)]


def test_the_manager_corrects_a_unit(db, manager, estate):
    resp = manager.post(f"/property/units/{estate.id}/edit", data={
        "building_id": estate.building_id, "entrance": "2", "number": "1602", "note": "顶楼"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Unit, estate.id).label == "3栋2单元1602"


def test_the_manager_marks_a_resident_moved_out(db, manager, estate):
    resident = estate.residents[1]
    resp = manager.post(f"/property/residents/{resident.id}/edit", data={
        "name": "李娜", "kind": "tenant", "phone": "13900002222"})  # "lives here" unticked
    assert resp.status_code == 302
    card = text(manager.get(f"/property/units/{estate.id}"))
    assert "moved out" in card
    hits = manager.get("/property/find?q=李娜", headers={"HX-Request": "true"})
    assert match_labels(hits) == []


# ---- bad input: the message by the field, a 422, nothing saved -----------------------------------

def assert_refused(db, resp, field, message, before):
    assert resp.status_code == 422, resp.status_code
    assert message in field_errors(resp, field), (field_errors(resp, field), form_alerts(resp))
    assert counts(db) == before


def test_a_building_needs_a_number(db, manager):
    before = counts(db)
    resp = manager.post("/property/buildings/new", data={"code": ""})
    assert_refused(db, resp, "code", "Enter the building number.", before)


def test_a_building_cannot_be_added_twice(db, manager, estate):
    before = counts(db)
    resp = manager.post("/property/buildings/new", data={"code": "3"})
    assert_refused(db, resp, "code", "This building already exists.", before)


def test_a_building_number_must_be_letters_or_digits(db, manager):
    before = counts(db)
    resp = manager.post("/property/buildings/new", data={"code": "3/4"})
    assert_refused(db, resp, "code", "Use letters or digits for the building number (e.g. 3).",
                   before)


def test_a_unit_cannot_be_added_twice(db, manager, estate):
    before = counts(db)
    resp = manager.post("/property/units/new", data={
        "building_id": estate.building_id, "entrance": "2", "number": "1502"})
    assert_refused(db, resp, "number", "This unit already exists.", before)


def test_entrance_zero_is_refused(db, manager, estate):
    before = counts(db)
    resp = manager.post("/property/units/new", data={
        "building_id": estate.building_id, "entrance": "0", "number": "101"})
    assert_refused(db, resp, "entrance", "Between 1 and 99.", before)


def test_a_unit_needs_a_number(db, manager, estate):
    before = counts(db)
    resp = manager.post("/property/units/new", data={
        "building_id": estate.building_id, "entrance": "1", "number": ""})
    assert_refused(db, resp, "number", "Enter the unit number.", before)


def test_a_unit_cannot_be_moved_onto_another(db, manager, estate):
    before = counts(db)
    other = db.session.scalar(select(Unit).where(Unit.search_key == "3-1-1502"))
    resp = manager.post(f"/property/units/{other.id}/edit", data={
        "building_id": estate.building_id, "entrance": "2", "number": "1502"})
    assert_refused(db, resp, "number", "This unit already exists.", before)
    db.session.expire_all()
    assert db.session.get(Unit, other.id).label == "3栋1单元1502"


@pytest.mark.parametrize("data, field, message", [
    ({"name": "", "kind": "owner"}, "name", "Enter the resident's name."),
    ({"name": "   ", "kind": "owner"}, "name", "Enter the resident's name."),
    ({"name": "张" * 41, "kind": "owner"}, "name", "At most 40 characters."),
    ({"name": "王芳", "kind": "owner", "phone": "call me"}, "phone",
     "This does not look like a phone number."),
    ({"name": "王芳", "kind": "owner", "phone": "13800001111", "phone2": "12"}, "phone2",
     "This does not look like a phone number."),
    ({"name": "张伟", "kind": "owner"}, "name", "张伟 is already recorded at this unit."),
    ({"name": "王芳", "kind": "landlord"}, "kind", "Not a valid choice."),
])
def test_a_bad_resident_is_refused(db, manager, estate, data, field, message):
    before = counts(db)
    resp = manager.post(f"/property/units/{estate.id}/residents/new", data=data)
    assert_refused(db, resp, field, message, before)


def test_a_bad_resident_edit_changes_nothing(db, manager, estate):
    resident = estate.residents[0]
    resp = manager.post(f"/property/residents/{resident.id}/edit", data={
        "name": "张伟", "kind": "owner", "phone": "not a phone", "active": "y"})
    assert resp.status_code == 422
    assert field_errors(resp, "phone") == ["This does not look like a phone number."]
    db.session.expire_all()
    assert db.session.get(Resident, resident.id).phone == "13800001111"


def test_the_message_is_in_chinese_for_a_chinese_manager(app, db, login_as, estate):
    manager = in_chinese(login_as("manager"))
    before = counts(db)
    resp = manager.post(f"/property/units/{estate.id}/residents/new",
                        data={"name": "王芳", "kind": "owner", "phone": "打我电话"})
    assert_refused(db, resp, "phone", chinese(app, "This does not look like a phone number."),
                   before)
    resp = manager.post("/property/units/new", data={
        "building_id": estate.building_id, "entrance": "0", "number": "101"})
    assert_refused(db, resp, "entrance", chinese(app, "Between 1 and 99."), before)


# ---- CSV import ----------------------------------------------------------------------------------

GOOD = ("楼栋,单元,房号,姓名,类型,电话\n"
        "3,2,1502,张伟,业主,13800001111\n"
        "3,2,1502,李娜,租户,13900002222\n"
        "6,1,301,王芳,业主,13700003333\n")


def upload(client, data: bytes, name="units.csv"):
    return client.post("/property/import", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


@pytest.mark.parametrize("encoded", [("\ufeff" + GOOD).encode("utf-8"), GOOD.encode("gbk")],
                         ids=["utf-8 with BOM", "GBK"])
def test_a_good_file_is_imported(db, manager, encoded):
    resp = upload(manager, encoded)
    assert resp.status_code == 302
    assert counts(db) == (2, 2, 3)
    page = manager.get(resp.headers["Location"])
    assert "Imported: 2 new units, 3 residents." in flashes(page)
    hits = manager.get("/property/find?q=王芳", headers={"HX-Request": "true"})
    assert match_labels(hits) == ["6栋1单元301"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "property.import"))
    assert event.actor_id == manager.user.id and event.after == {"units": 2, "residents": 3}


def test_the_example_file_offered_for_download_imports_as_it_is(db, manager):
    resp = manager.get("/property/import/template.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.data.startswith("\ufeff".encode())  # Excel opens it as UTF-8
    assert upload(manager, resp.data).status_code == 302
    assert counts(db) == (1, 1, 2)


def test_a_file_with_a_bad_row_reports_the_line_and_saves_nothing(db, manager):
    factories.unit("1", 1, "101")
    db.session.commit()
    before = counts(db)
    events = count(db, AuditEvent)
    bad = GOOD + "6,1,302,赵敏,房东,13600004444\n" + "6,x,303,孙丽,业主,\n"
    resp = upload(manager, bad.encode("utf-8"))
    assert resp.status_code == 422
    rows = grab(resp, lambda tag, a: tag == "tr")
    assert "Nothing was imported." in text(resp)
    assert "5 Unknown resident type '房东' (use owner/业主 or tenant/租户)." in rows
    assert "6 The entrance must be a number: x" in rows
    assert counts(db) == before
    assert count(db, AuditEvent) == events


@pytest.mark.parametrize("data, message", [
    (b"", "The file is empty."),
    ("姓名,电话\n张伟,138\n".encode(), "missing: building, unit"),
    ('楼栋,单元,房号,姓名\n3,2,1502,"张伟\n'.encode(), "The file is not valid CSV from line 2"),
    (bytes(range(256)) * 4, "The file is not text in UTF-8 or GBK."),
])
def test_a_file_that_cannot_be_read_is_explained_under_the_file_field(db, manager, data, message):
    before = counts(db)
    resp = upload(manager, data)
    assert resp.status_code == 422
    errors = field_errors(resp, "file")
    assert len(errors) == 1 and message in errors[0], errors
    assert counts(db) == before


def test_importing_without_choosing_a_file(db, manager):
    resp = manager.post("/property/import", data={}, content_type="multipart/form-data")
    assert resp.status_code == 422
    assert field_errors(resp, "file") == ["Choose a CSV file."]


def test_a_file_over_the_size_limit_is_refused_with_a_friendly_page(app, db, manager):
    limit = app.config["MAX_CONTENT_LENGTH"]
    resp = upload(manager, b"3,2,1502\n" * (limit // 9 + 10))
    assert resp.status_code == 413
    assert "The file is too large." in text(resp)
    assert counts(db) == (0, 0, 0)


# ---- editing a building ------------------------------------------------------------------------

def test_renumbering_a_building_relabels_its_units(manager, estate, db):
    building = db.session.get(Building, estate.building_id)
    resp = manager.post(f"/property/buildings/{building.id}/edit",
                        data={"code": "13", "name": "", "floors": "18"})
    assert resp.status_code == 302
    db.session.expire_all()
    labels = sorted(db.session.scalars(
        select(Unit.label).where(Unit.building_id == building.id)))
    assert labels == ["13栋1单元1502", "13栋2单元1502"]
    found = manager.get("/property/find", query_string={"q": "13-2-1502"})
    assert "13栋2单元1502" in found.text
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "building.update"))
    assert event.before["code"] == "3" and event.after["code"] == "13"


def test_a_building_cannot_take_another_buildings_number(manager, estate, db):
    building = db.session.get(Building, estate.building_id)
    resp = manager.post(f"/property/buildings/{building.id}/edit",
                        data={"code": "5", "name": "", "floors": ""})
    assert resp.status_code == 422
    assert field_errors(resp, "code") == ["This building already exists."]
    db.session.expire_all()
    assert db.session.get(Building, building.id).code == "3"
    assert db.session.get(Unit, estate.id).label == "3栋2单元1502"
