"""The price list: a draft copied from the newest version, the manager's approval, frozen
versions."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from app.domain.errors import Conflict, DomainError
from app.models import AuditEvent, ListStatus, PriceItem, PriceList
from app.services import catalogue as cat
from app.services import clock
from app.services.catalogue import ItemInput
from tests import factories
from tests.moments import past_list_date


@pytest.fixture(autouse=True)
def english(db):
    from flask_babel import force_locale
    with force_locale("en"):
        yield


def today() -> date:
    """Today where the property is (the default zone: Asia/Shanghai)."""
    return clock.local_today()


@pytest.fixture
def manager(db):
    return factories.user("manager", username="boss")


@pytest.fixture
def v1(db, manager):
    pl = factories.price_list(manager, number=1, effective=past_list_date())
    db.session.commit()
    return pl


def item_input(v1, **changes) -> ItemInput:
    values = {"category_id": v1.items[0].category_id, "name_zh": "疏通马桶",
              "name_en": "Unblock a toilet", "unit": "次", "price_min_fen": 5000,
              "price_max_fen": None, "by_workload": False, "free": False,
              "department": "repair", "note": ""}
    values.update(changes)
    return ItemInput(**values)


def terms(pl: PriceList) -> list[tuple]:
    return sorted((i.code, i.name_zh, i.unit, i.price_min_fen, i.price_max_fen, i.by_workload,
                   i.free) for i in pl.items)


def items_in_db(db) -> int:
    return db.session.scalar(select(func.count(PriceItem.id)))


# ---- the draft -----------------------------------------------------------------------------------

def test_a_draft_starts_as_a_copy_of_the_latest_approved_version(db, manager, v1):
    draft = cat.start_draft(manager)
    assert draft.is_draft and draft.number is None and draft.based_on is v1
    assert terms(draft) == terms(v1)
    assert not {i.id for i in draft.items} & {i.id for i in v1.items}  # copies, not the same rows
    assert cat.current_draft() is draft
    assert cat.in_force() is v1  # nothing changes for the desk until approval


def test_the_copy_comes_from_the_newest_version_even_if_it_is_not_in_force_yet(db, manager, v1):
    d = cat.start_draft(manager)
    cat.add_item(d, item_input(v1))
    v2 = cat.approve(d, today() + timedelta(days=30), manager)
    draft = cat.start_draft(manager)
    assert draft.based_on is v2
    assert "疏通马桶" in [i.name_zh for i in draft.items]


def test_the_first_draft_of_a_new_office_is_empty(db, manager):
    draft = cat.start_draft(manager)
    assert draft.items == [] and draft.based_on is None


def test_only_one_draft_at_a_time(db, manager, v1):
    cat.start_draft(manager)
    with pytest.raises(Conflict):
        cat.start_draft(manager)
    assert db.session.scalar(select(func.count(PriceList.id)).where(
        PriceList.status == ListStatus.DRAFT)) == 1


def test_add_an_item_to_the_draft(db, manager, v1):
    draft = cat.start_draft(manager)
    item = cat.add_item(draft, item_input(v1, name_zh="  疏通马桶 "))
    assert item.name_zh == "疏通马桶" and (item.price_min_fen, item.price_max_fen) == (5000, 5000)
    assert item.code not in {i.code for i in v1.items}
    assert item.sort == max(i.sort for i in draft.items)
    assert len(draft.items) == len(v1.items) + 1 and len(v1.items) == 4


def test_edit_an_item_in_the_draft_leaves_the_approved_version_alone(db, manager, v1):
    draft = cat.start_draft(manager)
    drain = next(i for i in draft.items if i.name_zh == "疏通下水")
    cat.update_item(drain, item_input(v1, name_zh="疏通下水", unit="次", price_min_fen=3500))
    assert (drain.price_min_fen, drain.price_max_fen) == (3500, 3500)
    db.session.commit()
    db.session.expire_all()
    old = next(i for i in db.session.get(PriceList, v1.id).items if i.name_zh == "疏通下水")
    assert old.price_min_fen == 3000


def test_remove_an_item_from_the_draft(db, manager, v1):
    draft = cat.start_draft(manager)
    tap = next(i for i in draft.items if i.name_zh.startswith("换水暖件"))
    cat.remove_item(tap)
    db.session.commit()
    assert "换水暖件(水龙头)" not in [i.name_zh for i in draft.items]
    assert "换水暖件(水龙头)" in [i.name_zh for i in v1.items]
    assert db.session.get(PriceItem, tap.id) is None


@pytest.mark.parametrize("changes, field, words", [
    ({"price_min_fen": 5000, "price_max_fen": 3000}, "price_max", "must not be below the lowest"),
    ({"price_min_fen": 0, "price_max_fen": 0}, "price_min", "mark the item as free"),
    ({"price_min_fen": None, "price_max_fen": None}, "price_min", "Give a price"),
    ({"name_zh": ""}, "name_zh", "Enter the item's Chinese name."),
    ({"name_zh": "   "}, "name_zh", "Enter the item's Chinese name."),
    ({"name_zh": "疏通下水"}, "name_zh", "already has an item with this name"),
    ({"unit": "吨"}, "unit", "Choose a unit of charge."),
    ({"department": "security"}, "department", "Choose a department."),
    ({"category_id": 999999}, "category_id", "Choose a category."),
])
def test_a_bad_item_is_refused_on_its_field_and_nothing_is_saved(db, manager, v1, changes, field,
                                                                 words):
    draft = cat.start_draft(manager)
    db.session.commit()
    before = items_in_db(db)
    with pytest.raises(DomainError) as caught:
        cat.add_item(draft, item_input(v1, **changes))
    assert caught.value.field == field
    assert words in str(caught.value.message)
    db.session.commit()
    assert items_in_db(db) == before


def test_a_bad_edit_leaves_the_item_as_it_was(db, manager, v1):
    draft = cat.start_draft(manager)
    drain = next(i for i in draft.items if i.name_zh == "疏通下水")
    with pytest.raises(DomainError):
        cat.update_item(drain, item_input(v1, name_zh="换管", price_min_fen=1))
    assert (drain.name_zh, drain.price_min_fen) == ("疏通下水", 3000)


def test_the_same_name_may_appear_in_another_category(db, manager, v1):
    other = factories.category(code="doors", zh="门窗类", en="Doors")
    draft = cat.start_draft(manager)
    item = cat.add_item(draft, item_input(v1, category_id=other.id, name_zh="疏通下水"))
    assert item.category_id == other.id


def test_a_free_item_and_a_workload_item(db, manager, v1):
    draft = cat.start_draft(manager)
    free = cat.add_item(draft, item_input(v1, name_zh="检查电表", price_min_fen=None, free=True))
    work = cat.add_item(draft, item_input(v1, name_zh="改水管", price_min_fen=1000,
                                          price_max_fen=50000, by_workload=True))
    assert (free.free, free.price_min_fen, free.price_max_fen) == (True, 0, 0)
    assert work.by_workload and work.price.contains(20000)


# ---- approval ------------------------------------------------------------------------------------

def test_approval_numbers_the_version_and_sets_its_date(db, manager, v1):
    draft = cat.start_draft(manager)
    cat.add_item(draft, item_input(v1))
    day = today() + timedelta(days=3)
    approved = cat.approve(draft, day, manager, note=" 人工成本上调 ")
    db.session.commit()
    assert approved.status == ListStatus.APPROVED and not approved.is_draft
    assert (approved.number, approved.effective_date) == (2, day)
    assert approved.approved_by_id == manager.id and approved.approved_at is not None
    assert approved.note == "人工成本上调"
    assert cat.current_draft() is None
    assert [v.number for v in cat.versions()] == [2, 1]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "pricelist.approve"))
    assert event.entity_id == approved.id
    assert event.after == {"number": 2, "effective_date": day.isoformat(), "items": 5}


def test_the_first_version_is_number_one(db, manager):
    draft = cat.start_draft(manager)
    cat.add_item(draft, item_input_without_list(db))
    assert cat.approve(draft, today(), manager).number == 1


def item_input_without_list(db) -> ItemInput:
    category = factories.category()
    return ItemInput(category_id=category.id, name_zh="疏通下水", name_en="", unit="次",
                     price_min_fen=3000, price_max_fen=3000, by_workload=False, free=False,
                     department="repair")


def test_an_effective_date_in_the_past_is_refused(db, manager, v1):
    draft = cat.start_draft(manager)
    with pytest.raises(DomainError) as caught:
        cat.approve(draft, today() - timedelta(days=1), manager)
    assert caught.value.field == "effective_date"
    assert draft.is_draft


def test_an_effective_date_before_the_latest_versions_is_refused(db, manager, v1):
    draft = cat.start_draft(manager)
    cat.approve(draft, today() + timedelta(days=10), manager)
    draft = cat.start_draft(manager)
    with pytest.raises(DomainError) as caught:
        cat.approve(draft, today() + timedelta(days=5), manager)
    assert caught.value.field == "effective_date"
    assert "version 2" in str(caught.value.message)


def test_an_empty_draft_cannot_be_approved(db, manager, v1):
    draft = cat.start_draft(manager)
    for item in list(draft.items):
        cat.remove_item(item)
    with pytest.raises(DomainError):
        cat.approve(draft, today(), manager)


def test_an_approved_version_is_frozen(db, manager, v1):
    item = v1.items[0]
    with pytest.raises(DomainError):
        cat.update_item(item, item_input(v1, name_zh=item.name_zh, price_min_fen=1))
    with pytest.raises(DomainError):
        cat.remove_item(item)
    with pytest.raises(DomainError):
        cat.add_item(v1, item_input(v1))
    with pytest.raises(DomainError):
        cat.discard_draft(v1)
    with pytest.raises(DomainError):
        cat.approve(v1, today(), manager)
    db.session.rollback()
    assert db.session.get(PriceList, v1.id).items[0].price_min_fen == 3000
    assert len(db.session.get(PriceList, v1.id).items) == 4


def test_a_second_approval_of_the_same_draft_fails_cleanly(real_db, app, db, manager, v1):
    """Two managers press Approve at once: the later one gets Conflict, not a second version."""
    draft = cat.start_draft(manager)
    db.session.commit()
    assert draft.is_draft  # loaded here, before the other approval lands
    with app.app_context():  # the other manager's request, in its own session
        from app.extensions import db as other_db
        other = other_db.session.get(PriceList, draft.id)
        cat.approve(other, today(), other_db.session.merge(manager))
        other_db.session.commit()
        other_db.session.remove()
    with pytest.raises(Conflict):
        cat.approve(draft, today(), manager)
    db.session.rollback()
    assert db.session.scalar(select(func.count(PriceList.id)).where(
        PriceList.status == ListStatus.APPROVED)) == 2
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "pricelist.approve")) == 1


def test_discarding_the_draft(db, manager, v1):
    draft = cat.start_draft(manager)
    draft_id = draft.id
    cat.discard_draft(draft)
    db.session.commit()
    assert db.session.get(PriceList, draft_id) is None and cat.current_draft() is None
    assert len(db.session.get(PriceList, v1.id).items) == 4
    assert db.session.scalar(select(AuditEvent.action).where(
        AuditEvent.action == "pricelist.discard")) is not None


# ---- which version is in force -------------------------------------------------------------------

def test_in_force_picks_by_effective_date(db, manager, v1):
    draft = cat.start_draft(manager)
    tomorrow = today() + timedelta(days=1)
    v2 = cat.approve(draft, tomorrow, manager)
    assert cat.in_force() is v1              # approved, but not effective yet
    assert cat.in_force(today()) is v1
    assert cat.in_force(tomorrow) is v2
    assert cat.in_force(tomorrow + timedelta(days=100)) is v2
    assert cat.in_force(v1.effective_date - timedelta(days=1)) is None  # before any list
    assert cat.latest_approved() is v2


def test_a_version_effective_today_is_in_force_today(db, manager, v1):
    v2 = cat.approve(cat.start_draft(manager), today(), manager)
    assert cat.in_force() is v2


def test_there_is_no_list_in_force_before_any_approval(db, manager):
    cat.start_draft(manager)
    assert cat.in_force() is None


def test_in_force_follows_the_propertys_calendar(db, manager, v1, frozen):
    """At 23:30 UTC it is already the next morning in Shanghai: that day's version is in force."""
    day = today() + timedelta(days=3)
    v2 = cat.approve(cat.start_draft(manager), day, manager)
    eve = day - timedelta(days=1)
    frozen.to(datetime.combine(eve, time(15, 30), UTC))  # 23:30 in Shanghai
    assert cat.in_force() is v1
    frozen.to(datetime.combine(eve, time(23, 30), UTC))  # 07:30 the next day there
    assert cat.in_force() is v2


