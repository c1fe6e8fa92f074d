"""Buildings, units and residents: finding them as the clerk types, editing, importing from CSV."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.domain.errors import DomainError
from app.models import AuditEvent, Building, Resident, Unit
from app.services import property as prop
from tests import factories


@pytest.fixture(autouse=True)
def english(db):
    """Messages read in English here (outside a request the office's default is Chinese)."""
    from flask_babel import force_locale
    with force_locale("en"):
        yield


def labels(matches) -> list[str]:
    return [m.unit.label for m in matches]


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def estate(db):
    """A few units that look alike, as in a real property."""
    a = factories.unit("3", 2, "1502")
    factories.resident(a, "张伟", "owner", "13800001111")
    factories.resident(a, "李娜", "tenant", "13900002222")
    b = factories.unit("3", 1, "1502")
    factories.resident(b, "王芳", "owner", "13700003333")
    c = factories.unit("5", 2, "1502")
    d = factories.unit("3", 2, "1501")
    gone = factories.resident(d, "赵敏", "tenant", "13600004444")
    prop.update_resident(gone, name="赵敏", kind="tenant", phone="13600004444", phone2="",
                         notes="", active=False)
    e = factories.unit("12", 1, "1502")
    factories.resident(e, "陈刚", "owner", "0571-8888 6666")
    f = factories.unit("7", None, "301")
    db.session.flush()
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f}


# ---- finding ----------------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["3-2-1502", "3栋2单元1502", "3号楼2单元1502", "3 2 1502"])
def test_find_by_full_unit_key_in_any_way_it_is_typed(estate, typed):
    assert labels(prop.find(typed)) == ["3栋2单元1502"]


def test_find_by_unit_number_alone_lists_every_building(estate):
    assert sorted(labels(prop.find("1502"))) == sorted(
        ["3栋2单元1502", "3栋1单元1502", "5栋2单元1502", "12栋1单元1502"])


def test_find_by_building_and_number_covers_every_entrance(estate):
    assert sorted(labels(prop.find("3-1502"))) == ["3栋1单元1502", "3栋2单元1502"]


def test_find_narrows_with_every_digit(estate):
    assert set(labels(prop.find("3-2-150"))) == {"3栋2单元1502", "3栋2单元1501"}
    assert labels(prop.find("3-2-1502")) == ["3栋2单元1502"]


def test_find_a_unit_of_a_building_without_entrances(estate):
    assert labels(prop.find("7栋301")) == ["7栋301"]
    assert labels(prop.find("7-301")) == ["7栋301"]


def test_find_a_unit_in_a_building_numbered_above_nine(estate):
    """12-1-1502 has seven digits, like a landline number; it is still a unit."""
    assert labels(prop.find("12-1-1502")) == ["12栋1单元1502"]
    assert labels(prop.find("12栋1单元1502")) == ["12栋1单元1502"]


def test_find_by_name_puts_the_matching_resident_first(estate):
    [match] = prop.find("李娜")
    assert match.unit.label == "3栋2单元1502"
    assert [r.name for r in match.residents] == ["李娜", "张伟"]
    [match] = prop.find("张")
    assert [r.name for r in match.residents][0] == "张伟"


def test_find_by_part_of_a_name(estate):
    assert labels(prop.find("伟")) == ["3栋2单元1502"]


@pytest.mark.parametrize("typed", ["13900002222", "139 0000 2222", "139-0000-2222"])
def test_find_by_phone(estate, typed):
    [match] = prop.find(typed)
    assert match.unit.label == "3栋2单元1502"
    assert match.residents[0].name == "李娜"


def test_find_by_landline(estate):
    assert labels(prop.find("0571-88886666")) == ["12栋1单元1502"]


def test_find_by_the_second_phone(db, estate):
    r = factories.resident(estate["f"], "周杰", "owner", "13500005555")
    r.phone2 = "13511112222"
    db.session.flush()
    assert labels(prop.find("13511112222")) == ["7栋301"]


def test_a_moved_out_resident_is_not_found_by_name_or_phone(estate):
    assert prop.find("赵敏") == []
    assert prop.find("13600004444") == []


def test_a_moved_out_resident_is_not_listed_under_the_unit(estate):
    [match] = prop.find("3-2-1501")
    assert match.residents == []


