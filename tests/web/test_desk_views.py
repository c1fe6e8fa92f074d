"""The clerk's front desk as the clerk uses it: log a contact, open its slip, watch the slips.

Every bad input gets its message next to the field, a 422, and nothing saved (no entry, no
resident, no slip, no slip number taken). A supervisor may work the desk too (the SOP's
主管 talks a call through there); the manager only reads the log; others get 403.
"""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from app.models import Resident
from app.models.counters import NumberSequence
from app.models.reception import ReceptionEntry
from app.models.slips import Slip
from app.services import clock, reception
from app.services import slips as svc
from tests import factories
from tests.moments import at, tomorrow
from tests.web.pages import (
    chinese,
    field_errors,
    flashes,
    form_alerts,
    grab,
    html_lang,
    in_chinese,
    text,
)

HX = {"HX-Request": "true"}
WINDOW_BACKWARDS = ("The time window must end after it starts (past midnight: tick “ends the "
                    "next day”).")
HUGE = "9" * 25

ITEMS = (("疏通下水", "Unclog a drain", "次", 3000, 3000, False, False),          # fixed
         ("换水暖件(水龙头)", "Replace a tap", "个", 1000, 3000, False, False),   # range
         ("换管", "Replace a pipe", "次", 1000, 100000, True, False),             # workload guide
         ("疏通化粪池", "Septic tank", "次", None, None, True, False),            # workload
         ("公共部位报修", "Common-area repair", "次", 0, 0, False, True))          # free


