"""Every route × every role (and anonymous), checked against the one permission table.

For each rule in app.url_map the matrix builds a real URL from real records, then:
- anonymous: GET and POST go to the login page (public views excepted), and nothing changes;
- a role the view's permission does not grant: 403 with the friendly page, and a POST
  changes nothing in the database (the POST carries data that *would* change it);
- a granted role: the GET page answers (no 401/403/500, no bounce to the login page).

A new route the matrix cannot build a URL for, or a new POST without a payload here, fails
test_the_matrix_covers_every_route.
"""
from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest
from flask import url_for

from app.domain.permissions import GRANTS, Perm
from app.domain.roles import Role
from app.extensions import db as _db
from app.services import clock
from app.web.guards import PUBLIC
from tests import factories
from tests.moments import tomorrow

ROLES = [r.value for r in Role]


# What each URL argument is built from (a key of `world`).
ARGUMENTS = {"unit_id": "unit_id", "resident_id": "resident_id", "user_id": "user_id",
             "number": "number", "item_id": "item_id", "building_id": "building_id",
             "entry_id": "entry_id", "photo_id": "photo_id", "action": "action",
             "key": "unit_key", "unit": "unit_key", "month": "month", "day": "day",
             "refund_id": "refund_id", "run_id": "run_id"}
# Slip pages say <number> too: there it is the slip's number, not a price-list version.
SLIP_PREFIXES = ("/slips/", "/field/jobs/", "/supervise/slips/")
# Other pages whose <number> or <entry_id> means something else: (prefix, argument, world key).
OVERRIDES = [("/cashier/slips/", "number", "due_slip_number"),
             ("/cashier/receipts/", "number", "receipt_number"),
             ("/receipts/", "number", "receipt_number"),
             ("/supervise/accounts/", "entry_id", "account_entry_id")]


