"""Signing in and out: landing screens, wrong passwords, locking, deactivation, sessions,
language."""
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from app.extensions import db as _db
from app.models import AuditEvent, ReceptionEntry, User
from app.services import clock
from tests import factories
from tests.web.pages import field_errors, html_lang, in_chinese, in_english, text

HOMES = {"clerk": "/desk/", "supervisor": "/supervise/", "worker": "/field/",
         "cashier": "/cashier/", "manager": "/manage/"}


def path_of(resp) -> str:
    return urlsplit(resp.headers["Location"]).path


def sign_in(app, username, password=factories.PASSWORD, client=None, **kw):
    client = client or in_english(app.test_client())
    return client, client.post("/login", data={"username": username, "password": password}, **kw)


def signed_in(client) -> bool:
    """True while the session still opens the signed-in home (not the login page)."""
    resp = client.get("/")
    return resp.status_code == 302 and path_of(resp) != "/login"


@pytest.fixture
def alice(db):
    user = factories.user("clerk", username="alice")
    db.session.commit()
    return user


@pytest.mark.parametrize("role", sorted(HOMES))
def test_login_lands_on_the_home_of_the_role(app, db, role):
    user = factories.user(role)
    db.session.commit()
    client, resp = sign_in(app, user.username)
    assert resp.status_code == 302
    assert path_of(resp) == HOMES[role]
    assert client.get(HOMES[role]).status_code == 200


def test_a_person_with_several_roles_lands_on_the_first_in_office_order(app, db):
    user = factories.user("manager", "clerk")
    db.session.commit()
    _, resp = sign_in(app, user.username)
    assert path_of(resp) == "/desk/"


def test_the_login_page_shows_a_form(client):
    resp = in_english(client).get("/login")
    assert resp.status_code == 200
    assert 'name="username"' in resp.text and 'name="password"' in resp.text


def test_username_ignores_case_and_surrounding_spaces(app, alice):
    _, resp = sign_in(app, "  ALICE ")
    assert resp.status_code == 302 and path_of(resp) == "/desk/"


def test_wrong_password_shows_a_message_under_the_password_field(app, db, alice):
    client, resp = sign_in(app, "alice", "not-it")
    assert resp.status_code == 422
    assert field_errors(resp, "password") == ["Wrong username or password."]
    assert not signed_in(client)
    db.session.expire_all()
    assert db.session.get(User, alice.id).failed_logins == 1


def test_an_unknown_username_gets_the_same_message(app, alice):
    """Nobody learns from the login page which usernames exist."""
    _, resp = sign_in(app, "mallory", "whatever")
    assert resp.status_code == 422
    assert field_errors(resp, "password") == ["Wrong username or password."]


def test_empty_fields_are_named(client, alice):
    resp = in_english(client).post("/login", data={"username": "", "password": ""})
    assert resp.status_code == 422
    assert field_errors(resp, "username") == ["Enter your username."]
    assert field_errors(resp, "password") == ["Enter your password."]


def test_five_wrong_passwords_in_a_row_lock_the_account(app, db, alice):
    client = in_english(app.test_client())
    for attempt in range(4):
        _, resp = sign_in(app, "alice", f"wrong-{attempt}", client=client)
        assert field_errors(resp, "password") == ["Wrong username or password."]
    _, resp = sign_in(app, "alice", "wrong-5", client=client)
    assert resp.status_code == 422
    [message] = field_errors(resp, "password")
    assert "locked" in message and "15 minutes" in message

    # even the right password is refused now, and the person is told why and for how long
    _, resp = sign_in(app, "alice", factories.PASSWORD, client=client)
    assert resp.status_code == 422
    [message] = field_errors(resp, "password")
    assert "locked" in message and "15 minutes" in message
    assert not signed_in(client)

    # from another browser too: the lock is on the account, not the session
    other, resp = sign_in(app, "alice")
    assert resp.status_code == 422 and not signed_in(other)

    db.session.expire_all()
    assert db.session.get(User, alice.id).locked_until > clock.now()
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.locked"))


def test_a_right_password_between_wrong_ones_starts_the_count_again(app, db, alice):
    client = app.test_client()
    for attempt in range(4):
        sign_in(app, "alice", f"wrong-{attempt}", client=client)
    _, resp = sign_in(app, "alice", client=client)
    assert resp.status_code == 302
    client.post("/logout")
    for attempt in range(4):
        _, resp = sign_in(app, "alice", f"wrong-{attempt}", client=client)
    assert field_errors(resp, "password") == ["Wrong username or password."]
    _, resp = sign_in(app, "alice", client=client)
    assert resp.status_code == 302