# ---- what a draft changes ------------------------------------------------------------------------

def test_diff_reports_added_changed_and_removed_items(db, manager, v1):
    draft = cat.start_draft(manager)
    drain = next(i for i in draft.items if i.name_zh == "疏通下水")
    cat.update_item(drain, item_input(v1, name_zh="疏通下水", price_min_fen=3500))
    cat.remove_item(next(i for i in draft.items if i.name_zh == "换管"))
    added = cat.add_item(draft, item_input(v1))
    changes = {(c.kind, c.item.name_zh) for c in cat.diff(draft, v1)}
    assert changes == {("changed", "疏通下水"), ("removed", "换管"), ("added", "疏通马桶")}
    changed = next(c for c in cat.diff(draft, v1) if c.kind == "changed")
    assert (changed.old.price_min_fen, changed.item.price_min_fen) == (3000, 3500)
    assert added.code not in {i.code for i in v1.items}


def test_an_untouched_draft_changes_nothing(db, manager, v1):
    assert cat.diff(cat.start_draft(manager), v1) == []


def test_a_first_draft_adds_everything(db, manager):
    draft = cat.start_draft(manager)
    cat.add_item(draft, item_input_without_list(db))
    assert [c.kind for c in cat.diff(draft, None)] == ["added"]


# ---- categories and search -----------------------------------------------------------------------

