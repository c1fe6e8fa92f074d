"""The reception log's service: what a contact needs, when it closes, how the log is searched."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.domain.errors import DomainError
from app.models import AuditEvent
from app.models.reception import ReceptionEntry
from app.services import clock, live, reception
from app.services import slips as svc
from app.services.reception import Contact, LogFilter
from tests import factories
from tests.moments import at


@pytest.fixture
def desk(db):
    clerk = factories.user("clerk")
    unit = factories.unit("3", 2, "1502")
    resident = factories.resident(unit, "张伟", phone="13800001111", notes="家有大型犬")
    other = factories.resident(factories.unit("5", 1, "101"), "李娜", phone="13900002222")
    db.session.flush()
    return {"clerk": clerk, "unit": unit, "resident": resident, "other": other}


def entries(db) -> int:
    return db.session.scalar(select(func.count()).select_from(ReceptionEntry))


def contact(desk, **kw) -> Contact:
    base = {"channel": "phone", "kind": "paid", "request": "厨房水龙头漏水", "unit": desk["unit"],
            "resident": desk["resident"]}
    return Contact(**{**base, **kw})


def test_a_call_is_logged_with_who_took_it_and_the_residents_name_and_phone(desk, db):
    entry = reception.log_contact(contact(desk, urgent=True), desk["clerk"])
    assert entry.taken_by is desk["clerk"] and entry.at is not None
    assert (entry.caller_name, entry.caller_phone) == ("张伟", "13800001111")
    assert entry.urgent and entry.kind == "paid" and entry.channel == "phone"
    assert not entry.is_closed  # a job stays open until its slip is opened


def test_a_caller_who_gives_their_own_name_keeps_it(desk):
    entry = reception.log_contact(contact(desk, caller_name=" 张伟的儿子 ", caller_phone="139"),
                                  desk["clerk"])
    assert (entry.caller_name, entry.caller_phone) == ("张伟的儿子", "139")


def test_an_enquiry_answered_on_the_spot_is_closed(desk):
    entry = reception.log_contact(contact(desk, kind="enquiry", request="物业费怎么交？",
                                          answer="前台现金或微信"), desk["clerk"])
    assert entry.is_closed and entry.answer == "前台现金或微信"


def test_an_enquiry_without_an_answer_waits_and_is_closed_later(desk):
    entry = reception.log_contact(contact(desk, kind="enquiry", request="电梯何时修好？"),
                                  desk["clerk"])
    assert not entry.is_closed
    reception.close(entry, "  明天中午前  ")
    assert entry.is_closed and entry.answer == "明天中午前"
    with pytest.raises(DomainError) as err:
        reception.close(entry, "again")
    assert "already closed" in str(err.value.message)


def test_closing_needs_the_answer(desk):
    entry = reception.log_contact(contact(desk, kind="complaint", request="噪音"), desk["clerk"])
    with pytest.raises(DomainError) as err:
        reception.close(entry, "   ")
    assert err.value.field == "answer"
    assert not entry.is_closed


def test_an_enquiry_or_complaint_may_come_without_a_unit(desk):
    entry = reception.log_contact(contact(desk, kind="complaint", unit=None, resident=None,
                                          caller_name="路人", request="门口垃圾"), desk["clerk"])
    assert entry.unit is None and entry.caller_name == "路人"


@pytest.mark.parametrize("change, field", [
    ({"channel": "fax"}, "channel"),
    ({"kind": "gossip"}, "kind"),
    ({"request": "   "}, "request"),
    ({"unit": None, "resident": None}, "unit_id"),                 # a paid job needs its unit
    ({"kind": "free_repair", "unit": None, "resident": None}, "unit_id"),
    ({"resident": "other"}, "resident_id"),                         # lives elsewhere
])
def test_a_contact_that_breaks_a_rule_is_refused_on_its_field_and_not_logged(desk, db, change,
                                                                              field):
    if change.get("resident") == "other":
        change = {"resident": desk["other"]}
    with pytest.raises(DomainError) as err:
        reception.log_contact(contact(desk, **change), desk["clerk"])
    assert err.value.field == field
    assert entries(db) == 0


def test_logging_is_audited_and_tells_open_screens(desk, db):
    before = live.current()
    entry = reception.log_contact(contact(desk), desk["clerk"])
    assert live.current() == before + 1
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "reception.log"))
    assert event.entity_id == entry.id and event.summary == "3栋2单元1502"


def test_opening_a_slip_closes_the_entry_and_fills_its_follow_up(desk, db):
    entry = reception.log_contact(contact(desk), desk["clerk"])
    pl = factories.price_list(desk["clerk"])
    slip = svc.open_slip(svc.SlipRequest(unit=desk["unit"], resident=desk["resident"],
                                         lines=[svc.LineRequest(pl.items[0].id)],
                                         reception=entry), desk["clerk"], pl)
    db.session.flush()
    assert entry.is_closed
    found, _more = reception.search(LogFilter())
    assert [s.number for s in found[0].slips] == [slip.number]


def _at(entry_kw, when: datetime, desk, db, clerk=None) -> ReceptionEntry:
    with clock.at(when):
        entry = reception.log_contact(contact(desk, **entry_kw), clerk or desk["clerk"])
        db.session.flush()
    return entry


def test_the_log_is_searched_by_day_in_the_propertys_time_zone(desk, db):
    # 01:30 in Shanghai is 17:30 UTC on the day before: the log follows Shanghai's day
    day = clock.local_today() - timedelta(days=12)
    late = _at({}, at(day + timedelta(days=1), 1, 30), desk, db)
    early = _at({}, at(day, 23, 30), desk, db)
    assert late.at.astimezone(UTC).date() == day  # UTC would put it on the earlier day
    on_next, _ = reception.search(LogFilter(day=day + timedelta(days=1)))
    on_day, _ = reception.search(LogFilter(day=day))
    assert on_next == [late] and on_day == [early]


def test_the_log_is_filtered_by_kind_and_clerk_newest_first(desk, db):
    second = factories.user("clerk")
    day = clock.local_today() - timedelta(days=3)
    a = _at({"kind": "enquiry", "answer": "好"}, at(day, 9), desk, db)
    b = _at({}, at(day, 10), desk, db, clerk=second)
    c = _at({"kind": "complaint"}, at(day, 11), desk, db)
    assert reception.search(LogFilter())[0] == [c, b, a]
    assert reception.search(LogFilter(kind="enquiry"))[0] == [a]
    assert reception.search(LogFilter(clerk_id=second.id))[0] == [b]
    assert reception.search(LogFilter(kind="paid", clerk_id=desk["clerk"].id))[0] == []


def test_the_log_is_paged(desk, db):
    made = [reception.log_contact(contact(desk, request=f"第{i}次"), desk["clerk"])
            for i in range(5)]
    first, more = reception.search(LogFilter(), page=1, per_page=2)
    last, no_more = reception.search(LogFilter(), page=3, per_page=2)
    assert first == made[:-3:-1] and more
    assert last == [made[0]] and not no_more