def test_the_message_says_how_long_the_lock_still_lasts(app, db, alice):
    alice.locked_until = clock.now() + timedelta(minutes=2, seconds=30)
    db.session.commit()
    _, resp = sign_in(app, "alice")
    [message] = field_errors(resp, "password")
    assert "locked" in message and "3 minutes" in message


def test_the_lock_expires(app, db, alice):
    alice.locked_until = clock.now() - timedelta(seconds=1)
    db.session.commit()
    client, resp = sign_in(app, "alice")
    assert resp.status_code == 302 and path_of(resp) == "/desk/"
    assert signed_in(client)
    db.session.expire_all()
    assert db.session.get(User, alice.id).locked_until is None


def test_a_deactivated_account_cannot_sign_in_and_its_open_session_ends(app, db, login_as, alice):
    clerk, _ = sign_in(app, "alice")
    assert clerk.get("/desk/").status_code == 200

    manager = login_as("manager")
    resp = manager.post(f"/manage/staff/{alice.id}/active", data={"active": "0"})
    assert resp.status_code == 302

    resp = clerk.get("/desk/")
    assert resp.status_code == 302 and path_of(resp) == "/login"
    _, resp = sign_in(app, "alice")
    assert resp.status_code == 422
    assert field_errors(resp, "username") == ["This account has been deactivated. Ask the manager."]


def test_a_reactivated_account_can_sign_in_again(app, db, login_as, alice):
    manager = login_as("manager")
    manager.post(f"/manage/staff/{alice.id}/active", data={"active": "0"})
    manager.post(f"/manage/staff/{alice.id}/active", data={"active": "1"})
    _, resp = sign_in(app, "alice")
    assert resp.status_code == 302


def test_a_password_reset_by_the_manager_ends_the_persons_sessions(app, db, login_as, alice):
    phone, _ = sign_in(app, "alice")
    desk, _ = sign_in(app, "alice")
    manager = login_as("manager")
    resp = manager.post(f"/manage/staff/{alice.id}/password", data={"password": "new-pin-2026"})
    assert resp.status_code == 302

    for client in (phone, desk):
        resp = client.get("/desk/")
        assert resp.status_code == 302 and path_of(resp) == "/login"
    assert sign_in(app, "alice")[1].status_code == 422          # the old password is gone
    assert sign_in(app, "alice", "new-pin-2026")[1].status_code == 302
    assert signed_in(manager)                                    # the manager's own session stays


def test_changing_ones_own_password_ends_the_other_sessions_but_keeps_this_one(app, db, alice):
    here, _ = sign_in(app, "alice")
    elsewhere, _ = sign_in(app, "alice")
    resp = here.post("/account/password", data={
        "current": factories.PASSWORD, "password": "brand-new", "confirm": "brand-new"})
    assert resp.status_code == 302
    assert here.get("/desk/").status_code == 200
    assert path_of(elsewhere.get("/desk/")) == "/login"


def test_changing_the_password_needs_the_current_one(app, db, alice):
    here, _ = sign_in(app, "alice")
    resp = here.post("/account/password", data={
        "current": "guess", "password": "brand-new", "confirm": "brand-new"})
    assert resp.status_code == 422
    assert field_errors(resp, "current") == ["This is not your current password."]
    assert sign_in(app, "alice")[1].status_code == 302


def test_passwords_are_stored_as_scrypt_hashes_at_full_strength(app, db, monkeypatch):
    """(The suite hashes cheaply for speed; production does not.)"""
    import werkzeug.security

    from app.models import users
    monkeypatch.setattr(users, "generate_password_hash", werkzeug.security.generate_password_hash)
    user = factories.user("clerk", username="strong")
    db.session.commit()
    stored = user.password_hash
    assert stored.startswith("scrypt:32768:8:1$")
    assert factories.PASSWORD not in stored
    assert sign_in(app, "strong")[1].status_code == 302
    assert sign_in(app, "strong", "secret-pw ")[1].status_code == 422


def test_sign_out_ends_the_session(app, alice):
    client, _ = sign_in(app, "alice")
    resp = client.post("/logout")
    assert resp.status_code == 302 and path_of(resp) == "/login"
    assert path_of(client.get("/desk/")) == "/login"


def test_sign_out_is_not_a_link(app, alice):
    """A GET cannot sign anyone out (an image tag on another page could otherwise do it)."""
    client, _ = sign_in(app, "alice")
    assert client.get("/logout").status_code == 405
    assert signed_in(client)


