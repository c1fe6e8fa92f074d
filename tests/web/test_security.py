"""Headers on every page, no inline script, CSRF, htmx without a session, friendly error pages."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from app.models import Building
from tests import factories
from tests.web.pages import chinese, html_lang, in_chinese, in_english, text
from tests.web.test_access_matrix import build_url, rules

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def csp_directives(resp) -> dict[str, list[str]]:
    policy = resp.headers.get("Content-Security-Policy", "")
    out = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def header_problems(resp, where: str) -> list[str]:
    problems = []
    csp = csp_directives(resp)
    script_src = csp.get("script-src", csp.get("default-src"))
    if not script_src:
        problems.append(f"{where}: no Content-Security-Policy with a script source")
    else:
        for unsafe in ("'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"):
            if unsafe in script_src:
                problems.append(f"{where}: script-src allows {unsafe}")
    if "frame-ancestors" not in csp and resp.headers.get("X-Frame-Options") is None:
        problems.append(f"{where}: may be framed")
    if resp.headers.get("X-Frame-Options", "").upper() not in ("DENY", "SAMEORIGIN"):
        problems.append(f"{where}: X-Frame-Options is {resp.headers.get('X-Frame-Options')!r}")
    if resp.headers.get("X-Content-Type-Options") != "nosniff":
        problems.append(f"{where}: no X-Content-Type-Options: nosniff")
    return problems


def test_every_html_page_carries_the_security_headers(app, world, login_as):
    """Every GET page for the manager (who sees nearly all), every error page, the login page."""
    manager = login_as("manager")
    clerk = login_as("clerk")
    anonymous = app.test_client()
    problems, seen = [], 0
    for rule in rules(app):
        url = build_url(app, rule, world)
        if url is None or "GET" not in rule.methods:
            continue
        for client in (manager, clerk, anonymous):
            resp = client.get(url)
            if resp.mimetype == "text/html":
                seen += 1
                problems += header_problems(resp, f"GET {url} ({resp.status_code})")
    for client, url in ((anonymous, "/login"), (manager, "/no/such/page"),
                        (manager, "/property/units/999999"),
                        (manager, "/property/find?q=1502")):
        resp = client.get(url)
        seen += 1
        problems += header_problems(resp, f"GET {url} ({resp.status_code})")
    resp = manager.get("/property/find?q=1502", headers={"HX-Request": "true"})
    problems += header_problems(resp, "htmx partial /property/find")
    resp = manager.post("/property/buildings/new", data={"code": ""})
    problems += header_problems(resp, "422 form page")
    resp = manager.post("/property/buildings/new", data={"code": "7"}, csrf=False)
    problems += header_problems(resp, "400 CSRF page")
    assert seen > 60
    assert not problems, "\n".join(problems)


# ---- templates -------------------------------------------------------------------------------

SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.I | re.S)
HANDLER = re.compile(r"<[a-zA-Z][^>]*?\s(on[a-z]+)\s*=", re.S)
HX_ON = re.compile(r"\shx-on[:\-][\w:\-]*\s*=", re.I)
JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']\s*javascript:""", re.I)


def template_files():
    return sorted(TEMPLATES.rglob("*.html"))


def test_there_are_templates_to_scan():
    assert len(template_files()) > 20


@pytest.mark.parametrize("path", template_files(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_no_template_has_inline_script_or_event_handlers(path):
    """The CSP forbids inline script; one that slipped in would silently not run."""
    source = path.read_text(encoding="utf-8")
    problems = []
    for attrs, body in SCRIPT.findall(source):
        if body.strip():
            problems.append(f"inline <script> with content: {body.strip()[:60]!r}")
        if "src=" not in attrs:
            problems.append("<script> without src")
    problems += [f"event handler attribute {m}=" for m in HANDLER.findall(source)]
    problems += [f"htmx inline handler {m.strip()}" for m in HX_ON.findall(source)]
    problems += [f"javascript: URL in {m}" for m in JS_URL.findall(source)]
    assert not problems, f"{path.name}: " + "; ".join(problems)


def test_scripts_come_only_from_this_server():
    for path in template_files():
        for attrs, _ in SCRIPT.findall(path.read_text(encoding="utf-8")):
            assert not re.search(r"src\s*=\s*[\"'](https?:)?//", attrs), f"{path.name}: {attrs}"


# ---- CSRF ------------------------------------------------------------------------------------

def buildings(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Building.id)))


def test_a_post_without_a_csrf_token_is_refused_and_saves_nothing(db, login_as):
    manager = login_as("manager")
    resp = manager.post("/property/buildings/new", data={"code": "7"}, csrf=False)
    assert resp.status_code == 400
    assert "Reload the page and try again" in text(resp)
    assert buildings(db) == 0


def test_a_post_with_another_sessions_token_is_refused(app, db, login_as):
    manager = login_as("manager")
    stranger = app.test_client()
    forged = stranger.csrf_token()
    resp = manager.post("/property/buildings/new", data={"code": "7", "csrf_token": forged})
    assert resp.status_code == 400
    assert buildings(db) == 0


def test_a_post_with_a_made_up_token_is_refused(db, login_as):
    manager = login_as("manager")
    resp = manager.post("/property/buildings/new", data={"code": "7", "csrf_token": "abc.def"})
    assert resp.status_code == 400
    assert buildings(db) == 0