def test_nothing_typed_finds_nothing(estate):
    assert prop.find("") == [] and prop.find("   ") == []


def test_no_match(estate):
    assert prop.find("9-9-9999") == [] and prop.find("不存在") == []


def test_find_returns_at_most_the_limit(db):
    building = prop.create_building("8")
    for n in range(1, 21):
        prop.create_unit(building, 1, f"{n:02d}01")
    assert len(prop.find("8")) == 12
    assert len(prop.find("8", limit=5)) == 5


# ---- buildings and units ------------------------------------------------------------------------

def test_create_building_names_it(db):
    b = prop.create_building("3")
    assert (b.code, b.name) == ("3", "3栋")
    assert prop.create_building("A", "A座").name == "A座"


@pytest.mark.parametrize("code", ["", "  ", "3 栋", "3/4", "x" * 11])
def test_create_building_refuses_bad_codes(db, code):
    with pytest.raises(DomainError) as caught:
        prop.create_building(code)
    assert caught.value.field == "code"
    assert count(db, Building) == 0


def test_create_building_refuses_a_duplicate(db):
    prop.create_building("3")
    with pytest.raises(DomainError) as caught:
        prop.create_building(" 3 ")
    assert caught.value.field == "code" and "already exists" in str(caught.value.message)


def test_create_unit_labels_and_keys_it(db):
    b = prop.create_building("3")
    u = prop.create_unit(b, 2, " 1502 ", area_m2=96)
    assert (u.number, u.label, u.search_key, u.area_m2) == ("1502", "3栋2单元1502", "3-2-1502", 96)


@pytest.mark.parametrize("entrance, number, field", [
    (0, "1502", "entrance"), (100, "1502", "entrance"), (-1, "1502", "entrance"),
    (2, "", "number"), (2, "15 02", "number"), (2, "1502室", "number"), (2, "1" * 11, "number"),
])
def test_create_unit_refuses_bad_input(db, entrance, number, field):
    b = prop.create_building("3")
    with pytest.raises(DomainError) as caught:
        prop.create_unit(b, entrance, number)
    assert caught.value.field == field
    assert count(db, Unit) == 0


def test_create_unit_refuses_a_duplicate(db):
    b = prop.create_building("3")
    prop.create_unit(b, 2, "1502")
    with pytest.raises(DomainError) as caught:
        prop.create_unit(b, 2, "1502")
    assert caught.value.field == "number"
    assert "already exists" in str(caught.value.message)
    assert count(db, Unit) == 1


def test_the_same_number_in_another_entrance_is_another_unit(db):
    b = prop.create_building("3")
    prop.create_unit(b, 1, "1502")
    prop.create_unit(b, 2, "1502")
    prop.create_unit(b, None, "1502")
    assert count(db, Unit) == 3


def test_update_unit_relabels_it(db):
    u = factories.unit("3", 2, "1502")
    other = prop.create_building("4")
    prop.update_unit(u, other, 1, "801", area_m2=88, note="顶楼")
    assert (u.label, u.search_key, u.note) == ("4栋1单元801", "4-1-801", "顶楼")
    assert labels(prop.find("4-1-801")) == ["4栋1单元801"]
    assert prop.find("3-2-1502") == []


def test_update_unit_cannot_take_another_units_address(db):
    u = factories.unit("3", 2, "1502")
    factories.unit("3", 2, "1503")
    with pytest.raises(DomainError) as caught:
        prop.update_unit(u, u.building, 2, "1503", area_m2=None, note="")
    assert caught.value.field == "number"


def test_update_unit_may_keep_its_own_address(db):
    u = factories.unit("3", 2, "1502")
    prop.update_unit(u, u.building, 2, "1502", area_m2=120, note="")
    assert u.area_m2 == 120


# ---- residents -----------------------------------------------------------------------------------

def test_add_resident(db):
    u = factories.unit()
    r = prop.add_resident(u, " 张伟 ", "owner", " 13800001111 ", "", " 家有大型犬 ")
    assert (r.name, r.kind, r.phone, r.notes, r.active) == (
        "张伟", "owner", "13800001111", "家有大型犬", True)
    assert u.current_residents == [r]


