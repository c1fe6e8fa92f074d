"""The manager's workspace: staff accounts, the audit trail and its filters, the property's
settings."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.models import AuditEvent, PropertySettings, User
from app.services import clock
from tests import factories
from tests.moments import at
from tests.web.pages import (
    chinese,
    field_errors,
    flashes,
    form_alerts,
    grab,
    in_chinese,
    text,
)


@pytest.fixture
def manager(login_as):
    return login_as("manager")


def users(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(User.id)))


def fresh(db, model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


# ---- staff ---------------------------------------------------------------------------------------

NEW = {"username": "xiaoliu", "full_name": "刘芳", "phone": "13905710002", "password": "pin-2026",
       "roles": ["clerk", "cashier"]}


def test_the_manager_creates_an_account_that_can_sign_in(app, db, manager):
    resp = manager.post("/manage/staff/new", data=dict(NEW))
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/manage/staff")
    listing = manager.get("/manage/staff")
    assert "Account xiaoliu created." in flashes(listing)
    assert any("xiaoliu" in r and "刘芳" in r for r in grab(listing, lambda t, a: t == "tr"))
    user = db.session.scalar(select(User).where(User.username == "xiaoliu"))
    assert user.roles == ["clerk", "cashier"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.create",
                                                       AuditEvent.entity_id == user.id))
    assert event.actor_id == manager.user.id
    other = app.test_client()
    resp = other.post("/login", data={"username": "xiaoliu", "password": "pin-2026"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/desk/")


@pytest.mark.parametrize("changes, field, message", [
    ({"username": "XiaoLiu"}, "username", "This username is already taken."),
    ({"username": ""}, "username", "Enter a username."),
    ({"username": "刘 芳"}, "username", "Letters, digits, dot, dash and underscore only."),
    ({"roles": []}, "roles", "Give the account at least one role."),
    ({"username": "newbie", "password": "1234567"}, "password",
     "The password needs at least 8 characters."),
    ({"full_name": ""}, "full_name", "Enter the person's name."),
])
def test_a_bad_new_account_is_refused(db, manager, changes, field, message):
    factories.user("clerk", username="xiaoliu")
    db.session.commit()
    before = users(db)
    data = {k: v for k, v in dict(NEW, **changes).items() if v != []}
    resp = manager.post("/manage/staff/new", data=data)
    assert resp.status_code == 422
    assert message in field_errors(resp, field), (field_errors(resp, field), form_alerts(resp))
    assert users(db) == before


def test_a_bad_new_account_in_chinese(app, db, login_as):
    manager = in_chinese(login_as("manager"))
    before = users(db)
    resp = manager.post("/manage/staff/new", data={k: v for k, v in NEW.items() if k != "roles"})
    assert resp.status_code == 422
    assert field_errors(resp, "roles") == [chinese(app, "Give the account at least one role.")]
    assert users(db) == before


def test_the_manager_changes_someones_roles(db, manager):
    clerk = factories.user("clerk", username="xiaoliu")
    db.session.commit()
    resp = manager.post(f"/manage/staff/{clerk.id}", data={
        "full_name": "刘芳", "phone": "", "roles": ["clerk", "supervisor"]})
    assert resp.status_code == 302
    assert fresh(db, User, clerk.id).roles == ["clerk", "supervisor"]


def test_the_last_manager_cannot_drop_the_manager_role(db, manager):
    resp = manager.post(f"/manage/staff/{manager.user.id}", data={
        "full_name": "王建国", "phone": "", "roles": ["clerk"]})
    assert resp.status_code == 422
    assert field_errors(resp, "roles") == ["The property needs at least one active manager."]
    assert fresh(db, User, manager.user.id).roles == ["manager"]


def test_a_manager_cannot_deactivate_themself(db, manager):
    factories.user("manager")
    db.session.commit()
    resp = manager.post(f"/manage/staff/{manager.user.id}/active", data={"active": "0"})
    assert resp.status_code == 302
    assert "You cannot deactivate your own account." in flashes(
        manager.get(resp.headers["Location"]))
    assert fresh(db, User, manager.user.id).active


def test_a_deactivated_account_is_marked_in_the_list(db, manager):
    clerk = factories.user("clerk", username="xiaoliu")
    db.session.commit()
    manager.post(f"/manage/staff/{clerk.id}/active", data={"active": "0"})
    row = next(r for r in grab(manager.get("/manage/staff"), lambda t, a: t == "tr")
               if "xiaoliu" in r)
    assert "deactivated" in row


def test_a_too_short_new_password_is_refused(db, manager):
    clerk = factories.user("clerk", username="xiaoliu")
    db.session.commit()
    old_hash = clerk.password_hash
    resp = manager.post(f"/manage/staff/{clerk.id}/password", data={"password": "1234567"})
    assert resp.status_code == 422
    assert field_errors(resp, "password") == ["The password needs at least 8 characters."]
    assert fresh(db, User, clerk.id).password_hash == old_hash


def test_an_unknown_account_is_not_found(manager):
    assert manager.get("/manage/staff/99999").status_code == 404


# ---- the audit trail -----------------------------------------------------------------------------

@pytest.fixture
def trail(db):
    """Events at known times around a day two weeks back (`day`, Shanghai time), by two people."""
    wang = factories.user("manager", username="wang")
    zhao = factories.user("supervisor", username="zhao")
    day = clock.local_today() - timedelta(days=15)
    events = [
        (at(day - timedelta(days=2), 10), wang, "unit.create", "unit", "evt-unit-3-2-1502"),
        (at(day, 4), zhao, "pricelist.draft", "price_list", "evt-draft-v1"),  # 20:00 UTC, day-1
        (at(day, 8, 30), wang, "pricelist.approve", "price_list", "evt-approved-v2"),
        (at(day + timedelta(days=1), 23), zhao, "resident.update", "resident", "evt-moved-out"),
    ]
    for when, actor, action, entity, summary in events:
        db.session.add(AuditEvent(at=when, actor_id=actor.id, action=action, entity_type=entity,
                                  entity_id=1, summary=summary))
    db.session.commit()
    return {"wang": wang, "zhao": zhao, "day": day, "approved_at": events[2][0]}


def audit_summaries(client, **filters) -> list[str]:
    resp = client.get("/manage/audit", query_string=filters)
    assert resp.status_code == 200
    known = ("evt-unit-3-2-1502", "evt-draft-v1", "evt-approved-v2", "evt-moved-out")
    return [s for s in known if s in text(resp)]


def test_the_audit_trail_shows_every_event_newest_first(manager, trail):
    resp = manager.get("/manage/audit")
    page = text(resp)
    order = [page.index(s) for s in ("evt-moved-out", "evt-approved-v2", "evt-draft-v1",
                                     "evt-unit-3-2-1502")]
    assert order == sorted(order)


def test_filter_by_person(manager, trail):
    assert audit_summaries(manager, actor=trail["zhao"].id) == ["evt-draft-v1", "evt-moved-out"]


def test_filter_by_record_type(manager, trail):
    assert audit_summaries(manager, entity="price_list") == ["evt-draft-v1", "evt-approved-v2"]


def test_filter_by_action_prefix(manager, trail):
    assert audit_summaries(manager, action="pricelist.") == ["evt-draft-v1", "evt-approved-v2"]
    assert audit_summaries(manager, action="pricelist.approve") == ["evt-approved-v2"]


def test_filter_by_days_in_the_propertys_time_zone(manager, trail):
    """04:00 in Shanghai is 20:00 UTC the day before: it belongs to Shanghai's day."""
    day = trail["day"]

    def iso(n: int) -> str:
        return (day + timedelta(days=n)).isoformat()
    assert audit_summaries(manager, start=iso(0), end=iso(0)) == [
        "evt-draft-v1", "evt-approved-v2"]
    assert audit_summaries(manager, start=iso(-1), end=iso(-1)) == []
    assert audit_summaries(manager, start=iso(1)) == ["evt-moved-out"]
    assert audit_summaries(manager, end=iso(-2)) == ["evt-unit-3-2-1502"]