def test_add_category(db):
    first = cat.add_category(" Cleaning ", "家政保洁", "Cleaning")
    assert first.code == "cleaning"
    with pytest.raises(DomainError) as caught:
        cat.add_category("cleaning", "保洁", "")
    assert caught.value.field == "code"
    with pytest.raises(DomainError) as caught:
        cat.add_category("new", "  ", "")
    assert caught.value.field == "name_zh"
    with pytest.raises(DomainError) as caught:
        cat.add_category("a b", "x", "")
    assert caught.value.field == "code"


def test_search_items_by_chinese_or_english_name(db, v1):
    assert [i.name_zh for i in cat.search_items(v1, "水龙头")] == ["换水暖件(水龙头)"]
    assert [i.name_zh for i in cat.search_items(v1, "DRAIN")] == ["疏通下水"]
    assert len(cat.search_items(v1, "")) == 4


def test_grouped_keeps_categories_in_their_order(db, manager, v1):
    doors = factories.category(code="doors", zh="门窗类", en="Doors")
    draft = cat.start_draft(manager)
    cat.add_item(draft, item_input(v1, category_id=doors.id, name_zh="换锁"))
    groups = cat.grouped(draft)
    assert [c.code for c, _ in groups] == [v1.items[0].category.code, "doors"]
    assert [i.name_zh for i in groups[1][1]] == ["换锁"]