def post_data(endpoint: str, w: dict) -> dict | None:
    """Form data that would change the database if the guard let it through."""
    item = {"category_id": w["category_id"], "name_zh": "新服务项目", "name_en": "New service",
            "unit": "次", "price_min": "40", "price_max": "", "department": "repair"}
    payloads = {
        "auth.login": {"username": "target", "password": factories.PASSWORD},
        "auth.logout": {},
        "auth.switch_role": {"role": "manager"},
        "auth.switch_language": {"locale": "en"},
        "auth.change_password": {"current": factories.PASSWORD, "password": "changed-pw",
                                 "confirm": "changed-pw"},
        "catalogue.category_new": {"code": "newcat", "name_zh": "新类别", "name_en": "New"},
        "catalogue.draft_start": {},
        "catalogue.draft_approve": {"effective_date": clock.local_today().isoformat(), "note": "x"},
        "catalogue.draft_discard": {},
        "catalogue.item_new": item,
        "catalogue.item_edit": dict(item, price_min="99"),
        "catalogue.item_remove": {},
        "manage.settings": {"name": "别的名字", "name_en": "Other", "address": "x", "phone": "1",
                            "timezone": "Asia/Shanghai", "currency": "CNY"},
        "manage.staff_new": {"username": "newbie", "full_name": "新人", "password": "pw-1234",
                             "roles": ["worker"]},
        "manage.staff_edit": {"full_name": "改名", "phone": "", "roles": ["manager"]},
        "manage.staff_password": {"password": "another-pw"},
        "manage.staff_active": {"active": "0"},
        "property.building_new": {"code": "9", "name": "9栋"},
        "property.building_edit": {"code": "33", "name": "33栋"},
        "property.unit_new": {"building_id": w["building_id"], "entrance": "1", "number": "101"},
        "property.unit_edit": {"building_id": w["building_id"], "entrance": "2", "number": "1601"},
        "property.resident_new": {"name": "李娜", "kind": "tenant", "phone": "13900002222"},
        "property.resident_edit": {"name": "张伟伟", "kind": "tenant", "phone": "13900003333",
                                   "active": "y"},
        "property.import_csv": {"file": (io.BytesIO("building,entrance,unit,name\n8,1,101,王五\n"
                                                    .encode()), "units.csv")},
        "desk.contact_new": {"unit_id": w["unit_id"], "resident_id": w["resident_id"],
                             "channel": "phone", "kind": "enquiry", "request": "几点开门",
                             "answer": "八点"},
        "desk.contact_answer": {"answer": "已答复"},
        "desk.slip_new": {"lines-0-item_id": w["approved_item_id"], "lines-0-quantity": "1",
                          "window_date": tomorrow().isoformat(), "window_start": "10:00",
                          "window_end": "12:00"},
        "slips.act": {"dispute-version": w["version"], "dispute-note": "业主说还漏水"},
        "field.act": {"version": w["version"], "request_key": "matrix-key-0001",
                      "note": "业主不需要了"},
        "field.photo": {"kind": "before", "photo": (io.BytesIO(_png()), "p.png")},
        "supervise.dispatch": {"version": w["version"], "worker_id": w["worker_id"]},
        "supervise.unassign": {"version": w["version"]},
        "supervise.approve_quote": {"version": w["version"]},
        "supervise.approve_price": {"version": w["version"]},
        "supervise.reject_price": {"version": w["version"], "note": "太贵"},
        "supervise.duty_set": {"supervisor_id": w["supervisor_id"], "until": "08:00"},
        "supervise.duty_end": {},
        "slips.helper_add": {"helper-version": w["version"], "helper-helper_id": w["worker_id"]},
        "slips.helper_remove": {"helper-version": w["version"],
                                "helper-helper_id": w["worker_id"]},
        # money: each would record or change money if the guard let it through
        "cashier.pay": {"version": w["due_version"], "request_key": "matrix-pay-0001",
                        "amount": "30", "method": "cash", "payer_name": "张伟"},
        "cashier.draw": {"version": w["due_version"], "request_key": "matrix-draw-0001"},
        "cashier.prepay": {"version": w["due_version"], "request_key": "matrix-pre-0001",
                           "amount": "30", "method": "cash"},
        "cashier.top_up": {"topup-request_key": "matrix-top-0001", "topup-amount": "100",
                           "topup-method": "cash", "topup-payer_name": "张伟"},
        "cashier.refund_request": {"refund-amount": "10", "refund-reason": "搬走"},
        "cashier.pay_refund": {f"payout{w['refund_id']}-request_key": "matrix-out-0001",
                               f"payout{w['refund_id']}-method": "cash"},
        "cashier.pay_statement": {f"st{w['statement_id']}-request_key": "matrix-st-0001",
                                  f"st{w['statement_id']}-amount": "10",
                                  f"st{w['statement_id']}-method": "cash"},
        "cashier.void": {"request_key": "matrix-void-0001", "reason": "收错了"},
        "cashier.count": {"counted": "25", "note": ""},
        "cashier.month_end": {"month": w["month"]},
        "cashier.month_step": {},
        "supervise.review_entry": {"version": w["waiting_version"]},
        "supervise.reverse_entry": {"note": "金额有误"},
        "manage.refund_decide": {"version": w["refund_version"], "decision": "approve",
                                 "note": ""},
    }
    return payloads.get(endpoint)


def _png() -> bytes:
    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", (20, 10), "red").save(out, "PNG")
    return out.getvalue()


def rules(app):
    return sorted((r for r in app.url_map.iter_rules() if r.endpoint != "static"),
                  key=lambda r: r.rule)


def build_url(app, rule, w) -> str | None:
    """The URL of `rule` with its arguments taken from real records; None when it cannot."""
    if any(arg not in ARGUMENTS for arg in rule.arguments):
        return None
    values = {a: w[ARGUMENTS[a]] for a in rule.arguments}
    if "number" in values and rule.rule.startswith(SLIP_PREFIXES):
        values["number"] = w["slip_number"]
    for prefix, arg, key in OVERRIDES:
        if arg in values and rule.rule.startswith(prefix):
            values[arg] = w[key]
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def required_perm(app, rule):
    return app.view_functions[rule.endpoint].required_perm


