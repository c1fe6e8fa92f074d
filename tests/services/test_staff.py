"""Staff accounts: creating them, signing in with throttling, the manager's administration."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.domain.errors import DomainError
from app.models import User
from app.services import clock, staff
from tests import factories


@pytest.fixture(autouse=True)
def english(app, db):
    from flask_babel import force_locale
    with app.test_request_context(), force_locale("en"):
        yield


def users(db) -> int:
    return db.session.scalar(select(func.count(User.id)))


def refused(call, field: str, words: str) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.field == field, caught.value.field
    assert words in str(caught.value.message), str(caught.value.message)
    return caught.value


# ---- creating accounts ---------------------------------------------------------------------------

def test_create_user(db):
    user = staff.create_user(" liufang ", " 刘芳 ", "pw-12345678", ["manager", "clerk"], " 139 ")
    assert (user.username, user.full_name, user.phone) == ("liufang", "刘芳", "139")
    assert user.roles == ["clerk", "manager"]  # office order, whatever order they were given in
    assert (user.active and user.check_password("pw-12345678")
            and not user.check_password("pw-1234567"))
    assert user.password_hash.startswith("scrypt:")


@pytest.mark.parametrize("username, full_name, password, roles, field, words", [
    ("", "刘芳", "pw-12345678", ["clerk"], "username", "Enter a username."),
    ("  ", "刘芳", "pw-12345678", ["clerk"], "username", "Enter a username."),
    ("LiuFang", "刘芳", "pw-12345678", ["clerk"], "username", "already taken"),
    ("xiaowang", " ", "pw-12345678", ["clerk"], "full_name", "Enter the person's name."),
    ("xiaowang", "王", "1234567", ["clerk"], "password", "at least 8 characters"),
    ("xiaowang", "王", "12345", ["worker"], "password", "at least 6 characters"),
    ("xiaowang", "王", "pw-12345678", [], "roles", "at least one role"),
])
def test_create_user_refuses_bad_input(db, username, full_name, password, roles, field, words):
    staff.create_user("liufang", "刘芳", "pw-12345678", ["clerk"])
    before = users(db)
    refused(lambda: staff.create_user(username, full_name, password, roles), field, words)
    assert users(db) == before


# ---- signing in ----------------------------------------------------------------------------------

@pytest.fixture
def alice(db):
    user = factories.user("clerk", username="alice")
    db.session.commit()
    return user


def test_authenticate(db, alice):
    assert staff.authenticate("Alice ", factories.PASSWORD) is alice


def test_a_wrong_password_and_an_unknown_user_read_the_same(db, alice):
    a = refused(lambda: staff.authenticate("alice", "nope"), "password", "Wrong username")
    b = refused(lambda: staff.authenticate("nobody", "nope"), "password", "Wrong username")
    assert str(a.message) == str(b.message)
    assert alice.failed_logins == 1


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(app, db, alice):
    for _ in range(4):
        refused(lambda: staff.authenticate("alice", "nope"), "password", "Wrong username")
    refused(lambda: staff.authenticate("alice", "nope"), "password", "15 minutes")
    remaining = alice.locked_until - clock.now()
    assert timedelta(minutes=14) < remaining <= timedelta(minutes=15)
    refused(lambda: staff.authenticate("alice", factories.PASSWORD), "password", "locked")


def test_the_lock_ends_by_itself(db, alice):
    alice.locked_until = clock.now() - timedelta(seconds=1)
    assert staff.authenticate("alice", factories.PASSWORD) is alice
    assert alice.locked_until is None and alice.failed_logins == 0


def test_a_right_password_clears_the_count(db, alice):
    for _ in range(4):
        refused(lambda: staff.authenticate("alice", "nope"), "password", "Wrong")
    staff.authenticate("alice", factories.PASSWORD)
    assert alice.failed_logins == 0
    refused(lambda: staff.authenticate("alice", "nope"), "password", "Wrong")
    assert alice.locked_until is None


def test_a_deactivated_account_cannot_sign_in(db, alice):
    boss = factories.user("manager")
    staff.set_active(alice, False, acting=boss)
    refused(lambda: staff.authenticate("alice", factories.PASSWORD), "username", "deactivated")
    # a wrong password tells a stranger nothing about the account
    refused(lambda: staff.authenticate("alice", "nope"), "password", "Wrong username")


# ---- the manager's administration ----------------------------------------------------------------

def test_update_user_changes_name_phone_and_roles(db):
    boss = factories.user("manager")
    user = factories.user("clerk")
    staff.update_user(user, full_name="赵强", phone="138", roles=["supervisor", "worker"],
                         acting=boss)
    assert (user.full_name, user.phone, user.roles) == ("赵强", "138", ["supervisor", "worker"])


def test_the_last_manager_keeps_the_role(db):
    boss = factories.user("manager")
    refused(lambda: staff.update_user(boss, full_name="王", phone="", roles=["clerk"],
                                         acting=boss), "roles", "at least one active manager")
    assert boss.roles == ["manager"]
    second = factories.user("manager")
    staff.update_user(boss, full_name="王", phone="", roles=["clerk"], acting=second)
    assert boss.roles == ["clerk"]


def test_an_inactive_manager_does_not_count_as_the_other_manager(db):
    boss = factories.user("manager")
    old = factories.user("manager")
    staff.set_active(old, False, acting=boss)
    refused(lambda: staff.update_user(boss, full_name="王", phone="", roles=["clerk"],
                                         acting=boss), "roles", "active manager")


def test_update_user_refuses_an_empty_name_or_no_roles(db):
    boss = factories.user("manager")
    user = factories.user("clerk")
    refused(lambda: staff.update_user(user, full_name=" ", phone="", roles=["clerk"],
                                         acting=boss), "full_name", "Enter the person's name.")
    refused(lambda: staff.update_user(user, full_name="x", phone="", roles=[],
                                         acting=boss), "roles", "at least one role")
    assert user.roles == ["clerk"]


def test_reset_password_ends_sessions_and_unlocks(db, alice):
    version = alice.session_version
    alice.locked_until = clock.now() + timedelta(minutes=10)
    staff.reset_password(alice, "new-pass-1")
    assert alice.session_version == version + 1
    assert alice.locked_until is None
    assert staff.authenticate("alice", "new-pass-1") is alice


def test_reset_password_refuses_a_short_one(db, alice):
    refused(lambda: staff.reset_password(alice, "1234567"), "password", "at least 8")
    assert alice.check_password(factories.PASSWORD)


def test_deactivation_ends_sessions_and_keeps_history(db, alice):
    boss = factories.user("manager")
    version = alice.session_version
    staff.set_active(alice, False, acting=boss)
    assert not alice.active and not alice.is_active and alice.session_version == version + 1
    assert db.session.get(User, alice.id) is alice  # the account stays, for the record
    staff.set_active(alice, True, acting=boss)
    assert alice.active


def test_nobody_deactivates_themself(db):
    boss = factories.user("manager")
    factories.user("manager")
    with pytest.raises(DomainError):
        staff.set_active(boss, False, acting=boss)
    assert boss.active


def test_the_last_active_manager_cannot_be_deactivated(db):
    boss = factories.user("manager")
    other = factories.user("manager", "clerk")
    staff.set_active(other, False, acting=boss)
    with pytest.raises(DomainError) as caught:
        staff.set_active(boss, False, acting=other)
    assert "at least one active manager" in str(caught.value.message)
    assert boss.active


def test_set_locale(db, alice):
    staff.set_locale(alice, "en")
    assert alice.locale == "en"