def test_filters_combine(manager, trail):
    assert audit_summaries(manager, actor=trail["wang"].id, entity="price_list",
                           start=trail["day"].isoformat()) == ["evt-approved-v2"]


def test_a_nonsense_filter_is_ignored_not_an_error(manager, trail):
    assert len(audit_summaries(manager, actor="x", start="yesterday", end="31/12")) == 4


def test_the_filter_answers_htmx_with_the_rows_only(manager, trail):
    resp = manager.get("/manage/audit?entity=unit", headers={"HX-Request": "true"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in body and 'id="audit-rows"' in body
    assert "evt-unit-3-2-1502" in body and "evt-moved-out" not in body


def test_times_are_shown_in_the_propertys_time_zone(manager, trail):
    """08:30 in Asia/Shanghai is 00:30 UTC: the page shows Shanghai's time."""
    row = next(r for r in grab(manager.get("/manage/audit"), lambda t, a: t == "tr")
               if "evt-approved-v2" in r)
    assert f"{trail['day'].isoformat()} 08:30" in row
    assert "00:30" not in row


def test_times_follow_the_zone_in_the_settings(db, manager, trail):
    db.session.add(PropertySettings(name="阳光花园", name_en="", address="", phone="",
                                    timezone="Europe/London", currency="GBP"))
    db.session.commit()
    row = next(r for r in grab(manager.get("/manage/audit"), lambda t, a: t == "tr")
               if "evt-approved-v2" in r)
    in_london = trail["approved_at"].astimezone(ZoneInfo("Europe/London"))  # GMT or BST
    assert in_london.strftime("%Y-%m-%d %H:%M") in row


def test_the_trail_names_the_person_and_shows_what_changed_readably(app, db, manager):
    manager.post("/manage/staff/new", data=dict(NEW))
    row = next(r for r in grab(manager.get("/manage/audit?action=user.create"),
                               lambda t, a: t == "tr") if "xiaoliu" in r)
    assert manager.user.full_name in row and "Staff account created" in row
    assert "Name 刘芳" in row  # Chinese as Chinese, not \u5218\u82b3
    assert "Roles Front desk (clerk), Cashier" in row  # role names, not codes
    zh_row = next(r for r in grab(manager.get("/manage/audit?action=user.create",
                                              headers={"Accept-Language": "zh-CN"}),
                                  lambda t, a: t == "tr") if "xiaoliu" in r)
    assert chinese(app, "Staff account created") in zh_row and "user.create" not in zh_row


def test_prices_in_the_trail_read_in_yuan(db, manager):
    from app.services import audit
    audit.record("pricelist.item_update", "price_list", 1, "P001 疏通下水",
                 before={"price_min_fen": 3000}, after={"price_min_fen": 3550},
                 actor_id=manager.user.id)
    db.session.commit()
    page = text(manager.get("/manage/audit"))
    assert "Lowest price ¥30.00 → ¥35.50" in page and "3550" not in page


# ---- settings ------------------------------------------------------------------------------------

SETTINGS = {"name": "阳光花园物业服务中心", "name_en": "Sunshine Garden Property Service Centre",
            "address": "杭州市西湖区文三路 288 号", "phone": "0571-8888 6666",
            "timezone": "Asia/Shanghai", "currency": "CNY"}


def saved_settings(db) -> PropertySettings | None:
    db.session.expire_all()
    return db.session.scalar(select(PropertySettings))


def test_the_settings_form_shows_the_defaults_before_anything_is_saved(manager, db):
    resp = manager.get("/manage/settings")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert 'value="Asia/Shanghai"' in body and 'value="CNY"' in body


def test_the_manager_saves_the_settings(db, manager):
    resp = manager.post("/manage/settings", data=dict(SETTINGS, currency="cny"))
    assert resp.status_code == 302
    row = saved_settings(db)
    assert (row.name, row.address, row.phone, row.timezone, row.currency) == (
        SETTINGS["name"], SETTINGS["address"], SETTINGS["phone"], "Asia/Shanghai", "CNY")
    page = manager.get("/manage/settings")
    assert "Settings saved." in flashes(page)
    assert "阳光花园物业服务中心" in text(page)  # the name heads every page
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "settings.update"))
    assert event.actor_id == manager.user.id


