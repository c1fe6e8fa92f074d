"""The sign-in limits hold under a burst and per network address, on SQLite and PostgreSQL.

An account locks at the fifth wrong password however the tries are timed (40 sent at once
count 40); an address that sends many wrong passwords across accounts is slowed (429) without
locking anyone, and the same account still signs in from another address.
"""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from app import create_app
from app.extensions import db as _db
from app.models import AuditEvent, SignInThrottle, User
from tests import factories
from tests.conftest import CSRFClient, make_config

BURST = 40


@pytest.fixture
def crowd_app(database_url, tmp_path):
    """A second app on the suite's database with a pool for 40 connections at once."""
    class Crowd(make_config(database_url, tmp_path / "instance")):
        SQLALCHEMY_ENGINE_OPTIONS = {"pool_size": BURST + 2, "max_overflow": 0,
                                     "pool_timeout": 30}
    crowd = create_app(Crowd)
    crowd.test_client_class = CSRFClient
    yield crowd
    with crowd.app_context():
        _db.engine.dispose()


def post_login(client, username: str, password: str, address: str = "127.0.0.1"):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_forty_wrong_passwords_at_once_lock_the_account(real_db, app, db, crowd_app):
    alice = factories.user("clerk", username="alice")
    db.session.commit()
    clients = [crowd_app.test_client() for _ in range(BURST)]
    for c in clients:
        c.csrf_token()  # each browser has its session before the burst
    barrier = threading.Barrier(BURST)
    answers: list[tuple[int, str]] = []
    errors: list[str] = []

    def guess(client, n: int) -> None:
        try:
            barrier.wait(timeout=30)
            # from many addresses, so only the account's own count can stop them
            resp = post_login(client, "alice", f"wrong-{n}", f"10.1.{n}.1")
            answers.append((resp.status_code, resp.get_data(as_text=True)))
        except Exception as err:  # noqa: BLE001  (every failure is reported by the test)
            errors.append(f"{type(err).__name__}: {err}")

    threads = [threading.Thread(target=guess, args=(c, n)) for n, c in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == [] and [code for code, _ in answers] == [422] * BURST
    db.session.expire_all()
    locked = db.session.get(User, alice.id)
    assert locked.is_locked
    # Every try that reached the password check counted, none lost to the race: each lock
    # took four "wrong password" answers and the fifth try, and what is left is still counted.
    # (Tries that arrived after the lock was committed were refused before the check.)
    wrong = sum("Wrong username or password." in body for _, body in answers)
    locks = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "user.locked", AuditEvent.entity_id == alice.id))
    assert locks >= 1 and wrong == 4 * locks + locked.failed_logins
    resp = post_login(app.test_client(), "alice", factories.PASSWORD)
    assert resp.status_code == 422 and "This account is locked" in resp.get_data(as_text=True)


def test_four_typos_then_the_right_password_signs_in(client, db):
    factories.user("clerk", username="alice")
    db.session.commit()
    for n in range(4):
        assert post_login(client, "alice", f"typo-{n}").status_code == 422
    assert post_login(client, "alice", factories.PASSWORD).status_code == 302
    assert db.session.scalar(select(User.failed_logins).where(User.username == "alice")) == 0


def test_many_wrong_passwords_from_one_address_slow_that_address_only(app, db, frozen):
    bob = factories.user("worker", username="bob")
    db.session.commit()
    limit = app.config["ADDRESS_MAX_FAILURES"]
    sprayer = app.test_client()
    for n in range(limit):  # unknown names and wrong passwords of several accounts
        name = "bob" if n % 5 == 0 else f"nobody{n}"
        assert post_login(sprayer, name, "guess", "10.9.9.9").status_code == 422
    refused = post_login(sprayer, "nobody-else", "guess", "10.9.9.9")
    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    assert "Too many failed sign-ins from this network. Wait 10 minutes" in page
    # even the right password waits at that address; the account itself is not locked
    assert post_login(app.test_client(), "bob", factories.PASSWORD, "10.9.9.9").status_code == 429
    db.session.expire_all()
    assert not db.session.get(User, bob.id).is_locked
    assert post_login(app.test_client(), "bob", factories.PASSWORD, "10.9.9.10").status_code == 302
    # the window ends: the address may try again
    frozen.advance(minutes=app.config["ADDRESS_WINDOW_MINUTES"], seconds=1)
    assert post_login(app.test_client(), "bob", factories.PASSWORD, "10.9.9.9").status_code == 302


def test_the_address_count_holds_under_a_burst(real_db, app, db, crowd_app):
    clients = [crowd_app.test_client() for _ in range(BURST)]
    for c in clients:
        c.csrf_token()
    barrier = threading.Barrier(BURST)
    answers: list[int] = []

    def spray(client, n: int) -> None:
        barrier.wait(timeout=30)
        answers.append(post_login(client, f"ghost{n}", "guess", "10.7.7.7").status_code)

    threads = [threading.Thread(target=spray, args=(c, n)) for n, c in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(answers) == BURST and set(answers) <= {422, 429}
    db.session.expire_all()
    row = db.session.get(SignInThrottle, "10.7.7.7")
    # every refused try that got past the check counted; those stopped at the check did not
    assert row.failures == answers.count(422) >= app.config["ADDRESS_MAX_FAILURES"]
    assert post_login(app.test_client(), "ghost", "guess", "10.7.7.7").status_code == 429