def test_role_switch_for_a_person_with_several_roles(app, db):
    factories.user("clerk", "supervisor", username="zhao")
    db.session.commit()
    client, resp = sign_in(app, "zhao")
    assert path_of(resp) == "/desk/"
    assert 'name="role"' in client.get("/desk/").text  # the switcher is offered

    resp = client.post("/role", data={"role": "supervisor"})
    assert resp.status_code == 302 and path_of(resp) == "/supervise/"
    assert path_of(client.get("/")) == "/supervise/"
    # both roles' screens stay open to them; the switch only changes where they work
    assert client.get("/desk/").status_code == 200

    resp = client.post("/role", data={"role": "manager"})
    assert resp.status_code == 403
    assert path_of(client.get("/")) == "/supervise/"


def test_a_single_role_person_gets_no_role_switcher(login_as):
    assert 'name="role"' not in login_as("clerk").get("/desk/").text


def test_the_language_choice_is_remembered_for_the_account(app, db, alice):
    client, _ = sign_in(app, "alice", client=in_chinese(app.test_client()))
    assert html_lang(client.get("/desk/")) == "zh-CN"

    resp = client.post("/language", data={"locale": "en", "next": "/desk/"})
    assert resp.status_code == 302 and path_of(resp) == "/desk/"
    assert html_lang(client.get("/desk/")) == "en"
    db.session.expire_all()
    assert db.session.get(User, alice.id).locale == "en"

    client.post("/logout")
    # another browser, set to Chinese: the account's choice wins
    fresh, _ = sign_in(app, "alice", client=in_chinese(app.test_client()))
    page = fresh.get("/desk/")
    assert html_lang(page) == "en"
    assert "Sign out" in text(page)


def test_switching_back_to_chinese(app, db, alice):
    client, _ = sign_in(app, "alice")
    client.post("/language", data={"locale": "en"})
    client.post("/language", data={"locale": "zh_CN"})
    assert html_lang(client.get("/desk/")) == "zh-CN"
    db.session.expire_all()
    assert db.session.get(User, alice.id).locale == "zh_CN"


def test_the_language_switch_works_before_signing_in(client):
    resp = client.post("/language", data={"locale": "en", "next": "/login"})
    assert resp.status_code == 302 and path_of(resp) == "/login"
    assert html_lang(client.get("/login")) == "en"


def test_an_unknown_language_is_refused(client):
    assert client.post("/language", data={"locale": "xx"}).status_code == 400


def test_an_anonymous_visitor_is_sent_to_login_and_back_afterwards(app, alice):
    client = app.test_client()
    resp = client.get("/property/find?q=1502")
    assert resp.status_code == 302 and path_of(resp) == "/login"
    login_url = resp.headers["Location"]
    assert "next=" in login_url
    resp = client.post(login_url, data={"username": "alice", "password": factories.PASSWORD})
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("/property/find?q=1502")