def test_changing_one_field_keeps_the_others_and_records_the_change(db, manager):
    manager.post("/manage/settings", data=dict(SETTINGS))
    manager.post("/manage/settings", data=dict(SETTINGS, timezone="Asia/Urumqi"))
    assert saved_settings(db).timezone == "Asia/Urumqi"
    assert db.session.scalar(select(func.count(PropertySettings.id))) == 1
    last = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "settings.update")
                              .order_by(AuditEvent.id.desc())).first()
    assert (last.before, last.after) == ({"timezone": "Asia/Shanghai"},
                                         {"timezone": "Asia/Urumqi"})


@pytest.mark.parametrize("changes, field, message", [
    ({"timezone": "Mars/Olympus"}, "timezone",
     "Unknown time zone. Use a name such as Asia/Shanghai."),
    ({"timezone": "../../etc/passwd"}, "timezone",
     "Unknown time zone. Use a name such as Asia/Shanghai."),
    ({"timezone": ""}, "timezone", "Enter a time zone."),
    ({"currency": "C1Y"}, "currency", "Use a three-letter currency code such as CNY."),
    ({"currency": "¥¥¥"}, "currency", "Use a three-letter currency code such as CNY."),
    ({"currency": "RMB元"}, "currency", "Field must be exactly 3 characters long."),
    ({"name": ""}, "name", "Enter the property's name."),
])
def test_bad_settings_are_refused_next_to_the_field(db, manager, changes, field, message):
    manager.post("/manage/settings", data=dict(SETTINGS))
    resp = manager.post("/manage/settings", data=dict(SETTINGS, **changes))
    assert resp.status_code == 422
    assert message in field_errors(resp, field), (field_errors(resp, field), form_alerts(resp))
    row = saved_settings(db)
    assert (row.timezone, row.currency, row.name) == ("Asia/Shanghai", "CNY", SETTINGS["name"])


