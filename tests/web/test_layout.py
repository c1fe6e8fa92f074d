"""The chrome follows the role: a worker gets the phone bars on every page, the office the
top bar."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tests import factories
from tests.moments import past_list_date
from tests.web.pages import grab


def _tags(resp) -> list[tuple[str, list]]:
    """Every start tag of the page with its attributes, in order."""
    found = []

    class P(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    P().feed(resp.get_data(as_text=True))
    return found


def body_classes(resp) -> list[str]:
    return next(dict(a) for t, a in _tags(resp) if t == "body").get("class", "").split()


def tab_links(resp) -> list[str]:
    """The hrefs of the bottom tab bar."""
    tags = _tags(resp)
    start = next((i for i, (t, a) in enumerate(tags) if t == "nav"
                  and "tabbar" in dict(a).get("class", "")), None)
    if start is None:
        return []
    links = []
    for t, a in tags[start + 1:]:
        if t == "nav":
            break
        if t == "a":
            links.append(dict(a)["href"])
    return links


def has(resp, css_class: str) -> bool:
    return any(css_class in dict(a).get("class", "").split() for _, a in _tags(resp))


@pytest.fixture
def v1(db):
    factories.price_list(factories.user("manager", username="wang"), number=1,
                         effective=past_list_date())
    db.session.commit()


@pytest.mark.parametrize("path, status", [
    ("/field/", 200), ("/field/prices", 200), ("/account/password", 200), ("/catalogue/", 200),
    ("/catalogue/versions", 200), ("/desk/", 403), ("/nowhere", 404)])
def test_a_worker_gets_the_phone_layout_on_every_page(login_as, v1, path, status):
    resp = login_as("worker").get(path)
    assert resp.status_code == status
    assert "phone" in body_classes(resp)
    assert has(resp, "phonebar") and has(resp, "tabbar") and not has(resp, "topbar")
    assert tab_links(resp) == ["/field/", "/field/prices", "/account/password"]


def test_the_workers_name_is_the_tab_to_their_password(login_as, v1):
    worker = login_as("worker")
    resp = worker.get("/catalogue/")
    me = grab(resp, lambda t, a: t == "a" and "me" in a.get("class", "").split())
    assert me == [f"◉ {worker.user.full_name}"]
    current = grab(worker.get("/account/password"),
                   lambda t, a: t == "a" and a.get("aria-current") == "page")
    assert current == [f"◉ {worker.user.full_name}"]


@pytest.mark.parametrize("role", ["clerk", "supervisor", "cashier", "manager"])
def test_the_office_gets_the_top_bar(login_as, v1, role):
    resp = login_as(role).get("/account/password")
    assert "office" in body_classes(resp)
    assert has(resp, "topbar") and not has(resp, "phonebar") and not has(resp, "tabbar")


def test_the_chrome_follows_the_role_switched_to(app, db, v1):
    lead = factories.user("supervisor", "worker", username="lead")
    db.session.commit()
    client = app.test_client()
    client.post("/login", data={"username": "lead", "password": factories.PASSWORD})
    assert has(client.get("/catalogue/"), "topbar")
    client.post("/role", data={"role": "worker"})
    resp = client.get("/catalogue/")
    assert has(resp, "phonebar") and not has(resp, "topbar")
    me = grab(resp, lambda t, a: t == "a" and "me" in a.get("class", "").split())
    assert me == [f"◉ {lead.full_name}"]
    # the worker's own screens keep the phone layout whichever role is active
    client.post("/role", data={"role": "supervisor"})
    assert has(client.get("/field/"), "phonebar")


def test_the_login_page_has_the_office_top_bar(client):
    resp = client.get("/login")
    assert has(resp, "topbar") and not has(resp, "tabbar")
    assert "login" in body_classes(resp)