def granted(perm, role: str | None) -> bool:
    if perm == PUBLIC:
        return True
    return role is not None and Role(role) in GRANTS[perm]


def db_state(app) -> dict:
    """Every row of every table, in a session of its own (what another request would see)."""
    with app.app_context():
        state = {t.name: sorted((tuple(row) for row in _db.session.execute(t.select())), key=repr)
                 for t in _db.metadata.sorted_tables}
        _db.session.remove()
    return state


def differences(before: dict, after: dict) -> list[str]:
    return [f"{t}: {len(before[t])} rows -> {len(after[t])}" if len(before[t]) != len(after[t])
            else f"{t}: rows changed" for t in before if before[t] != after[t]]


def fetch(client, method, url, **kw):
    try:
        return client.open(url, method=method, **kw), None
    except Exception as exc:  # noqa: BLE001  (any error the app re-raises under testing is a 500)
        return None, f"500 ({type(exc).__name__}: {exc})"


def friendly_403(resp) -> bool:
    body = resp.get_data(as_text=True)
    return "Not allowed" in body and "ask the manager" in body and "<html" in body


def is_login_redirect(resp) -> bool:
    return resp.status_code == 302 and urlsplit(resp.headers["Location"]).path == "/login"


# ---- the walk ------------------------------------------------------------------------------

def walk(app, client, role: str | None, w: dict) -> list[str]:
    failures = []
    for rule in rules(app):
        url = build_url(app, rule, w)
        if url is None:
            continue  # reported by test_the_matrix_covers_every_route
        perm = required_perm(app, rule)
        ok = granted(perm, role)
        who = role or "anonymous"

        if "GET" in rule.methods:
            resp, crash = fetch(client, "GET", url)
            if crash:
                failures.append(f"GET {url} as {who}: {crash}")
            elif role is None and perm != PUBLIC:
                if not is_login_redirect(resp):
                    failures.append(f"GET {url} as anonymous: {resp.status_code}, "
                                    f"expected a redirect to /login")
            elif not ok:
                if resp.status_code != 403:
                    failures.append(f"GET {url} as {who} ({perm} not granted): "
                                    f"{resp.status_code}, expected 403")
                elif not friendly_403(resp):
                    failures.append(f"GET {url} as {who}: 403 without the friendly page")
            elif resp.status_code >= 400 or is_login_redirect(resp):
                failures.append(f"GET {url} as {who} ({perm} granted): {resp.status_code} "
                                f"{resp.headers.get('Location', '')}")

        if "POST" in rule.methods and not ok:  # anonymous: every non-public view
            data = post_data(rule.endpoint, w)
            if data is None:
                continue  # reported by test_the_matrix_covers_every_route
            before = db_state(app)
            resp, crash = fetch(client, "POST", url, data=data)
            changed = differences(before, db_state(app))
            if crash:
                failures.append(f"POST {url} as {who}: {crash}")
            elif role is None:
                if not is_login_redirect(resp):
                    failures.append(f"POST {url} as anonymous: {resp.status_code}, "
                                    f"expected a redirect to /login")
            elif resp.status_code != 403:
                failures.append(f"POST {url} as {who} ({perm} not granted): "
                                f"{resp.status_code}, expected 403")
            elif not friendly_403(resp):
                failures.append(f"POST {url} as {who}: 403 without the friendly page")
            if changed:
                failures.append(f"POST {url} as {who} changed the database: {changed}")
    return failures


@pytest.mark.parametrize("role", ROLES)
def test_every_route_for_a_signed_in_role(app, world, role):
    client = app.test_client()
    user = factories.user(role)
    if role == "worker":  # a worker reaches only the slips assigned to them
        from app.models import Slip
        _db.session.get(Slip, world["slip_id"]).worker_id = user.id
    _db.session.commit()
    resp = client.post("/login", data={"username": user.username, "password": factories.PASSWORD})
    assert resp.status_code == 302
    failures = walk(app, client, role, world)
    assert not failures, f"{len(failures)} access-matrix failures for {role}:\n" + \
        "\n".join(failures)