def test_an_unknown_time_zone_in_chinese(app, db, login_as):
    manager = in_chinese(login_as("manager"))
    resp = manager.post("/manage/settings", data=dict(SETTINGS, timezone="Mars/Olympus"))
    assert resp.status_code == 422
    assert field_errors(resp, "timezone") == [
        chinese(app, "Unknown time zone. Use a name such as Asia/Shanghai.")]
    assert saved_settings(db) is None


def test_the_manager_home_counts_the_property(db, manager):
    u = factories.unit()
    factories.resident(u, "张伟", "owner")
    factories.resident(u, "李娜", "tenant")
    db.session.commit()
    stats = grab(manager.get("/manage/"), lambda t, a: "stat" in a.get("class", "").split())
    assert "1 buildings" in stats and "1 units" in stats
    assert "1 owners" in stats and "1 tenants" in stats


def staff_row(client, username) -> str:
    return next(r for r in grab(client.get("/manage/staff"), lambda t, a: t == "tr")
                if username in r)


def test_the_staff_list_shows_a_lock_only_while_it_lasts(db, manager):
    from datetime import timedelta
    clerk = factories.user("clerk", username="xiaoliu")
    clerk.locked_until = clock.now() + timedelta(minutes=10)
    db.session.commit()
    assert "locked until" in staff_row(manager, "xiaoliu")
    clerk.locked_until = clock.now() - timedelta(minutes=1)
    db.session.commit()
    row = staff_row(manager, "xiaoliu")
    assert "locked" not in row and "active" in row


def test_the_audit_trail_pages_by_fifty(db, manager):
    for n in range(55):
        db.session.add(AuditEvent(action="unit.update", entity_type="unit", entity_id=n,
                                  summary=f"change number {n:02d}"))
    db.session.commit()
    first = manager.get("/manage/audit?action=unit.")
    assert len([r for r in grab(first, lambda t, a: t == "tr") if "change number" in r]) == 50
    assert "change number 54" in text(first) and "change number 04" not in text(first)
    older = grab(first, lambda t, a: t == "a" and "page=2" in a.get("href", ""))
    assert older, "no link to older entries"
    second = manager.get("/manage/audit?action=unit.&page=2")
    rows = [r for r in grab(second, lambda t, a: t == "tr") if "change number" in r]
    assert len(rows) == 5 and "change number 00" in text(second)