@pytest.mark.parametrize("name, kind, phone, phone2, field, words", [
    ("", "owner", "", "", "name", "Enter the resident's name."),
    ("   ", "owner", "", "", "name", "Enter the resident's name."),
    ("张" * 41, "owner", "", "", "name", "at most 40 characters"),
    ("张伟", "landlord", "", "", "kind", "Choose owner or tenant."),
    ("张伟", "owner", "call me", "", "phone", "does not look like a phone number"),
    ("张伟", "owner", "123", "", "phone", "does not look like a phone number"),
    ("张伟", "owner", "13800001111", "x1", "phone2", "does not look like a phone number"),
])
def test_add_resident_refuses_bad_input_on_the_field(db, name, kind, phone, phone2, field, words):
    u = factories.unit()
    with pytest.raises(DomainError) as caught:
        prop.add_resident(u, name, kind, phone, phone2)
    assert caught.value.field == field
    assert words in str(caught.value.message)
    assert count(db, Resident) == 0


def test_a_name_of_exactly_40_characters_is_fine(db):
    assert prop.add_resident(factories.unit(), "张" * 40, "owner").name == "张" * 40


def test_the_same_person_cannot_be_recorded_twice_at_a_unit(db):
    u = factories.unit()
    prop.add_resident(u, "张伟", "owner")
    with pytest.raises(DomainError) as caught:
        prop.add_resident(u, "张伟", "tenant")
    assert caught.value.field == "name"
    assert count(db, Resident) == 1


def test_a_moved_out_person_may_move_back_in(db):
    u = factories.unit()
    r = prop.add_resident(u, "张伟", "tenant")
    prop.update_resident(r, name="张伟", kind="tenant", phone="", phone2="", notes="",
                         active=False)
    prop.add_resident(u, "张伟", "owner")
    assert [x.kind for x in u.current_residents] == ["owner"]


def test_update_resident(db):
    r = factories.resident()
    prop.update_resident(r, name="张伟", kind="tenant", phone="13811112222", phone2="",
                         notes="有猫", active=True)
    assert (r.kind, r.phone, r.notes) == ("tenant", "13811112222", "有猫")


def test_update_resident_refuses_bad_input(db):
    r = factories.resident()
    with pytest.raises(DomainError) as caught:
        prop.update_resident(r, name="", kind="owner", phone="", phone2="", notes="", active=True)
    assert caught.value.field == "name"


# ---- CSV import ----------------------------------------------------------------------------------

CHINESE_CSV = ("楼栋,单元,房号,姓名,类型,电话\n"
               "3,2,1502,张伟,业主,13800001111\n"
               "3,2,1502,李娜,租户,13900002222\n"
               "3栋,1单元,801,王芳,owner,13700003333\n"
               "5,,301,,,\n")


def residents_by_unit(db) -> dict[str, list[tuple[str, str, str]]]:
    out: dict[str, list] = {}
    for r in db.session.scalars(select(Resident).order_by(Resident.id)):
        out.setdefault(r.unit.label, []).append((r.name, r.kind, r.phone))
    return out


def assert_chinese_csv_imported(db, result):
    assert result.ok, result.errors
    assert (result.units_created, result.residents_created) == (3, 3)
    assert residents_by_unit(db) == {
        "3栋2单元1502": [("张伟", "owner", "13800001111"), ("李娜", "tenant", "13900002222")],
        "3栋1单元801": [("王芳", "owner", "13700003333")],
    }
    assert sorted(db.session.scalars(select(Unit.label))) == ["3栋1单元801", "3栋2单元1502",
                                                             "5栋301"]


def test_import_utf8_with_bom_and_chinese_headers(db):
    assert_chinese_csv_imported(db, prop.import_csv(("\ufeff" + CHINESE_CSV).encode("utf-8")))


def test_import_gbk_as_excel_in_china_saves_it(db):
    assert_chinese_csv_imported(db, prop.import_csv(CHINESE_CSV.encode("gbk")))


def test_import_utf8_without_bom_and_crlf_line_ends(db):
    data = CHINESE_CSV.replace("\n", "\r\n").encode("utf-8")
    assert_chinese_csv_imported(db, prop.import_csv(data))