def test_every_route_for_an_anonymous_visitor(app, world):
    failures = walk(app, app.test_client(), None, world)
    assert not failures, f"{len(failures)} access-matrix failures for anonymous:\n" + \
        "\n".join(failures)


def test_the_matrix_covers_every_route(app, world):
    """A new route must be reachable by the matrix: its arguments buildable, its POST payload
    set."""
    problems = []
    for rule in rules(app):
        if build_url(app, rule, world) is None:
            problems.append(f"{rule.rule}: no record to build <{', '.join(rule.arguments)}> from "
                            "(add it to ARGUMENTS and world)")
        if "POST" in rule.methods and post_data(rule.endpoint, world) is None:
            problems.append(f"{rule.endpoint}: POST route without a payload in post_data()")
    assert not problems, "\n".join(problems)


def test_every_view_declares_a_known_permission(app):
    for rule in rules(app):
        perm = required_perm(app, rule)
        assert perm == PUBLIC or perm in set(Perm), f"{rule.endpoint}: {perm!r}"


def test_only_the_login_language_and_health_views_are_public(app):
    public = sorted(r.endpoint for r in rules(app) if required_perm(app, r) == PUBLIC)
    assert public == ["auth.healthz", "auth.login", "auth.switch_language"]


def test_a_multi_role_person_gets_the_union_of_their_roles(app, world, login_as):
    client = login_as("clerk", "cashier")
    assert client.get("/desk/").status_code == 200
    assert client.get("/cashier/").status_code == 200
    assert client.get("/manage/").status_code == 403
    assert client.get("/field/").status_code == 403


# ---- odd input on every page -------------------------------------------------------------

ODD = ["%00", "%EF%BF%BF", "'", "-1", "99999999999999999999", "%25", "a%0Ab"]
QUERY_NAMES = ("q", "day", "state", "kind", "clerk", "page", "since", "v", "unit", "unit_id",
               "add", "remove", "version", "photos", "month")


@pytest.mark.parametrize("role", ROLES)
def test_odd_query_strings_and_slip_numbers_never_break_a_page(app, world, role):
    """NUL bytes, huge numbers, quotes and newlines in every query parameter the pages read
    and in every slip number, receipt number, unit key, month and day: a page, a 4xx or a
    redirect, never a 500 (also on PostgreSQL, which refuses NUL in text)."""
    client = app.test_client()
    user = factories.user(role)
    _db.session.commit()
    client.post("/login", data={"username": user.username, "password": factories.PASSWORD})
    failures = []
    for rule in rules(app):
        if "GET" not in rule.methods or not granted(required_perm(app, rule), role):
            continue
        url = build_url(app, rule, world)
        if url is None:
            continue
        urls = [f"{url}?" + "&".join(f"{name}={odd}" for name in QUERY_NAMES) for odd in ODD]
        if "number" in rule.arguments and rule.rule.startswith(SLIP_PREFIXES):
            urls += [url.replace(world["slip_number"], odd) for odd in ODD]
        # receipt numbers, unit keys, months and days in the path: the money pages
        for arg, key in (("number", "receipt_number"), ("key", "unit_key"),
                         ("unit", "unit_key"), ("month", "month"), ("day", "day")):
            if arg in rule.arguments and str(world[key]) in url:
                urls += [url.replace(str(world[key]), odd, 1) for odd in ODD]
        for odd_url in urls:
            for headers in ({}, {"HX-Request": "true"}):
                resp, crash = fetch(client, "GET", odd_url, headers=headers)
                if crash or resp.status_code >= 500:
                    failures.append(f"GET {odd_url} {headers}: {crash or resp.status_code}")
    assert not failures, "\n".join(failures[:30])