# ---- frozen versions and races, enforced below the services ------------------------------------

def test_an_approved_item_cannot_be_changed_even_bypassing_the_services(db):
    from app.models.catalogue import FrozenPriceList
    manager = factories.user("manager")
    v1 = factories.price_list(manager, number=1)
    db.session.commit()
    v1.items[0].price_min_fen = 1
    with pytest.raises(FrozenPriceList):
        db.session.flush()
    db.session.rollback()
    db.session.delete(v1.items[0])
    with pytest.raises(FrozenPriceList):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(type(v1), v1.id).items[0].price_min_fen == 3000


def test_the_database_refuses_a_second_open_draft(db):
    """Two supervisors pressing 'open a draft' at once: the unique draft lock keeps one."""
    from app.models import ListStatus, PriceList
    manager = factories.user("manager")
    factories.price_list(manager, number=1)
    db.session.add(PriceList(status=ListStatus.DRAFT, draft_lock=True, created_by=manager))
    db.session.commit()
    from sqlalchemy.exc import IntegrityError
    db.session.add(PriceList(status=ListStatus.DRAFT, draft_lock=True, created_by=manager))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_approving_frees_the_draft_lock_for_the_next_draft(db):
    manager = factories.user("manager")
    factories.price_list(manager, number=1)
    draft = cat.start_draft(manager)
    cat.approve(draft, clock.local_today(), manager)
    db.session.commit()
    assert draft.draft_lock is None
    assert cat.start_draft(manager).draft_lock is True


def test_an_item_change_after_approval_elsewhere_is_refused_and_the_version_stays(real_db, app, db):
    """This request loaded the draft; meanwhile the manager approved it in another request.
    The change must not reach the approved version (on SQLite the database may refuse the
    stale writer itself, which the views turn into the same 'saved meanwhile' message)."""
    from sqlalchemy.exc import OperationalError

    from app.models import User
    from app.web.forms import is_write_clash
    manager = factories.user("manager")
    factories.price_list(manager, number=1)
    draft = cat.start_draft(manager)
    db.session.commit()
    item = draft.items[0]
    assert item.price_list.is_draft  # as this request saw it
    with app.app_context():  # another request, its own session
        cat.approve(cat.current_draft(), clock.local_today(), db.session.get(User, manager.id))
        db.session.commit()
    data = ItemInput(category_id=item.category_id, name_zh=item.name_zh, name_en=item.name_en,
                     unit=item.unit, price_min_fen=99900, price_max_fen=99900,
                     by_workload=False, free=False, department=item.department)
    with pytest.raises((Conflict, OperationalError)) as caught:
        cat.update_item(item, data)
    assert isinstance(caught.value, Conflict) or is_write_clash(caught.value)
    db.session.rollback()
    approved = db.session.scalar(select(PriceList).where(PriceList.number == 2))
    assert [i.price_min_fen for i in approved.items if i.code == item.code] == [3000]