def test_import_with_english_headers_in_any_order(db):
    data = ("name,unit,building,entrance,kind,phone,phone2,notes\n"
            "张伟,1502,3,2,owner,13800001111,13800002222,养狗\n").encode()
    result = prop.import_csv(data)
    assert result.ok
    [r] = db.session.scalars(select(Resident)).all()
    assert (r.unit.label, r.name, r.phone2, r.notes) == ("3栋2单元1502", "张伟", "13800002222",
                                                         "养狗")


def test_import_adds_residents_to_units_that_exist(db):
    u = factories.unit("3", 2, "1502")
    factories.resident(u, "张伟")
    result = prop.import_csv("楼栋,单元,房号,姓名\n3,2,1502,李娜\n".encode())
    assert result.ok and (result.units_created, result.residents_created) == (0, 1)
    assert count(db, Unit) == 1
    assert [r.name for r in u.residents] == ["张伟", "李娜"]


def test_import_is_audited_as_one_event(db):
    prop.import_csv(CHINESE_CSV.encode())
    [event] = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "property.import")).all()
    assert event.after == {"units": 3, "residents": 3}
    assert event.summary == "CSV"  # a name, not a sentence: the page words the action
    # the new buildings are on the record too; units and residents are counted, not listed
    assert sorted(db.session.scalars(select(AuditEvent.action))) == [
        "building.create", "building.create", "property.import"]


def test_blank_lines_are_skipped_and_line_numbers_still_count_them(db):
    data = "楼栋,单元,房号,姓名\n3,2,1502,张伟\n\n,,,\n3,x,1503,李娜\n".encode()
    result = prop.import_csv(data)
    assert [line for line, _ in result.errors] == [5]


def test_a_file_with_bad_rows_reports_each_line_and_reason(db):
    data = ("楼栋,单元,房号,姓名,类型,电话\n"
            "3,2,1502,张伟,业主,13800001111\n"           # 2: fine
            "3,二,1503,李娜,租户,\n"                     # 3: entrance not a number
            ",2,1504,王芳,业主,\n"                        # 4: no building
            "3,2,,赵敏,业主,\n"                           # 5: no unit number
            "3,2,1505,孙丽,房东,\n"                       # 6: unknown type
            "3,2,1506,周杰,业主,打我电话\n"               # 7: bad phone
            "3,2,1502,张伟,业主,\n"                       # 8: twice in the file
            "3,0,1507,吴刚,业主,\n"                       # 9: entrance 0
            "3,2,1508,郑爽,业主,,,,extra\n").encode()     # 10: more cells than columns
    result = prop.import_csv(data)
    assert not result.ok
    reasons = dict(result.errors)
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 9, 10]
    assert "二" in reasons[3]
    assert "building" in reasons[4].lower()
    assert "unit number" in reasons[5].lower()
    assert "房东" in reasons[6]
    assert "phone" in reasons[7].lower()
    assert "twice" in reasons[8]
    assert "entrance" in reasons[9].lower()
    assert "cells" in reasons[10].lower()


def test_a_bad_row_saves_nothing_once_the_caller_rolls_back(db):
    factories.unit("1", 1, "101")
    db.session.commit()
    units, residents, events = count(db, Unit), count(db, Resident), count(db, AuditEvent)
    data = "楼栋,单元,房号,姓名,类型\n3,2,1502,张伟,业主\n3,2,1503,李娜,房东\n".encode()
    result = prop.import_csv(data)
    assert not result.ok
    db.session.rollback()
    assert (count(db, Unit), count(db, Resident), count(db, AuditEvent)) == (units, residents,
                                                                             events)
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "property.import")) == 0


def test_import_stops_listing_after_fifty_errors(db):
    rows = "".join(f"3,x,{n},\n" for n in range(100))
    result = prop.import_csv(("楼栋,单元,房号,姓名\n" + rows).encode())
    assert 50 <= len(result.errors) <= 51
    assert "Stopped" in result.errors[-1][1]


@pytest.mark.parametrize("data", [b"", "\ufeff".encode(), b"\r\n"])
def test_an_empty_file_is_named_as_such(db, data):
    with pytest.raises(DomainError) as caught:
        prop.import_csv(data)
    assert caught.value.field == "file"
    assert "empty" in str(caught.value.message)