OFF_SITE = [
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "http:/evil.example",
    "/\t/evil.example",   # browsers drop tabs and newlines from a Location: this is //evil.example
    "/\n/evil.example",
    " //evil.example",
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_next_cannot_send_a_person_off_site_after_login(app, alice, target):
    client = app.test_client()
    resp = client.post("/login", query_string={"next": target},
                       data={"username": "alice", "password": factories.PASSWORD})
    if any(ord(ch) < 32 for ch in target):  # an address with control characters: refused whole
        assert resp.status_code == 400 and "Location" not in resp.headers
        return
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert urlsplit(location).netloc in ("", "localhost"), location
    assert path_of(resp) == "/desk/"


@pytest.mark.parametrize("target", OFF_SITE)
def test_next_cannot_send_a_person_off_site_after_a_language_switch(client, target):
    resp = client.post("/language", data={"locale": "en", "next": target})
    assert resp.status_code == 302
    assert urlsplit(resp.headers["Location"]).netloc in ("", "localhost")
    assert "evil" not in resp.headers["Location"]


def test_the_session_cookie_is_httponly_and_samesite_lax(app, alice):
    _, resp = sign_in(app, "alice")
    cookies = [c for c in resp.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, resp.headers
    flags = [part.strip().lower() for part in cookies[-1].split(";")]
    assert "httponly" in flags
    assert "samesite=lax" in flags


@pytest.fixture
def https_app(database_url, tmp_path):
    """The app as configured behind a TLS proxy (PSD_HTTPS=1), on the suite's database."""
    from app import create_app
    from tests.conftest import CSRFClient, make_config

    class BehindHttps(make_config(database_url, tmp_path / "instance")):
        BEHIND_HTTPS = True
    secure = create_app(BehindHttps)
    secure.test_client_class = CSRFClient
    yield secure
    with secure.app_context():
        from app.extensions import db as _db
        _db.engine.dispose()


def test_behind_https_the_cookie_is_secure_and_hsts_is_sent(https_app, alice):
    client = in_english(https_app.test_client())
    client.environ_base["wsgi.url_scheme"] = "https"  # as the TLS proxy hands requests on
    login_page = client.get("/login")
    assert login_page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    # over HTTPS, Flask-WTF also checks that the form came from this site (as a browser says)
    resp = client.post("/login", data={"username": "alice", "password": factories.PASSWORD},
                       headers={"Referer": "https://localhost/login"})
    assert resp.status_code == 302
    cookie = next(c for c in resp.headers.getlist("Set-Cookie") if c.startswith("session="))
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert "secure" in flags and "httponly" in flags
    assert "Strict-Transport-Security" in resp.headers


def test_on_plain_http_no_hsts_and_the_cookie_works_without_tls(app, alice):
    _, resp = sign_in(app, "alice")
    cookie = next(c for c in resp.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "secure" not in [part.strip().lower() for part in cookie.split(";")]
    assert "Strict-Transport-Security" not in resp.headers


def test_a_new_session_is_started_at_login(app, alice):
    """Whatever an anonymous visitor's session held (e.g. a planted role) does not carry over."""
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["role"] = "manager"
        sess["planted"] = "x"
    sign_in(app, "alice", client=client)
    with client.session_transaction() as sess:
        assert "planted" not in sess and sess.get("role") != "manager"
    assert path_of(client.get("/")) == "/desk/"


def test_a_shared_desk_pc_does_not_pass_one_persons_language_to_the_next(app, db):
    """The manager switches to English and signs out; the clerk signs in on the same browser:
    the login page stays English, but the clerk's account does not become English."""
    factories.user("manager", username="wang")
    clerk = factories.user("clerk", username="liu")
    db.session.commit()
    browser = app.test_client()
    browser.post("/login", data={"username": "wang", "password": factories.PASSWORD},
                 headers={"Accept-Language": "zh-CN"})
    browser.post("/language", data={"locale": "en"})
    browser.post("/logout")
    assert 'lang="en"' in browser.get("/login", headers={"Accept-Language": "zh-CN"}).text
    browser.post("/login", data={"username": "liu", "password": factories.PASSWORD})
    db.session.expire_all()
    assert db.session.get(User, clerk.id).locale is None
    assert db.session.scalar(select(User).where(User.username == "wang")).locale == "en"


def test_the_language_picked_on_the_login_page_becomes_the_accounts(app, db):
    user = factories.user("clerk", username="liu")
    db.session.commit()
    browser = app.test_client()
    browser.post("/language", data={"locale": "en"})
    browser.post("/login", data={"username": "liu", "password": factories.PASSWORD})
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "en"


def _copied_cookie(client) -> str:
    return client.get_cookie("session").value


def _replay(app, cookie: str):
    """Another browser that holds a copy of the session cookie."""
    other = in_english(app.test_client())
    other.set_cookie("session", cookie)
    return other


def test_a_cookie_copied_before_sign_out_opens_nothing_afterwards(app, alice):
    client, _ = sign_in(app, "alice")
    cookie = _copied_cookie(client)
    assert signed_in(_replay(app, cookie))  # the copy works while the session lasts
    client.post("/logout")
    thief = _replay(app, cookie)
    assert not signed_in(thief)
    assert path_of(thief.get("/desk/")) == "/login"
    resp = thief.post("/desk/contacts", data={"channel": "phone", "kind": "enquiry",
                                              "request": "还在吗？", "answer": "在"})
    assert resp.status_code in (302, 401) and path_of(resp) == "/login"
    assert _db.session.scalar(select(func.count()).select_from(ReceptionEntry)) == 0


def test_signing_out_on_one_browser_leaves_the_others_signed_in(app, alice):
    desk, _ = sign_in(app, "alice")
    phone, _ = sign_in(app, "alice")
    desk.post("/logout")
    assert not signed_in(desk) and signed_in(phone)


def test_a_password_change_ends_the_other_sessions_but_not_ones_own(app, alice):
    desk, _ = sign_in(app, "alice")
    phone, _ = sign_in(app, "alice")
    kept = _copied_cookie(phone)
    resp = desk.post("/account/password", data={"current": factories.PASSWORD,
                                                "password": "a-new-pass-77",
                                                "confirm": "a-new-pass-77"})
    assert resp.status_code == 302, resp.text
    assert signed_in(desk)
    assert not signed_in(phone) and not signed_in(_replay(app, kept))
