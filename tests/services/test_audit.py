"""The audit trail: every change leaves a row naming who did it, and rows are never changed."""
from __future__ import annotations

import json
from contextlib import contextmanager

import pytest
from flask_login import login_user
from sqlalchemy import select

from app.domain.errors import DomainError
from app.models import AuditEvent
from app.models.audit import AuditTamper
from app.services import catalogue as cat
from app.services import clock, staff
from app.services import property as prop
from app.services.settings import update_settings
from tests import factories
from tests.moments import past_list_date


@contextmanager
def acting_as(app, user):
    """A request by `user`, as the views make it."""
    with app.test_request_context(environ_base={"REMOTE_ADDR": "10.0.0.7"}):
        login_user(user)
        yield


def events(db, action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def last(db, action: str) -> AuditEvent:
    found = events(db, action)
    assert found, f"no {action} row"
    return found[-1]


@pytest.fixture
def boss(db):
    user = factories.user("manager", username="boss")
    db.session.commit()
    return user


def test_staff_changes_are_recorded_with_the_actor_and_the_change(app, db, boss):
    with acting_as(app, boss):
        clerk = staff.create_user("xiaoliu", "刘芳", "pw-12345678", ["clerk"], "139")
        staff.update_user(clerk, full_name="刘芳芳", phone="139", roles=["clerk", "cashier"],
                             acting=boss)
        staff.reset_password(clerk, "pw-56785678")
        staff.set_active(clerk, False, acting=boss)
        staff.set_active(clerk, True, acting=boss)

    created = last(db, "user.create")
    assert (created.actor_id, created.entity_type, created.entity_id) == (boss.id, "user", clerk.id)
    assert created.after == {"username": "xiaoliu", "full_name": "刘芳", "roles": ["clerk"]}
    assert created.ip == "10.0.0.7"

    updated = last(db, "user.update")
    assert updated.actor_id == boss.id
    assert updated.before == {"full_name": "刘芳", "phone": "139", "roles": ["clerk"]}
    assert updated.after == {"full_name": "刘芳芳", "phone": "139", "roles": ["cashier", "clerk"]}

    for action in ("user.reset_password", "user.deactivate", "user.activate"):
        row = last(db, action)
        assert (row.actor_id, row.entity_id) == (boss.id, clerk.id), action


def test_the_audit_trail_never_holds_a_password(app, db, boss):
    with acting_as(app, boss):
        user = staff.create_user("xiaoliu", "刘芳", "pw-12345678", ["clerk"])
        staff.reset_password(user, "pw-56785678")
    db.session.commit()
    dump = json.dumps([(e.summary, e.before, e.after) for e in events(db)], ensure_ascii=False)
    assert "pw-12345678" not in dump and "pw-56785678" not in dump and "scrypt" not in dump


def test_property_changes_are_recorded(app, db, boss):
    with acting_as(app, boss):
        building = prop.create_building("3")
        unit = prop.create_unit(building, 2, "1502")
        prop.update_unit(unit, building, 2, "1602", area_m2=96, note="")
        resident = prop.add_resident(unit, "张伟", "owner", "13800001111")
        prop.update_resident(resident, name="张伟", kind="tenant", phone="13800001111",
                             phone2="", notes="", active=False)
        prop.import_csv("楼栋,单元,房号,姓名\n5,1,101,李娜\n".encode())

    assert events(db, "building.create")[0].after["code"] == "3"
    created = last(db, "unit.create")
    assert created.after["label"] == "3栋2单元1502" and created.entity_id == unit.id
    changed = last(db, "unit.update")
    # only what changed, before and after
    assert changed.before == {"number": "1502", "label": "3栋2单元1502", "area_m2": None}
    assert changed.after == {"number": "1602", "label": "3栋2单元1602", "area_m2": 96}
    assert last(db, "resident.create").after["name"] == "张伟"
    moved = last(db, "resident.update")
    assert moved.before == {"kind": "owner", "active": True}
    assert moved.after == {"kind": "tenant", "active": False}
    imported = last(db, "property.import")
    assert imported.after == {"units": 1, "residents": 1}
    assert {e.actor_id for e in events(db) if e.entity_type != "user"} == {boss.id}


def test_price_list_changes_are_recorded(app, db, boss):
    v1 = factories.price_list(boss, number=1, effective=past_list_date())
    db.session.commit()
    with acting_as(app, boss):
        category = cat.add_category("doors", "门窗类", "Doors")
        draft = cat.start_draft(boss)
        item = cat.add_item(draft, cat.ItemInput(
            category_id=category.id, name_zh="换锁", name_en="Replace a lock", unit="把",
            price_min_fen=1000, price_max_fen=5000, by_workload=False, free=False,
            department="repair"))
        cat.update_item(item, cat.ItemInput(
            category_id=category.id, name_zh="换锁", name_en="Replace a lock", unit="把",
            price_min_fen=1500, price_max_fen=5000, by_workload=False, free=False,
            department="repair"))
        cat.remove_item(next(i for i in draft.items if i.name_zh == "换管"))
        cat.approve(draft, clock.local_today(), boss)

    assert last(db, "category.create").entity_id == category.id
    assert last(db, "pricelist.draft").entity_id == draft.id
    assert last(db, "pricelist.item_add").after["name_zh"] == "换锁"
    edited = last(db, "pricelist.item_update")
    assert (edited.before, edited.after) == ({"price_min_fen": 1000}, {"price_min_fen": 1500})
    assert last(db, "pricelist.item_remove").before["name_zh"] == "换管"
    assert last(db, "pricelist.approve").after["number"] == 2
    assert {e.actor_id for e in events(db) if e.entity_type in ("price_list", "category")} == \
        {boss.id}
    assert v1.is_draft is False


def test_settings_changes_are_recorded(app, db, boss):
    values = {"name": "阳光花园物业服务中心", "name_en": "Sunshine Garden",
              "address": "文三路 288 号", "phone": "0571-8888 6666", "timezone": "Asia/Shanghai",
              "currency": "cny"}
    with acting_as(app, boss):
        update_settings(**values)
        update_settings(**dict(values, phone="0571-8888 7777"))
    first, second = events(db, "settings.update")
    assert first.actor_id == boss.id and first.after["currency"] == "CNY"
    assert (second.before, second.after) == ({"phone": "0571-8888 6666"},
                                             {"phone": "0571-8888 7777"})


def test_work_done_outside_a_request_names_the_person_it_was_done_for(db, boss):
    """CLI tasks and the demo loader pass the actor explicitly; the trail must show them."""
    factories.price_list(boss, number=1, effective=past_list_date())
    supervisor = factories.user("supervisor", username="zhao")
    draft = cat.start_draft(supervisor)
    cat.approve(draft, clock.local_today(), boss)
    staff.update_user(supervisor, full_name="赵强", phone="", roles=["supervisor", "worker"],
                         acting=boss)
    staff.set_active(supervisor, False, acting=boss)
    assert last(db, "pricelist.draft").actor_id == supervisor.id
    assert last(db, "pricelist.approve").actor_id == boss.id
    assert last(db, "user.update").actor_id == boss.id
    assert last(db, "user.deactivate").actor_id == boss.id


def test_a_sign_in_and_a_lock_are_recorded_for_the_account(app, db):
    user = factories.user("clerk", username="alice")
    db.session.commit()
    with app.test_request_context():
        staff.authenticate("alice", factories.PASSWORD)
        for _ in range(app.config["LOGIN_MAX_FAILURES"]):
            with pytest.raises(DomainError):
                staff.authenticate("alice", "wrong")
    assert last(db, "user.login").actor_id == user.id
    assert last(db, "user.locked").entity_id == user.id


# ---- append-only ---------------------------------------------------------------------------------

@pytest.fixture
def one_event(app, db, boss):
    with acting_as(app, boss):
        prop.create_building("3")
    db.session.commit()
    return last(db, "building.create")


def test_an_audit_row_cannot_be_changed(db, one_event):
    one_event.summary = "nothing happened"
    with pytest.raises(AuditTamper):
        db.session.flush()
    db.session.rollback()
    assert last(db, "building.create").summary == "3栋"


def test_an_audit_rows_before_and_after_cannot_be_changed(db, one_event):
    one_event.after = {"code": "4"}
    with pytest.raises(AuditTamper):
        db.session.commit()
    db.session.rollback()
    assert last(db, "building.create").after["code"] == "3"


def test_an_audit_row_cannot_be_deleted(db, one_event):
    db.session.delete(one_event)
    with pytest.raises(AuditTamper):
        db.session.flush()
    db.session.rollback()
    assert len(events(db, "building.create")) == 1


def test_new_rows_may_still_be_added_next_to_old_ones(app, db, boss, one_event):
    with acting_as(app, boss):
        prop.create_building("4")
    db.session.commit()
    assert len(events(db, "building.create")) == 2