def test_missing_columns_are_named(db):
    with pytest.raises(DomainError) as caught:
        prop.import_csv("姓名,电话\n张伟,13800001111\n".encode())
    message = str(caught.value.message)
    assert caught.value.field == "file"
    assert "building" in message and "unit" in message and "missing" in message


def test_a_spreadsheet_that_is_not_text_is_refused_clearly(db):
    """An .xlsx (a zip archive) chosen instead of the CSV export."""
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", "".join(f"<c r='A{i}'><v>{i * 7919}</v></c>"
                                                       for i in range(2000)))
    with pytest.raises(DomainError) as caught:
        prop.import_csv(buf.getvalue())
    assert caught.value.field == "file"
    assert "UTF-8 or GBK" in str(caught.value.message)


def test_a_file_with_nul_bytes_is_refused_clearly(db):
    """A binary or UTF-16 file read as text is full of NULs: never stored (PostgreSQL cannot)."""
    data = "楼栋,单元,房号,姓名\n3,2,1502,张\x00伟\n".encode()
    with pytest.raises(DomainError) as caught:
        prop.import_csv(data)
    assert caught.value.field == "file"
    db.session.rollback()
    assert count(db, Resident) == 0


def test_an_unclosed_quote_is_reported_not_swallowed(db):
    """An unclosed quote would otherwise eat the rest of the file (李娜's row) into one cell."""
    data = '楼栋,单元,房号,姓名,备注\n3,2,1502,张伟,"养狗\n3,2,1503,李娜,\n'.encode()
    with pytest.raises(DomainError) as caught:
        prop.import_csv(data)
    assert caught.value.field == "file"
    assert "not valid CSV from line 3" in str(caught.value.message)


def test_a_quoted_cell_may_hold_commas_and_line_breaks(db):
    data = ('楼栋,单元,房号,姓名,备注\n'
            '3,2,1502,张伟,"养狗,很凶\n先打电话"\n'
            '3,2,1503,李娜,\n').encode()
    result = prop.import_csv(data)
    assert result.ok and result.residents_created == 2
    assert db.session.scalar(select(Resident.notes).where(Resident.name == "张伟")) == \
        "养狗,很凶\n先打电话"


def test_a_file_with_too_many_rows_is_refused_before_anything_is_created(db):
    rows = "".join(f"3,1,{n}\n" for n in range(prop.MAX_IMPORT_ROWS + 1))
    with pytest.raises(DomainError) as caught:
        prop.import_csv(("楼栋,单元,房号\n" + rows).encode())
    assert caught.value.field == "file" and str(prop.MAX_IMPORT_ROWS) in str(caught.value.message)
    assert count(db, Unit) == 0


# ---- letters in building numbers, phone tails, case --------------------------------------------

def test_find_a_building_with_a_letter_not_the_numbered_one(db):
    """A栋 / B座 blocks: the letter is part of the key, never dropped (1栋 is another block)."""
    a = factories.unit("A", 1, "101")
    factories.unit("1", 1, "101")
    factories.unit("B", 1, "101")
    db.session.flush()
    for typed in ("A-1-101", "A栋1单元101", "a 1 101", "A-1"):
        assert labels(prop.find(typed)) == [a.label], typed


def test_find_by_the_last_four_digits_of_a_phone(estate):
    """尾号 6666: the desk often asks for the end of the number only."""
    found = prop.find("6666")
    assert "12栋1单元1502" in labels(found)
    assert found[labels(found).index("12栋1单元1502")].residents[0].name == "陈刚"


def test_unit_numbers_still_come_before_phone_tails(estate):
    assert labels(prop.find("1502"))[:4] == ["12栋1单元1502", "3栋1单元1502", "3栋2单元1502",
                                             "5栋2单元1502"]


def test_a_building_number_differing_only_in_case_is_taken(db, english):
    prop.create_building("A")
    with pytest.raises(DomainError) as err:
        prop.create_building("a")
    assert err.value.field == "code" and str(err.value.message) == "This building already exists."


def test_renumbering_onto_another_building_in_other_case_is_refused_not_a_crash(db, english):
    a = prop.create_building("A")
    prop.create_unit(a, 1, "101")
    b = prop.create_building("B")
    prop.create_unit(b, 1, "101")
    with pytest.raises(DomainError) as err:
        prop.update_building(a, "b")
    assert err.value.field == "code"