def count(db, model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def sequences(db) -> list[tuple[str, int]]:
    db.session.expire_all()
    return [tuple(r) for r in db.session.execute(
        select(NumberSequence.series, NumberSequence.last).order_by(NumberSequence.series))]


@pytest.fixture
def clerk(login_as):
    return login_as("clerk")


@pytest.fixture
def desk(clerk, db):
    unit = factories.unit("3", 2, "1502")
    owner = factories.resident(unit, "张伟", "owner", "13800001111",
                               notes="家有大型犬，入户前请先电话")
    tenant = factories.resident(unit, "李娜", "tenant", "13900002222")
    elsewhere = factories.resident(factories.unit("5", 1, "101"), "王五", phone="13700003333")
    pl = factories.price_list(clerk.user, items=ITEMS)
    db.session.commit()
    items = {i.name_en: i for i in pl.items}
    return {"unit": unit, "owner": owner, "tenant": tenant, "elsewhere": elsewhere, "pl": pl,
            "fixed": items["Unclog a drain"], "range": items["Replace a tap"],
            "guide": items["Replace a pipe"], "workload": items["Septic tank"],
            "free": items["Common-area repair"]}


def contact_data(desk, **kw) -> dict:
    return {"unit_id": str(desk["unit"].id), "resident_id": str(desk["owner"].id),
            "channel": "phone", "kind": "paid", "request": "厨房水龙头漏水", **kw}


def log_entry(desk, clerk, db, **kw) -> ReceptionEntry:
    data = {"channel": "phone", "kind": "paid", "request": "厨房水龙头漏水",
            "unit": desk["unit"], "resident": desk["owner"], **kw}
    entry = reception.log_contact(reception.Contact(**data), clerk.user)
    db.session.commit()
    return entry


def slip_data(*lines, **kw) -> dict:
    """lines: (item, quantity, price) → the slip form's fields; a sensible window by default."""
    data = {"window_date": tomorrow().isoformat(), "window_start": "10:00", "window_end": "12:00",
            "request": "厨房水龙头漏水", "notes": "家有大型犬", "contact_name": "张伟",
            "contact_phone": "13800001111"}
    for i, (item, qty, price) in enumerate(lines):
        data[f"lines-{i}-item_id"] = str(item.id) if hasattr(item, "id") else str(item)
        data[f"lines-{i}-quantity"] = str(qty)
        if price is not None:
            data[f"lines-{i}-price"] = str(price)
    return {**data, **kw}


# ---- the desk home and the finder ------------------------------------------------------------

def test_the_desk_opens_on_the_finder_with_todays_contacts_live(clerk, desk, db):
    log_entry(desk, clerk, db, kind="enquiry", request="物业费怎么交？", answer="前台微信")
    resp = clerk.get("/desk/")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert 'id="find-q"' in body and "autofocus" in body.split('id="find-q"')[1].split(">")[0]
    assert 'data-live="/live/" data-live-stamp="' in body  # the change counter it was drawn at
    assert "物业费怎么交？" in text(resp) and "Closed" in text(resp)
    today = grab(resp, lambda tag, a: a.get("id") == "today-log")[0]
    assert "Today's contacts" in today
    # the quote box from the price list in force stays beside the form
    assert "Quote a price" in text(resp)


def test_the_finder_lists_units_that_pick_the_contacts_unit(clerk, desk):
    resp = clerk.get("/desk/units", query_string={"q": "3-2-15"}, headers=HX)
    assert resp.status_code == 200
    assert grab(resp, lambda t, a: "unit-label" in a.get("class", "")) == ["3栋2单元1502"]
    assert f'hx-get="/desk/pick?unit_id={desk["unit"].id}"' in resp.get_data(as_text=True)
    assert "13800001111" in text(resp) and "⚑" in text(resp)  # the note flag is visible


def test_enter_picks_the_first_match_and_offers_its_residents(clerk, desk):
    resp = clerk.get("/desk/pick", query_string={"q": "3-2-1502"}, headers=HX)
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    box = body.split('id="contact-unit"')[1]
    assert 'hx-swap-oob="true"' in box.split(">")[0]
    assert f'name="unit_id" type="hidden" value="{desk["unit"].id}"' in box
    # the owner is chosen and focused, the tenant offered, or someone new
    radios = grab(resp, lambda t, a: t == "label" and "choice" in a.get("class", ""))
    assert radios[0].startswith("张伟") and radios[1].startswith("李娜")
    assert f'value="{desk["owner"].id}" checked autofocus' in box
    assert "add them to this unit" in text(resp)
    assert grab(resp, lambda t, a: a.get("id") == "matches") == [""]  # the list is cleared


def test_enter_on_a_phone_number_chooses_the_resident_it_belongs_to(clerk, desk):
    resp = clerk.get("/desk/pick", query_string={"q": "13900002222"}, headers=HX)
    assert resp.status_code == 200
    assert f'value="{desk["tenant"].id}" checked autofocus' in resp.get_data(as_text=True)


def test_a_click_on_a_match_picks_that_unit(clerk, desk):
    resp = clerk.get("/desk/pick", query_string={"unit_id": desk["unit"].id}, headers=HX)
    assert resp.status_code == 200 and "3栋2单元1502" in text(resp)


def test_an_unknown_unit_is_said_under_the_finder(clerk, desk):
    resp = clerk.get("/desk/pick", query_string={"q": "9-9-9999"}, headers=HX)
    assert resp.status_code == 422
    assert field_errors(resp, "find-q") == [
        "No unit matches “9-9-9999”. Try the unit number (3-2-1502), a name or a phone."]
    assert "contact-unit" not in resp.get_data(as_text=True)


def test_without_javascript_a_pick_reloads_the_desk_with_the_unit(clerk, desk):
    resp = clerk.get("/desk/pick", query_string={"q": "3-2-1502"})
    assert resp.status_code == 302 and resp.headers["Location"] == f"/desk/?unit={desk['unit'].id}"
    page = clerk.get(resp.headers["Location"])
    assert page.status_code == 200 and "3栋2单元1502" in text(page)


# ---- logging a contact -----------------------------------------------------------------------

def test_a_paid_call_is_logged_and_goes_straight_to_its_slip(clerk, desk, db):
    resp = clerk.post("/desk/contacts", data=contact_data(desk, urgent="y", channel="walk_in"))
    entry = db.session.scalar(select(ReceptionEntry))
    assert resp.status_code == 302
    assert resp.headers["Location"] == f"/desk/contacts/{entry.id}/slip"
    assert (entry.kind, entry.channel, entry.urgent) == ("paid", "walk_in", True)
    assert entry.resident_id == desk["owner"].id and entry.caller_phone == "13800001111"
    assert entry.taken_by_id == clerk.user.id and not entry.is_closed


def test_an_enquiry_answered_on_the_spot_is_closed_and_shows_in_todays_contacts(clerk, desk, db):
    resp = clerk.post("/desk/contacts", data=contact_data(
        desk, kind="enquiry", request="物业费怎么交？", answer="前台现金或微信"),
        follow_redirects=True)
    assert resp.status_code == 200 and resp.request.path == "/desk/"
    assert flashes(resp) == ["Logged: Enquiry."]
    entry = db.session.scalar(select(ReceptionEntry))
    assert entry.is_closed and entry.answer == "前台现金或微信"
    today = grab(resp, lambda tag, a: a.get("id") == "today-log")[0]
    assert "物业费怎么交？" in today and "Closed" in today


def test_an_answer_is_kept_only_for_an_enquiry(clerk, desk, db):
    clerk.post("/desk/contacts", data=contact_data(desk, kind="complaint", request="楼上漏水",
                                                   answer="不该留"))
    entry = db.session.scalar(select(ReceptionEntry))
    assert entry.answer == "" and not entry.is_closed


def test_an_open_enquiry_is_answered_later_from_the_log(clerk, desk, db):
    entry = log_entry(desk, clerk, db, kind="enquiry", request="电梯何时修好？")
    log = clerk.get("/desk/log")
    assert f'href="/desk/contacts/{entry.id}"' in log.get_data(as_text=True)
    page = clerk.get(f"/desk/contacts/{entry.id}")
    assert page.status_code == 200 and "电梯何时修好？" in text(page)
    empty = clerk.post(f"/desk/contacts/{entry.id}/answer", data={"answer": " "})
    assert empty.status_code == 422
    assert field_errors(empty, "answer") == ["Write down the answer given."]
    resp = clerk.post(f"/desk/contacts/{entry.id}/answer", data={"answer": "明天中午前"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(ReceptionEntry, entry.id).answer == "明天中午前"
    again = clerk.post(f"/desk/contacts/{entry.id}/answer", data={"answer": "再答一次"})
    assert again.status_code == 422 and form_alerts(again) == ["This contact is already closed."]


def test_a_caller_not_on_file_is_added_to_the_unit_on_the_spot(clerk, desk, db):
    resp = clerk.post("/desk/contacts", data=contact_data(
        desk, resident_id="new", new_name="赵六", new_kind="tenant", new_phone="13600004444",
        new_notes="对花粉过敏"))
    assert resp.status_code == 302
    added = db.session.scalar(select(Resident).where(Resident.name == "赵六"))
    assert (added.unit_id, added.kind, added.phone, added.notes) == \
        (desk["unit"].id, "tenant", "13600004444", "对花粉过敏")
    entry = db.session.scalar(select(ReceptionEntry))
    assert entry.resident_id == added.id and entry.caller_name == "赵六"


def test_a_caller_who_is_no_resident_is_logged_by_name(clerk, desk, db):
    resp = clerk.post("/desk/contacts", data=contact_data(
        desk, resident_id="", caller_name="快递员", caller_phone="13500005555"))
    assert resp.status_code == 302
    entry = db.session.scalar(select(ReceptionEntry))
    assert entry.resident_id is None and (entry.caller_name, entry.caller_phone) == \
        ("快递员", "13500005555")


def test_a_complaint_may_come_without_a_unit(clerk, desk, db):
    resp = clerk.post("/desk/contacts", data={"channel": "other", "kind": "complaint",
                                              "request": "小区门口垃圾没清", "caller_name": "路人"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/desk/"
    assert db.session.scalar(select(ReceptionEntry)).unit_id is None


@pytest.mark.parametrize("change, field, message", [
    ({"request": "  "}, "request", "Write down what they asked."),
    ({"kind": "enquiry", "request": ""}, "request", "Write down what they asked."),
    ({"unit_id": "987654"}, "unit_id",
     "No such unit. Find it again by its number, a name or a phone."),
    ({"unit_id": HUGE}, "unit_id", "Choose the unit from the list."),
    ({"unit_id": "", "resident_id": ""}, "unit_id", "A job needs the unit it is for."),
    ({"kind": "free_repair", "unit_id": "", "resident_id": ""}, "unit_id",
     "A job needs the unit it is for."),
    ({"resident_id": "elsewhere"}, "resident_id", "Choose a resident of this unit."),
    ({"resident_id": "abc"}, "resident_id", "Choose a resident of this unit."),
    ({"resident_id": "new", "new_name": ""}, "new_name", "Enter the resident's name."),
    ({"resident_id": "new", "new_name": "赵六", "new_phone": "call me"}, "new_phone",
     "This does not look like a phone number."),
    ({"resident_id": "new", "new_name": "张伟"}, "new_name",
     "张伟 is already recorded at this unit."),
    ({"channel": "fax"}, "channel", "Choose how they contacted us."),
    ({"kind": ""}, "kind", "Choose what kind of contact this is."),
    ({"request": "x" * 2001}, "request", "At most 2000 characters."),
    ({"caller_name": "名" * 41, "resident_id": ""}, "caller_name", "At most 40 characters."),
])
def test_a_contact_with_bad_input_is_refused_next_to_the_field_and_nothing_is_saved(
        clerk, desk, db, change, field, message):
    if change.get("resident_id") == "elsewhere":
        change = {**change, "resident_id": str(desk["elsewhere"].id)}
    residents = count(db, Resident)
    resp = clerk.post("/desk/contacts", data=contact_data(desk, **change))
    assert resp.status_code == 422
    assert field_errors(resp, field) == [message]
    assert count(db, ReceptionEntry) == 0 and count(db, Resident) == residents
    # what was typed is still there to correct
    assert "厨房水龙头漏水" in resp.get_data(as_text=True) or change.get("request") is not None


def test_every_mistake_in_a_contact_shows_on_one_submit(clerk, desk, db):
    resp = clerk.post("/desk/contacts", data=contact_data(
        desk, request="", resident_id="new", new_name="", new_phone="call me"))
    assert resp.status_code == 422
    assert field_errors(resp, "request") == ["Write down what they asked."]
    assert field_errors(resp, "new_name") == ["Enter the resident's name."]
    assert field_errors(resp, "new_phone") == ["This does not look like a phone number."]
    assert count(db, ReceptionEntry) == 0


def test_a_refused_contact_keeps_the_chosen_unit_and_someone_new_open(clerk, desk):
    resp = clerk.post("/desk/contacts", data=contact_data(desk, resident_id="new", new_name=""))
    body = resp.get_data(as_text=True)
    assert "3栋2单元1502" in text(resp)
    assert 'value="new" id="resident-new" checked' in body


# ---- the reception log -------------------------------------------------------------------------

def _entry_at(desk, clerk, db, when: datetime, **kw) -> ReceptionEntry:
    entry = log_entry(desk, clerk, db, **kw)
    entry.at = when
    db.session.commit()
    return entry


def test_the_log_is_filtered_by_day_in_the_propertys_time_zone_kind_and_clerk(clerk, desk, db,
                                                                               login_as):
    other = login_as("clerk")
    # a day a year back and the day after; 01:30 in Shanghai is 17:30 UTC on the day before
    first = clock.local_today() - timedelta(days=365)
    second = first + timedelta(days=1)
    _entry_at(desk, clerk, db, at(first, 16), request="白天咨询", kind="enquiry", answer="好")
    _entry_at(desk, clerk, db, at(second, 1, 30), request="深夜停电")
    _entry_at(desk, other, db, at(second, 11), request="另一位接的", kind="complaint")

    def asked(**query):
        resp = clerk.get("/desk/log", query_string=query)
        assert resp.status_code == 200
        return grab(resp, lambda t, a: t == "td" and "asked" in a.get("class", ""))

    assert asked(day=second.isoformat()) == ["另一位接的", "深夜停电"]  # newest first
    assert asked(day=first.isoformat()) == ["白天咨询↳ 好"]
    assert asked(day=second.isoformat(), kind="paid") == ["深夜停电"]
    assert asked(day="", clerk=str(other.user.id)) == ["另一位接的"]
    assert asked(day="") == ["另一位接的", "深夜停电", "白天咨询↳ 好"]
    assert asked() == []  # today by default: nothing logged today


def test_the_log_is_paged(clerk, desk, db):
    for i in range(51):
        reception.log_contact(reception.Contact("phone", "enquiry", f"问题{i}", unit=desk["unit"]),
                              clerk.user)
    db.session.commit()
    first = clerk.get("/desk/log")
    assert len(grab(first, lambda t, a: t == "td" and "asked" in a.get("class", ""))) == 50
    assert "/desk/log?page=2" in first.get_data(as_text=True)
    second = clerk.get("/desk/log?page=2")
    assert grab(second, lambda t, a: t == "td" and "asked" in a.get("class", "")) == ["问题0"]


def test_the_follow_up_column_links_to_the_slip_the_contact_led_to(clerk, desk, db):
    entry = log_entry(desk, clerk, db)
    before = clerk.get("/desk/log").get_data(as_text=True)
    assert f'href="/desk/contacts/{entry.id}/slip"' in before  # not opened yet: offered
    clerk.post(f"/desk/contacts/{entry.id}/slip", data=slip_data((desk["fixed"], 1, None)))
    number = db.session.scalar(select(Slip.number))
    after = clerk.get("/desk/log")
    follow = grab(after, lambda t, a: t == "td" and "follow-up" in a.get("class", ""))
    assert follow == [f"{number} Registered"]
    assert f'href="/slips/{number}"' in after.get_data(as_text=True)


def test_the_log_and_todays_contacts_refresh_themselves_live(clerk, desk, db):
    for url, root in (("/desk/log?day=", "reception-log"), ("/desk/today", "today-log")):
        resp = clerk.get(url, headers=HX)
        body = resp.get_data(as_text=True)
        assert resp.status_code == 200 and "<html" not in body
        head = body.split(f'id="{root}"')[1].split(">")[0]
        assert 'hx-trigger="live-changed from:body"' in head and 'hx-swap="outerHTML"' in head
    assert 'data-live="/live/"' in clerk.get("/desk/log").get_data(as_text=True)


# ---- opening a slip --------------------------------------------------------------------------

def test_the_slip_form_starts_from_what_the_desk_logged(clerk, desk, db):
    entry = log_entry(desk, clerk, db, urgent=True)
    resp = clerk.get(f"/desk/contacts/{entry.id}/slip")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert "autofocus" in body.split('id="item-q"')[1].split(">")[0]
    assert "家有大型犬，入户前请先电话</textarea>" in body  # the resident's notes
    assert "厨房水龙头漏水</textarea>" in body
    assert 'id="urgent" name="urgent" type="checkbox" value="y"' in body
    assert body.split('id="urgent"')[0].endswith("checked ")
    assert 'name="free" type="checkbox"' in body and "checked id=\"free\"" not in body
    assert 'value="张伟"' in body and 'value="13800001111"' in body
    assert 'name="window_date" type="date" value="20' in body
    assert f"Version 1, in force since {desk['pl'].effective_date.isoformat()}." in text(resp)


def test_an_urgent_call_in_the_night_is_booked_from_now_past_midnight(clerk, desk, db, frozen):
    night = frozen.to(at(tomorrow(), 23, 40))
    entry = log_entry(desk, clerk, db, urgent=True, request="水管爆裂")
    body = clerk.get(f"/desk/contacts/{entry.id}/slip").get_data(as_text=True)
    assert f'name="window_date" type="date" value="{night.date().isoformat()}"' in body
    assert 'name="window_start" type="time" value="23:40"' in body
    assert 'name="window_end" type="time" value="01:40"' in body
    assert body.split('id="window_next_day"')[0].endswith("checked ")
    resp = clerk.post(f"/desk/contacts/{entry.id}/slip", data=slip_data(
        (desk["fixed"], 1, None), urgent="y", window_date=night.date().isoformat(),
        window_start="23:40", window_end="01:40", window_next_day="y"))
    assert resp.status_code == 302
    slip = db.session.scalar(select(Slip))
    assert slip.window_end - slip.window_start == timedelta(hours=2)
    assert slip.window_end.astimezone(clock.zone()).date() == night.date() + timedelta(days=1)
    assert slip.due_at == night + timedelta(minutes=30)  # urgent: a worker within 30 minutes


def test_a_free_repair_starts_as_a_free_slip(clerk, desk, db):
    entry = log_entry(desk, clerk, db, kind="free_repair")
    body = clerk.get(f"/desk/contacts/{entry.id}/slip").get_data(as_text=True)
    assert 'checked id="free" name="free"' in body


def test_items_are_found_as_the_clerk_types(clerk, desk, db):
    entry = log_entry(desk, clerk, db)
    resp = clerk.get(f"/desk/contacts/{entry.id}/slip/items", query_string={"q": "水龙"},
                     headers=HX)
    hits = grab(resp, lambda t, a: t == "button" and "hit" in a.get("class", ""))
    assert len(hits) == 1 and hits[0].startswith("换水暖件(水龙头)") and "¥10–30" in hits[0]
    none = clerk.get(f"/desk/contacts/{entry.id}/slip/items", query_string={"q": "钢琴"})
    assert "Nothing on the price list matches “钢琴”." in text(none)


def test_enter_adds_the_first_match_at_its_list_price_and_focuses_its_quantity(clerk, desk, db):
    entry = log_entry(desk, clerk, db)
    resp = clerk.get(f"/desk/contacts/{entry.id}/slip/lines", query_string={"q": "tap"},
                     headers=HX)
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert f'name="lines-0-item_id" type="hidden" value="{desk["range"].id}"' in body
    qty = body.split('id="lines-0-quantity"')[0].rsplit("<input", 1)[1] + \
        body.split('id="lines-0-quantity"')[1].split(">")[0]
    assert "autofocus" in qty and 'value="1"' in qty
    assert ('name="lines-0-price"' in body
            and 'value="10"' in body.split('name="lines-0-price"')[1][:200])
    assert "¥10.00" in grab(resp, lambda t, a: a.get("id") == "slip-total")[0]
    # the search box comes back empty, the lines arrive out of band
    assert 'id="item-q"' in body and 'hx-swap-oob="true"' in body.split('id="slip-lines"')[1][:200]


def test_lines_are_added_by_choice_and_removed(clerk, desk, db):
    entry = log_entry(desk, clerk, db)
    url = f"/desk/contacts/{entry.id}/slip/lines"
    two = clerk.get(url, query_string={**slip_data((desk["range"], 2, "20")),
                                       "add": str(desk["fixed"].id)}, headers=HX)
    assert grab(two, lambda t, a: a.get("id") == "slip-total") == ["¥70.00"]
    body = two.get_data(as_text=True)
    assert f'name="lines-1-item_id" type="hidden" value="{desk["fixed"].id}"' in body
    assert 'name="lines-1-price"' not in body  # a fixed item takes the list price
    one = clerk.get(url, query_string={
        **slip_data((desk["range"], 2, "20"), (desk["fixed"], 1, None)), "remove": "0"},
        headers=HX)
    body = one.get_data(as_text=True)
    assert f'name="lines-0-item_id" type="hidden" value="{desk["fixed"].id}"' in body
    assert "lines-1-item_id" not in body
    assert grab(one, lambda t, a: a.get("id") == "slip-total") == ["¥30.00"]


def test_enter_on_a_search_that_matches_nothing_says_so(clerk, desk, db):
    entry = log_entry(desk, clerk, db)
    resp = clerk.get(f"/desk/contacts/{entry.id}/slip/lines", query_string={"q": "钢琴"},
                     headers=HX)
    assert resp.status_code == 422
    assert field_errors(resp, "item-q") == ["Nothing on the price list matches “钢琴”."]
    empty = clerk.get(f"/desk/contacts/{entry.id}/slip/lines", query_string={"q": ""}, headers=HX)
    assert empty.status_code == 204


def quote(clerk, entry, *lines, **kw):
    resp = clerk.get(f"/desk/contacts/{entry.id}/slip/quote",
                     query_string=slip_data(*lines, **kw), headers=HX)
    assert resp.status_code == 200
    return resp


def note(resp, i=0) -> str:
    return grab(resp, lambda t, a: a.get("id") == f"line-{i}-note")[0]


def test_the_live_quote_marks_a_price_outside_the_range_before_saving(clerk, desk, db):
    entry = log_entry(desk, clerk, db)
    inside = quote(clerk, entry, (desk["range"], 2, "25"))
    assert (note(inside) == ""
            and grab(inside, lambda t, a: a.get("id") == "slip-total") == ["¥50.00"])
    outside = quote(clerk, entry, (desk["range"], 2, "50"))
    assert note(outside) == "⚠ Needs supervisor approval outside the list price ¥10–30"
    assert grab(outside, lambda t, a: a.get("id") == "slip-total") == ["¥100.00"]
    assert grab(outside, lambda t, a: a.get("id") == "slip-approval") == [
        "⚠ 1 price needs a supervisor's approval before the work."]
    # only ids swapped out of band: the inputs being typed in are not replaced
    body = outside.get_data(as_text=True)
    assert "<input" not in body and body.count('hx-swap-oob="true"') == 4


def test_a_workload_item_is_marked_for_approval_and_a_fixed_one_keeps_its_price(clerk, desk, db):
    entry = log_entry(desk, clerk, db)
    resp = quote(clerk, entry, (desk["workload"], 1, "300"), (desk["fixed"], 2, "1"),
                 (desk["guide"], 1, "200"))
    assert "Needs supervisor approval" in note(resp, 0) and "priced by workload" in note(resp, 0)
    assert note(resp, 1) == "" and note(resp, 2) == ""
    assert grab(resp, lambda t, a: a.get("id") == "line-1-amount") == ["¥60.00"]
    assert grab(resp, lambda t, a: a.get("id") == "slip-total") == ["¥560.00"]


def test_a_free_slip_quotes_zero_and_needs_no_approval(clerk, desk, db):
    entry = log_entry(desk, clerk, db)
    resp = quote(clerk, entry, (desk["range"], 2, "50"), free="y")
    assert (note(resp) == ""
            and grab(resp, lambda t, a: a.get("id") == "slip-total") == ["¥0.00 Free"])


def test_the_live_quote_shows_a_bad_quantity_or_price_at_once(clerk, desk, db):
    entry = log_entry(desk, clerk, db)
    resp = quote(clerk, entry, (desk["range"], 0, "abc"))
    assert field_errors(resp, "lines-0-quantity") == ["Quantity must be between 1 and 999."]
    assert field_errors(resp, "lines-0-price") == ["Enter an amount in yuan, e.g. 30 or 12.50."]
    assert grab(resp, lambda t, a: a.get("id") == "slip-total") == ["—"]


def test_a_paid_slip_is_opened_with_its_prices_window_and_notes(clerk, desk, db):
    entry = log_entry(desk, clerk, db, urgent=True)
    resp = clerk.post(f"/desk/contacts/{entry.id}/slip", data=slip_data(
        (desk["range"], 2, "25"), (desk["guide"], 1, "2000"), (desk["fixed"], 1, None),
        urgent="y"))
    slip = db.session.scalar(select(Slip))
    assert resp.status_code == 302 and resp.headers["Location"] == f"/slips/{slip.number}"
    assert [(line.name_zh, line.quantity, line.unit_price_fen, line.needs_approval)
            for line in slip.lines] == [("换水暖件(水龙头)", 2, 2500, False),
                                        ("换管", 1, 200000, True), ("疏通下水", 1, 3000, False)]
    assert slip.quoted_total_fen == 5000 + 200000 + 3000
    assert slip.price_list_id == desk["pl"].id and slip.reception_id == entry.id
    # 10:00–12:00 in Shanghai is 02:00–04:00 UTC
    day = tomorrow()
    assert slip.window_start == datetime.combine(day, time(2), UTC)
    assert slip.window_end == datetime.combine(day, time(4), UTC)
    assert (slip.notes, slip.urgent, slip.free) == ("家有大型犬", True, False)
    assert (slip.contact_name, slip.resident_id) == ("张伟", desk["owner"].id)
    db.session.expire_all()
    assert db.session.get(ReceptionEntry, entry.id).is_closed
    page = clerk.get(resp.headers["Location"])
    assert page.status_code == 200 and f"Slip {slip.number} opened." in flashes(page)


def test_a_free_repair_gets_a_slip_at_zero(clerk, desk, db):
    entry = log_entry(desk, clerk, db, kind="free_repair")
    resp = clerk.post(f"/desk/contacts/{entry.id}/slip",
                      data=slip_data((desk["range"], 1, "25"), (desk["free"], 1, None), free="y"))
    assert resp.status_code == 302
    slip = db.session.scalar(select(Slip))
    assert slip.free and slip.quoted_total_fen == 0 and not slip.needs_approval


def test_a_slip_without_a_window_is_allowed(clerk, desk, db):
    entry = log_entry(desk, clerk, db)
    resp = clerk.post(f"/desk/contacts/{entry.id}/slip", data=slip_data(
        (desk["fixed"], 1, None), window_date="", window_start="", window_end=""))
    assert resp.status_code == 302
    assert db.session.scalar(select(Slip)).window_start is None


@pytest.mark.parametrize("lines, change, field, message", [
    ((), {}, "lines", "Add at least one item from the price list."),
    ((("range", "0", "20"),), {}, "lines-0-quantity", "Quantity must be between 1 and 999."),
    ((("range", "-3", "20"),), {}, "lines-0-quantity", "Quantity must be between 1 and 999."),
    ((("range", "1000", "20"),), {}, "lines-0-quantity", "Quantity must be between 1 and 999."),
    ((("range", "2.5", "20"),), {}, "lines-0-quantity", "Enter a whole number of items."),
    ((("range", "", "20"),), {}, "lines-0-quantity", "How many?"),
    ((("range", "1", "abc"),), {}, "lines-0-price", "Enter an amount in yuan, e.g. 30 or 12.50."),
    ((("range", "1", "-5"),), {}, "lines-0-price", "Enter an amount in yuan, e.g. 30 or 12.50."),
    ((("range", "1", "1e3"),), {}, "lines-0-price", "Enter an amount in yuan, e.g. 30 or 12.50."),
    ((("range", "1", "12.345"),), {}, "lines-0-price",
     "Enter an amount in yuan, e.g. 30 or 12.50."),
    (((987654, "1", None),), {}, "lines", "That item is not on the price list in force."),
    (((HUGE, "1", None),), {}, "lines-0-item_id", "Choose an item from the price list."),
    ((("fixed", "1", None),), {"window_end": "09:00"}, "window_end",
     WINDOW_BACKWARDS),
    ((("fixed", "1", None),), {"window_end": "10:00"}, "window_end",
     WINDOW_BACKWARDS),
    ((("fixed", "1", None),), {"window_end": "12:30", "window_next_day": "y"}, "window_end",
     "A window that ends the next day ends earlier on the clock than it starts (22:00 to 02:00)."),
    ((("fixed", "1", None),), {"window_date": ""}, "window_date", "Give the day of the visit."),
    ((("fixed", "1", None),), {"window_start": ""}, "window_start",
     "Give the time the window starts."),
    ((("fixed", "1", None),), {"window_date": "2026-02-30"}, "window_date",
     "Enter a date like 2026-11-23."),
    ((("fixed", "1", None),), {"window_start": "25:00"}, "window_start",
     "Enter a time like 14:30."),
    ((("fixed", "1", None),), {"notes": "x" * 1001}, "notes", "At most 1000 characters."),
])
def test_a_slip_with_bad_input_is_refused_next_to_the_field_and_takes_no_number(
        clerk, desk, db, lines, change, field, message):
    entry = log_entry(desk, clerk, db)
    svc_list = [(desk.get(item, item), qty, price) for item, qty, price in lines]
    # a first slip of the month, so the series exists and its counter is watched
    clerk.post(f"/desk/contacts/{log_entry(desk, clerk, db).id}/slip",
               data=slip_data((desk["fixed"], 1, None)))
    numbers, slips = sequences(db), count(db, Slip)
    resp = clerk.post(f"/desk/contacts/{entry.id}/slip", data=slip_data(*svc_list, **change))
    assert resp.status_code == 422
    assert field_errors(resp, field) == [message]
    assert count(db, Slip) == slips and sequences(db) == numbers
    db.session.expire_all()
    assert not db.session.get(ReceptionEntry, entry.id).is_closed
    # the page comes back with what was typed, ready to correct
    assert "厨房水龙头漏水" in resp.get_data(as_text=True)


def test_every_mistake_in_a_slip_shows_on_one_submit_with_what_was_typed(clerk, desk, db):
    entry = log_entry(desk, clerk, db)
    resp = clerk.post(f"/desk/contacts/{entry.id}/slip", data=slip_data(
        (desk["range"], "abc", "20"), (desk["guide"], "2", "ten"), window_end="09:30"))
    assert resp.status_code == 422
    assert field_errors(resp, "lines-0-quantity") == ["Enter a whole number of items."]
    assert field_errors(resp, "lines-1-price") == ["Enter an amount in yuan, e.g. 30 or 12.50."]
    assert field_errors(resp, "window_end") == [WINDOW_BACKWARDS]
    body = resp.get_data(as_text=True)
    assert 'name="lines-0-quantity" type="text" value="abc"' in body
    assert 'name="lines-1-price"' in body and 'value="ten"' in body
    assert count(db, Slip) == 0


def test_a_price_sent_for_a_fixed_or_free_item_is_ignored(clerk, desk, db):
    """The form offers no price box for them: they are quoted at the list's price."""
    entry = log_entry(desk, clerk, db)
    resp = clerk.post(f"/desk/contacts/{entry.id}/slip",
                      data=slip_data((desk["fixed"], 1, "1"), (desk["free"], 1, "5")))
    assert resp.status_code == 302
    slip = db.session.scalar(select(Slip))
    assert [line.unit_price_fen for line in slip.lines] == [3000, 0]
    assert not slip.needs_approval


def test_a_slip_holds_at_most_thirty_items(clerk, desk, db):
    entry = log_entry(desk, clerk, db)
    resp = clerk.post(f"/desk/contacts/{entry.id}/slip",
                      data=slip_data(*[(desk["fixed"], 1, None)] * 31))
    assert resp.status_code == 422
    assert field_errors(resp, "lines") == ["A slip holds at most 30 items."]
    assert count(db, Slip) == 0


def test_no_price_list_in_force_is_said_plainly(clerk, db):
    unit = factories.unit()
    entry = reception.log_contact(reception.Contact("phone", "paid", "修灯", unit=unit), clerk.user)
    db.session.commit()
    page = clerk.get(f"/desk/contacts/{entry.id}/slip")
    assert "No approved price list is in force: a slip cannot be quoted." in text(page)
    resp = clerk.post(f"/desk/contacts/{entry.id}/slip", data=slip_data((1, 1, None)))
    assert resp.status_code == 422 and count(db, Slip) == 0


@pytest.mark.parametrize("kind", ["enquiry", "complaint"])
def test_only_a_job_leads_to_a_slip(clerk, desk, db, kind):
    entry = log_entry(desk, clerk, db, kind=kind)
    assert clerk.get(f"/desk/contacts/{entry.id}/slip").status_code == 404
    assert clerk.post(f"/desk/contacts/{entry.id}/slip",
                      data=slip_data((desk["fixed"], 1, None))).status_code == 404
    assert count(db, Slip) == 0


# ---- the desk's slip list --------------------------------------------------------------------

def test_the_slip_list_shows_todays_slips_with_state_unit_worker_and_total(clerk, desk, db):
    worker = factories.user("worker")
    supervisor = factories.user("supervisor")
    today = factories.slip(clerk.user, unit_=desk["unit"], pl=desk["pl"],
                           lines=[svc.LineRequest(desk["range"].id, 2, 2500)])
    old = factories.slip(clerk.user, pl=desk["pl"])
    old.created_at -= timedelta(days=3)
    svc.dispatch(today, supervisor, worker.id)
    db.session.commit()
    resp = clerk.get("/desk/slips")
    assert resp.status_code == 200
    rows = grab(resp, lambda t, a: t == "tr" and a.get("class") is not None)
    assert len(rows) == 1
    row = rows[0]
    for shown in (today.number, "Dispatched", "3栋2单元1502", worker.full_name, "¥50.00",
                  "换水暖件(水龙头) ×2"):
        assert shown in row
    assert f'href="/slips/{today.number}"' in resp.get_data(as_text=True)
    every_day = clerk.get("/desk/slips?day=")
    assert old.number in text(every_day) and today.number in text(every_day)
    by_day = clerk.get("/desk/slips", query_string={"day": old.created_at.astimezone(
        clock.zone()).date().isoformat()})
    assert old.number in text(by_day) and today.number not in text(by_day)


def test_the_slip_list_filters_by_state_and_finds_a_number_on_any_day(clerk, desk, db):
    a = factories.slip(clerk.user, pl=desk["pl"])
    b = factories.slip(clerk.user, pl=desk["pl"])
    svc.cancel(b, clerk.user, "住户取消")
    a.created_at -= timedelta(days=40)
    db.session.commit()
    cancelled = clerk.get("/desk/slips", query_string={"state": "cancelled"})
    assert b.number in text(cancelled) and a.number not in text(cancelled)
    found = clerk.get("/desk/slips", query_string={"q": a.number[-4:].lower(),
                                                   "day": clock.local_today().isoformat()})
    assert a.number in text(found) and "every day" in text(found)


def test_the_slip_list_refreshes_itself_live(clerk, desk, db):
    resp = clerk.get("/desk/slips?state=registered", headers=HX)
    body = resp.get_data(as_text=True)
    assert "<html" not in body
    head = body.split('id="desk-slips"')[1].split(">")[0]
    assert 'hx-get="/desk/slips?day=' in head and "state=registered" in head
    assert 'hx-trigger="live-changed from:body"' in head
    assert 'data-live="/live/"' in clerk.get("/desk/slips").get_data(as_text=True)


# ---- odd input never makes a 500 -----------------------------------------------------------

@pytest.mark.parametrize("path, query", [
    ("/desk/", {"unit": HUGE}), ("/desk/", {"unit": "①"}), ("/desk/", {"unit": "-1"}),
    ("/desk/log", {"day": "2026-13-45"}), ("/desk/log", {"day": "²⁰²⁶-01-01"}),
    ("/desk/log", {"kind": "x", "clerk": HUGE, "page": HUGE}), ("/desk/log", {"page": "0"}),
    ("/desk/log", {"day": "9999-12-31"}), ("/desk/log", {"day": "0001-01-01"}),
    ("/desk/slips", {"state": "nope", "page": "-2", "day": "x"}),
    ("/desk/slips", {"q": "%_\\" * 10}), ("/desk/slips", {"day": "9999-12-31"}),
    ("/desk/units", {"q": "x" * 500}), ("/desk/pick", {"unit_id": HUGE}),
    ("/desk/pick", {"q": "%"}), ("/desk/today", {"x": "y"}),
])
def test_odd_query_strings_are_ignored_not_a_500(clerk, desk, path, query):
    for headers in ({}, HX):
        resp = clerk.get(path, query_string=query, headers=headers)
        assert resp.status_code in (200, 302, 422), (path, query, resp.status_code)


@pytest.mark.parametrize("query", [
    {"lines-0-item_id": HUGE, "lines-0-quantity": HUGE, "lines-0-price": HUGE},
    {"lines-99999999999999999999-item_id": "1"}, {"lines-x-item_id": "1"},
    {"add": HUGE}, {"add": "①"}, {"remove": HUGE}, {"remove": "-1"}, {"remove": "7"},
    {"free": "y", "lines-0-item_id": "abc"}, {"q": "%" * 80},
])
def test_odd_slip_form_requests_are_answered_not_a_500(clerk, desk, db, query):
    entry = log_entry(desk, clerk, db)
    for part in ("lines", "quote", "items"):
        resp = clerk.get(f"/desk/contacts/{entry.id}/slip/{part}", query_string=query, headers=HX)
        assert resp.status_code in (200, 204, 422), (part, query, resp.status_code)


def test_unknown_contacts_are_not_found(clerk, desk):
    for path in (f"/desk/contacts/{HUGE}", "/desk/contacts/424242", "/desk/contacts/424242/slip",
                 "/desk/contacts/424242/slip/lines"):
        assert clerk.get(path).status_code == 404
    assert clerk.post("/desk/contacts/424242/answer", data={"answer": "x"}).status_code == 404


# ---- who may ----------------------------------------------------------------------------------

def desk_routes(entry_id: int) -> list[tuple[str, str, dict | None]]:
    base = f"/desk/contacts/{entry_id}"
    return [("GET", "/desk/", None), ("GET", "/desk/log", None), ("GET", "/desk/slips", None),
            ("GET", "/desk/today", None), ("GET", "/desk/units?q=1502", None),
            ("GET", "/desk/pick?q=1502", None), ("GET", base, None), ("GET", f"{base}/slip", None),
            ("GET", f"{base}/slip/items?q=tap", None), ("GET", f"{base}/slip/lines?q=tap", None),
            ("GET", f"{base}/slip/quote", None),
            ("POST", "/desk/contacts", "contact"), ("POST", f"{base}/answer", {"answer": "好"}),
            ("POST", f"{base}/slip", "slip")]


# The manager reads the log, a contact and the slip list (项目经理负责监督); nothing else.
READ_ONLY = {"/desk/log", "/desk/slips", "/desk/contacts/{id}"}


def _refused_everywhere_but(other, desk, clerk, db, readable: set[str]):
    entry = log_entry(desk, clerk, db, kind="paid")
    enquiry = log_entry(desk, clerk, db, kind="enquiry", request="几点开门？")
    for method, url, data in desk_routes(entry.id):
        if data == "contact":
            data = contact_data(desk)
        elif data == "slip":
            data = slip_data((desk["fixed"], 1, None))
        elif data is not None:
            url = url.replace(str(entry.id), str(enquiry.id))
        resp = other.open(url, method=method, data=data, headers=HX if "q=" in url else {})
        expected = 200 if method == "GET" and url.replace(str(entry.id), "{id}") in readable \
            else 403
        assert resp.status_code == expected, (method, url)
    assert count(db, ReceptionEntry) == 2 and count(db, Slip) == 0
    db.session.expire_all()
    assert not db.session.get(ReceptionEntry, enquiry.id).is_closed
    return entry, enquiry


@pytest.mark.parametrize("role", ["worker", "cashier"])
def test_workers_and_the_cashier_do_not_use_the_desk(login_as, clerk, desk, db, role):
    _refused_everywhere_but(login_as(role), desk, clerk, db, set())


def test_the_manager_reads_the_log_and_its_contacts_without_a_button(login_as, clerk, desk, db):
    manager = login_as("manager")
    entry, enquiry = _refused_everywhere_but(manager, desk, clerk, db, READ_ONLY)
    log = manager.get("/desk/log").get_data(as_text=True)
    assert "几点开门？" in log and "厨房水龙头漏水" in log
    assert f"/desk/contacts/{entry.id}/slip" not in log and "/desk/\"" not in log
    for shown, asked in ((entry, "厨房水龙头漏水"), (enquiry, "几点开门？")):
        page = manager.get(f"/desk/contacts/{shown.id}").get_data(as_text=True)
        assert asked in page and "/answer" not in page and "/slip\"" not in page


def test_a_supervisor_at_the_desk_logs_a_call_and_opens_its_slip(login_as, desk, db):
    supervisor = login_as("supervisor")
    for method, url, _data in desk_routes(0):
        if method == "GET" and "/contacts/" not in url:
            assert supervisor.get(url, headers=HX if "/pick" in url else {}).status_code == 200
    resp = supervisor.post("/desk/contacts", data=contact_data(desk))
    entry = db.session.scalar(select(ReceptionEntry))
    assert resp.status_code == 302 and entry.taken_by_id == supervisor.user.id
    opened = supervisor.post(f"/desk/contacts/{entry.id}/slip",
                             data=slip_data((desk["fixed"], 1, None)))
    assert opened.status_code == 302
    slip = db.session.scalar(select(Slip))
    assert slip.reception_id == entry.id and slip.total_fen == 3000


def test_a_signed_out_htmx_request_is_sent_to_the_login_page(client, desk):
    resp = client.get("/desk/units?q=1502", headers=HX)
    assert resp.status_code == 401 and resp.headers["HX-Redirect"].startswith("/login")


# ---- the user's language ----------------------------------------------------------------------

def zh(app, message: str, **values) -> str:
    """The message as a Chinese screen shows it (English until the catalogue has it)."""
    with app.test_request_context(), force_locale("zh_CN"):
        return gettext(message, **values)


def test_messages_come_in_the_clerks_language(app, clerk, desk, db):
    in_chinese(clerk)
    resp = clerk.post("/desk/contacts", data=contact_data(desk, request=""))
    assert resp.status_code == 422 and html_lang(resp) == "zh-CN"
    assert field_errors(resp, "request") == [zh(app, "Write down what they asked.")]
    entry = log_entry(desk, clerk, db)
    bad = clerk.post(f"/desk/contacts/{entry.id}/slip", data=slip_data(
        (desk["range"], "0", "20"), window_end="09:00"))
    assert bad.status_code == 422
    assert field_errors(bad, "lines-0-quantity") == [
        zh(app, "Quantity must be between 1 and %(max)s.", max=999)]
    missing = clerk.post(f"/desk/contacts/{entry.id}/slip", data=slip_data())
    assert field_errors(missing, "lines") == [zh(app, "Add at least one item from the price list.")]
    assert count(db, Slip) == 0


@pytest.mark.parametrize("message", ["Write down what they asked.",
                                     "Add at least one item from the price list.",
                                     WINDOW_BACKWARDS])
def test_the_chinese_catalogue_has_the_desks_messages(app, message):
    """Strict once the lead has filled the catalogue; skipped (not failed) until then."""
    try:
        translated = chinese(app, message)
    except AssertionError:
        pytest.skip(f"not translated yet: {message!r}")
    assert translated != message
