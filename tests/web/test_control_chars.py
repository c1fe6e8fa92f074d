"""Text with control characters (NUL...) is refused next to its field, never a 500."""
import pytest
from sqlalchemy import func, select

from app.models import Resident, User
from tests import factories
from tests.web.pages import field_errors


@pytest.mark.parametrize("text", ["张\x00伟", "bell\x07", "esc\x1b[31m"])
def test_resident_name_with_control_characters_is_refused(login_as, db, text):
    c = login_as("manager")
    unit = factories.unit()
    db.session.commit()
    resp = c.post(f"/property/units/{unit.id}/residents/new",
                  data={"name": text, "kind": "owner", "notes": "养狗"})
    assert resp.status_code == 422
    assert field_errors(resp, "name") == ["Contains characters that cannot be printed."]
    assert db.session.scalar(select(func.count(Resident.id))) == 0


def test_notes_and_settings_refuse_nul_too(login_as, db):
    c = login_as("manager")
    unit = factories.unit()
    db.session.commit()
    resp = c.post(f"/property/units/{unit.id}/residents/new",
                  data={"name": "张伟", "kind": "owner", "notes": "dog\x00"})
    assert resp.status_code == 422 and field_errors(resp, "notes")
    resp = c.post("/manage/settings", data={"name": "阳光\x00花园", "timezone": "Asia/Shanghai",
                                            "currency": "CNY"})
    assert resp.status_code == 422 and field_errors(resp, "name")


def test_staff_full_name_with_nul_is_refused(login_as, db):
    c = login_as("manager")
    resp = c.post("/manage/staff/new", data={"username": "newbie", "full_name": "王\x00",
                                             "password": "pass1234", "roles": ["worker"]})
    assert resp.status_code == 422 and field_errors(resp, "full_name")
    assert db.session.scalar(select(User).where(User.username == "newbie")) is None


def test_line_breaks_and_tabs_in_notes_are_fine(login_as, db):
    c = login_as("manager")
    unit = factories.unit()
    db.session.commit()
    resp = c.post(f"/property/units/{unit.id}/residents/new",
                  data={"name": "张伟", "kind": "owner", "notes": "养狗\r\n\t请先电话"})
    assert resp.status_code == 302
