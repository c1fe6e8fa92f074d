"""Every creating form makes its record once: sent again with the same request key (a double
click, a phone retrying after a lost answer, twenty tabs at once) it answers with the first
one's record, never a second record and never an error page.
"""
from __future__ import annotations

import copy
import io
import threading
import uuid

import pytest
from sqlalchemy import func, select

from app.domain.roles import Role
from app.extensions import db as _db
from app.models import (
    Building,
    Category,
    DepositRefund,
    Payment,
    PriceItem,
    ReceptionEntry,
    Resident,
    Slip,
    SlipPhoto,
    StatementRun,
    Unit,
    User,
)
from app.services import slips
from tests import factories
from tests.web.test_access_matrix import build_url, post_data, rules

# endpoint: (what it makes, who sends it, the form's field prefix)
CREATING = {
    "desk.contact_new": (ReceptionEntry, "all", ""),
    "desk.slip_new": (Slip, "all", ""),
    "property.building_new": (Building, "all", ""),
    "property.unit_new": (Unit, "all", ""),
    "property.resident_new": (Resident, "all", ""),
    "catalogue.category_new": (Category, "all", ""),
    "catalogue.item_new": (PriceItem, "all", ""),
    "manage.staff_new": (User, "all", ""),
    "field.photo": (SlipPhoto, "worker", ""),
    "cashier.pay": (Payment, "all", ""),
    "cashier.top_up": (Payment, "all", "topup-"),
    "cashier.refund_request": (DepositRefund, "all", "refund-"),
    "cashier.pay_statement": (Payment, "all", "st"),
}


def count(model) -> int:
    _db.session.expire_all()
    return _db.session.scalar(select(func.count()).select_from(model))


def _client(app, username: str):
    client = app.test_client()
    resp = client.post("/login", data={"username": username, "password": factories.PASSWORD})
    assert resp.status_code == 302, resp.text
    return client


def _sender(app, world, endpoint):
    """A signed-in client for the endpoint, its URL and its form data with one request key."""
    model, who, prefix = CREATING[endpoint]
    if who == "worker":  # photos are taken at the door: the world's job, checked in
        slip = _db.session.get(Slip, world["slip_id"])
        worker = _db.session.get(User, world["worker_id"])
        slips.accept(slip, worker)
        slips.check_in(slip, worker)
        _db.session.commit()
        client = _client(app, "hands")
    else:
        everyone = factories.user(*[r.value for r in Role], username=f"all{uuid.uuid4().hex[:6]}")
        _db.session.commit()
        client = _client(app, everyone.username)
    rule = next(r for r in rules(app) if r.endpoint == endpoint and "POST" in r.methods)
    url = build_url(app, rule, world)
    data = dict(post_data(endpoint, world))
    data.pop("request_key", None)
    prefix = prefix if prefix != "st" else f"st{world['statement_id']}-"
    data[f"{prefix}request_key"] = f"once-{uuid.uuid4().hex}"
    return model, client, url, data


def _fresh(data: dict) -> dict:
    """The same form again: file fields are read once, so each send gets its own copy."""
    out = {}
    for key, value in data.items():
        if isinstance(value, tuple):
            content, name = value
            content.seek(0)
            out[key] = (io.BytesIO(content.read()), name)
        else:
            out[key] = copy.copy(value)
    return out


def _answer(resp) -> tuple[int, str]:
    return resp.status_code, resp.headers.get("Location", "")


def _twenty_at_once(app, cookie: str, send) -> list:
    """`send(client, i)` from 20 browsers holding the same session, released at one moment."""
    _db.session.remove()
    barrier = threading.Barrier(20)
    answers: list = [None] * 20

    def run(i: int) -> None:
        tab = app.test_client()
        tab.set_cookie("session", cookie)
        barrier.wait(timeout=30)
        try:
            answers[i] = send(tab, i)
        except Exception as exc:  # noqa: BLE001  (a 500 under testing: reported by the test)
            answers[i] = (500, repr(exc))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a request hung"
    return answers