def test_the_login_form_needs_its_token_too(client, db):
    factories.user("clerk", username="alice")
    db.session.commit()
    resp = client.post("/login", data={"username": "alice", "password": factories.PASSWORD},
                       csrf=False)
    assert resp.status_code == 400
    assert client.get("/desk/").status_code == 302


def test_htmx_sends_the_token_in_a_header_and_that_works(db, login_as):
    """base.html puts the token in <body hx-headers>; htmx sends it as X-CSRFToken."""
    manager = login_as("manager")
    page = manager.get("/manage/").get_data(as_text=True)
    token = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', page).group(1)
    resp = manager.post("/property/buildings/new", data={"code": "7"}, csrf=False,
                        headers={"HX-Request": "true", "X-CSRFToken": token})
    assert resp.status_code == 302
    assert buildings(db) == 1


def test_an_htmx_post_without_the_header_is_refused(db, login_as):
    manager = login_as("manager")
    resp = manager.post("/property/buildings/new", data={"code": "7"}, csrf=False,
                        headers={"HX-Request": "true"})
    assert resp.status_code == 400
    assert buildings(db) == 0


# ---- htmx without a session ---------------------------------------------------------------------

def test_htmx_without_a_session_gets_401_and_a_redirect_to_login(client):
    resp = client.get("/property/find?q=1502", headers={
        "HX-Request": "true", "HX-Current-URL": "http://localhost/desk/?tab=find"})
    assert resp.status_code == 401
    target = urlsplit(resp.headers["HX-Redirect"])
    assert target.path == "/login"
    assert parse_qs(target.query)["next"] == ["/desk/?tab=find"]
    body = resp.get_data(as_text=True)
    assert 'name="password"' not in body and "<form" not in body


def test_htmx_after_the_session_ended_gets_401_too(app, db, login_as):
    clerk = login_as("clerk")
    user = clerk.user
    from app.services import staff
    staff.reset_password(db.session.merge(user), "another-pw")
    db.session.commit()
    resp = clerk.get("/property/find?q=1502", headers={"HX-Request": "true"})
    assert resp.status_code == 401
    assert urlsplit(resp.headers["HX-Redirect"]).path == "/login"


def test_htmx_redirect_never_points_off_site(client):
    resp = client.get("/property/find", headers={
        "HX-Request": "true", "HX-Current-URL": "https://evil.example//x"})
    assert resp.status_code == 401
    location = resp.headers["HX-Redirect"]
    assert urlsplit(location).netloc == "" and "evil" not in location


def test_a_plain_request_without_a_session_is_redirected_not_401(client):
    resp = client.get("/property/find?q=1502")
    assert resp.status_code == 302 and urlsplit(resp.headers["Location"]).path == "/login"


# ---- error pages ------------------------------------------------------------------------------

def test_the_403_page_is_friendly_in_english(login_as):
    worker = in_english(login_as("worker"))
    resp = worker.get("/manage/")
    assert resp.status_code == 403
    assert html_lang(resp) == "en"
    page = text(resp)
    assert "Not allowed" in page
    assert "Your role does not allow this. If you need it, ask the manager." in page
    assert "Back to my home screen" in page
    assert 'href="/field/"' in resp.get_data(as_text=True)  # the way back goes to their home


def test_the_403_page_is_friendly_in_chinese(app, login_as):
    worker = in_chinese(login_as("worker"))
    resp = worker.get("/manage/")
    assert resp.status_code == 403
    assert html_lang(resp) == "zh-CN"
    page = text(resp)
    assert chinese(app, "Not allowed") in page
    assert chinese(app, "Your role does not allow this. If you need it, ask the manager.") in page
    assert "Not allowed" not in page


def test_a_403_for_htmx_is_a_fragment_not_a_whole_page(login_as):
    resp = login_as("worker").get("/property/find?q=1", headers={"HX-Request": "true"})
    assert resp.status_code == 403
    body = resp.get_data(as_text=True)
    assert "Not allowed" in body and "<html" not in body


@pytest.mark.parametrize("signed_in", [False, True])
def test_a_404_is_a_friendly_page(client, login_as, signed_in):
    c = login_as("clerk") if signed_in else client
    resp = c.get("/no/such/page")
    assert resp.status_code == 404
    page = text(resp)
    assert "Not found" in page and "There is nothing at this address." in page
    assert "<html" in resp.get_data(as_text=True)


def test_a_missing_record_is_a_friendly_404(login_as):
    resp = login_as("clerk").get("/property/units/999999")
    assert resp.status_code == 404
    assert "There is nothing at this address." in text(resp)


def test_a_404_in_chinese(app, client):
    resp = in_chinese(client).get("/no/such/page")
    assert resp.status_code == 404
    assert chinese(app, "Not found") in text(resp)


def test_an_unexpected_error_shows_a_friendly_page_and_saves_nothing(app, db, login_as,
                                                                     monkeypatch):
    """Half a change never lands: the error handler rolls the request back."""
    from app.services import property as prop
    real = prop.create_building

    def half_then_crash(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(prop, "create_building", half_then_crash)
    monkeypatch.setitem(app.config, "PROPAGATE_TEST_ERRORS", False)
    manager = login_as("manager")
    resp = manager.post("/property/buildings/new", data={"code": "7"})
    assert resp.status_code == 500
    page = text(resp)
    assert "Something went wrong" in page and "Nothing was saved" in page
    assert "disk on fire" not in page and "Traceback" not in page
    assert buildings(db) == 0