def test_every_creating_form_is_in_this_table(app):
    from app.forms.fields import OnceForm  # noqa: F401  (the forms that carry a key)
    from app.web import forms
    assert forms.save_once  # the views of the table save through it
    views = {r.endpoint for r in rules(app) if r.endpoint.endswith(("_new", "photo"))
             and "POST" in r.methods}
    assert views <= set(CREATING), views - set(CREATING)


@pytest.mark.parametrize("endpoint", sorted(CREATING))
def test_a_creating_form_sent_twice_makes_one_record_and_the_same_answer(app, world,
                                                                         endpoint):
    model, client, url, data = _sender(app, world, endpoint)
    before = count(model)
    first = client.post(url, data=_fresh(data))
    assert first.status_code < 400, first.text
    assert count(model) == before + 1
    again = client.post(url, data=_fresh(data))
    assert _answer(again) == _answer(first)
    assert count(model) == before + 1


@pytest.mark.parametrize("endpoint", sorted(CREATING))
def test_a_creating_form_sent_twenty_times_at_once_makes_one_record(real_db, app, world, endpoint):
    model, client, url, data = _sender(app, world, endpoint)
    cookie = client.get_cookie("session").value
    before = count(model)
    payloads = [_fresh(data) for _ in range(20)]  # a file is read once: one copy per send
    answers = _twenty_at_once(app, cookie,
                              lambda tab, i: _answer(tab.post(url, data=payloads[i])))
    assert count(model) == before + 1
    assert len(set(answers)) == 1 and answers[0][0] < 400, answers


def test_a_key_sent_to_another_form_is_refused(app, world):
    model, client, url, data = _sender(app, world, "property.building_new")
    assert client.post(url, data=data).status_code == 302
    contact = dict(post_data("desk.contact_new", world), request_key=data["request_key"])
    resp = client.post("/desk/contacts", data=contact)
    assert resp.status_code == 422 and "already sent for something else" in resp.text
    assert count(ReceptionEntry) == 1  # the world's own


def test_a_creating_form_without_a_key_is_refused_as_out_of_date(app, world):
    model, client, url, data = _sender(app, world, "desk.contact_new")
    del data["request_key"]
    before = count(ReceptionEntry)
    resp = client.post(url, data=data, key=False)
    assert resp.status_code == 422 and "out of date" in resp.text
    assert count(ReceptionEntry) == before


def test_month_end_started_from_twenty_screens_at_once_is_one_run(real_db, app, world):
    everyone = factories.user(*[r.value for r in Role], username="monthender")
    _db.session.commit()
    cookie = _client(app, everyone.username).get_cookie("session").value
    month = world["month"]
    before = count(StatementRun)
    answers = _twenty_at_once(app, cookie, lambda tab, _i: tab.post(
        "/cashier/month-end", data={"month": month}).status_code)
    runs = _db.session.scalars(select(StatementRun).where(StatementRun.month == month,
                                                          StatementRun.finished_at.is_(None)))
    assert len(runs.all()) == 1 and count(StatementRun) <= before + 1, answers
    assert all(a in (200, 302, 303) for a in answers), answers


def test_every_page_and_paper_is_kept_out_of_caches(app, world):
    """Receipts, statements, slips and every page: `Cache-Control: private, no-store`, so a
    shared desk PC's browser keeps no copy of them (photos are revalidated each time)."""
    everyone = factories.user(*[r.value for r in Role], username="reader")
    _db.session.commit()
    client = _client(app, everyone.username)
    seen = {"application/pdf": 0, "text/html": 0}
    for rule in rules(app):
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        url = build_url(app, rule, world)
        resp = client.get(url) if url else None
        if resp is None or resp.status_code != 200:
            continue
        expected = "private, no-cache" if rule.endpoint == "slips.photo" else \
            "private, no-store"
        assert resp.headers.get("Cache-Control") == expected, (url, resp.headers)
        seen[resp.mimetype] = seen.get(resp.mimetype, 0) + 1
    assert seen["application/pdf"] >= 5 and seen["text/html"] >= 30, seen
    assert "no-store" not in (client.get("/static/css/app.css").headers.get(
        "Cache-Control") or "")
