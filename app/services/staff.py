"""Signing in (with throttling) and the manager's staff administration."""
from __future__ import annotations

import math
import secrets
from collections.abc import Iterable
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from app.domain.errors import DomainError
from app.domain.roles import Role
from app.extensions import db
from app.models.users import SignInThrottle, StaffSession, User, UserRole
from app.services import clock
from app.services.audit import record

# Workers type their password on a phone at the door; office accounts reach money and staff.
MIN_PASSWORD_WORKER = 6
MIN_PASSWORD_OFFICE = 8
# the office sets short PINs for workers; the manager's own should be longer
_DUMMY_HASH = generate_password_hash("not-a-password", method="scrypt")


class Throttled(DomainError):
    """Too many failed sign-ins from one address: it must wait (HTTP 429)."""

    status = 429


def _locked_message(minutes: int) -> str:
    return ngettext(
        "Too many wrong passwords. This account is locked; try again in %(num)d minute.",
        "Too many wrong passwords. This account is locked; try again in %(num)d minutes.",
        minutes)


def authenticate(username: str, password: str, address: str | None = None) -> User:
    """The account for these credentials. Raises DomainError (field 'password') otherwise.

    After LOGIN_MAX_FAILURES wrong passwords in a row the account is locked for
    LOGIN_LOCK_MINUTES, even against the right password, and the message says so. Every
    failure also counts against the address it came from: past ADDRESS_MAX_FAILURES within
    ADDRESS_WINDOW_MINUTES that address gets Throttled until the window ends (it locks no
    account, so an office behind one router is only slowed). Counting is one UPDATE per
    failure, so parallel tries each count. The caller commits, also after a failure.
    """
    if address:
        _refuse_a_throttled(address)
    try:
        return _check_credentials(username, password)
    except DomainError:
        if address:
            _count_address_failure(address)
        raise


def _check_credentials(username: str, password: str) -> User:
    user = db.session.scalar(
        select(User).where(func.lower(User.username) == username.strip().lower()))
    wrong = DomainError(_l("Wrong username or password."), "password")
    if user is None:
        check_password_hash(_DUMMY_HASH, password)  # same time as a real check: no enumeration
        raise wrong
    now = clock.now()
    if user.locked_until and user.locked_until > now:
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        raise DomainError(_locked_message(minutes), "password")
    cfg = current_app.config
    if not user.check_password(password):
        failures = db.session.scalar(
            update(User).where(User.id == user.id).values(failed_logins=User.failed_logins + 1)
            .returning(User.failed_logins).execution_options(synchronize_session=False))
        if failures >= cfg["LOGIN_MAX_FAILURES"]:
            until = now + timedelta(minutes=cfg["LOGIN_LOCK_MINUTES"])
            # Only the try that reached the limit locks (and starts the count again).
            locked = db.session.scalar(
                update(User).where(User.id == user.id,
                                   User.failed_logins >= cfg["LOGIN_MAX_FAILURES"])
                .values(locked_until=until, failed_logins=0).returning(User.id)
                .execution_options(synchronize_session=False))
            db.session.expire(user, ["failed_logins", "locked_until"])
            if locked is not None:
                record("user.locked", "user", user.id, user.username, actor_id=user.id,
                       after={"locked_until": until.isoformat()})
            raise DomainError(_locked_message(cfg["LOGIN_LOCK_MINUTES"]), "password")
        db.session.expire(user, ["failed_logins"])
        raise wrong
    if not user.active:
        raise DomainError(_l("This account has been deactivated. Ask the manager."), "username")
    # The right password clears the count, unless a parallel burst locked the account meanwhile.
    cleared = db.session.scalar(
        update(User).where(User.id == user.id,
                           or_(User.locked_until.is_(None), User.locked_until <= now))
        .values(failed_logins=0, locked_until=None).returning(User.id)
        .execution_options(synchronize_session=False))
    db.session.expire(user, ["failed_logins", "locked_until"])
    if cleared is None:
        raise DomainError(_locked_message(cfg["LOGIN_LOCK_MINUTES"]), "password")
    record("user.login", "user", user.id, user.username, actor_id=user.id)
    return user


def _address_window() -> timedelta:
    return timedelta(minutes=current_app.config["ADDRESS_WINDOW_MINUTES"])


def _refuse_a_throttled(address: str) -> None:
    row = db.session.get(SignInThrottle, address[:64], populate_existing=True)
    if row is None or row.failures < current_app.config["ADDRESS_MAX_FAILURES"]:
        return
    left = (row.window_start + _address_window() - clock.now()).total_seconds()
    if left > 0:
        minutes = max(1, math.ceil(left / 60))
        raise Throttled(ngettext(
            "Too many failed sign-ins from this network. Wait %(num)d minute and try again.",
            "Too many failed sign-ins from this network. Wait %(num)d minutes and try again.",
            minutes), "password")


def _count_address_failure(address: str) -> None:
    """One more failure for the address, in one UPDATE (a new window when the old one ended)."""
    address, now = address[:64], clock.now()
    expired = SignInThrottle.window_start <= now - _address_window()
    bump = (update(SignInThrottle).where(SignInThrottle.address == address)
            .values(failures=case((expired, 1), else_=SignInThrottle.failures + 1),
                    window_start=case((expired, now), else_=SignInThrottle.window_start))
            .returning(SignInThrottle.failures).execution_options(synchronize_session=False))
    if db.session.scalar(bump) is not None:
        return
    try:
        with db.session.begin_nested():  # the address's first failure: create its row
            db.session.add(SignInThrottle(address=address, failures=1, window_start=now))
    except IntegrityError:  # another request created it at the same moment
        db.session.scalar(bump)


def _clean_roles(roles: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(Role(r).value for r in roles))  # each role once, in order
    if not chosen:
        raise DomainError(_l("Give the account at least one role."), "roles")
    return chosen


def min_password_length(roles: Iterable[str]) -> int:
    """Six characters for a worker-only account, eight for any office role."""
    return MIN_PASSWORD_WORKER if set(roles) <= {Role.WORKER.value} else MIN_PASSWORD_OFFICE


def _check_password(password: str, roles: Iterable[str]) -> None:
    need = min_password_length(roles)
    if len(password) < need:
        raise DomainError(_l("The password needs at least %(num)d characters.", num=need),
                          "password")


def create_user(username: str, full_name: str, password: str, roles: Iterable[str],
                phone: str = "", actor_id: int | None = None) -> User:
    """A new staff account. Raises DomainError for a taken username, no role, short password."""
    username = username.strip()
    if not username:
        raise DomainError(_l("Enter a username."), "username")
    taken = db.session.scalar(select(User.id).where(func.lower(User.username) == username.lower()))
    if taken:
        raise DomainError(_l("This username is already taken."), "username")
    if not full_name.strip():
        raise DomainError(_l("Enter the person's name."), "full_name")
    roles = _clean_roles(roles)
    _check_password(password, roles)
    user = User(username=username, full_name=full_name.strip(), phone=phone.strip())
    user.set_password(password)
    user.role_rows = [UserRole(r) for r in roles]
    db.session.add(user)
    db.session.flush()
    record("user.create", "user", user.id, username,
           after={"username": username, "full_name": user.full_name, "roles": user.roles},
           actor_id=actor_id)
    return user


def update_user(user: User, *, full_name: str, phone: str, roles: Iterable[str],
                acting: User) -> User:
    """Change a person's name, phone and roles. The last active manager keeps the role."""
    new_roles = _clean_roles(roles)
    if Role.MANAGER in user.roles and Role.MANAGER not in new_roles:
        _keep_a_manager(user, field="roles")
    if not full_name.strip():
        raise DomainError(_l("Enter the person's name."), "full_name")
    before = {"full_name": user.full_name, "phone": user.phone, "roles": user.roles}
    user.full_name = full_name.strip()
    user.phone = phone.strip()
    current = {r.role for r in user.role_rows}
    user.role_rows = [r for r in user.role_rows if r.role in new_roles] + [
        UserRole(r) for r in new_roles if r not in current]
    db.session.flush()
    after = {"full_name": user.full_name, "phone": user.phone, "roles": sorted(new_roles)}
    record("user.update", "user", user.id, user.username, before=before, after=after,
           actor_id=acting.id)
    return user


def start_session(user: User, address: str | None, agent: str | None) -> str:
    """A browser signs in: the id its cookie carries from now on."""
    sid = secrets.token_urlsafe(32)
    db.session.add(StaffSession(id=sid, user_id=user.id, address=(address or "")[:64],
                                agent=(agent or "")[:200]))
    db.session.flush()
    return sid


def session_is_open(sid: str | None, user_id: int) -> bool:
    """The cookie's session was started for this person and has not ended."""
    if not sid or not isinstance(sid, str):
        return False
    row = db.session.get(StaffSession, sid)
    return row is not None and row.user_id == user_id and row.ended_at is None


def end_session(sid: str | None) -> None:
    """Signed out: the cookie, even a copy of it kept elsewhere, opens nothing any more."""
    if sid and isinstance(sid, str):
        db.session.execute(update(StaffSession).where(StaffSession.id == sid,
                                                      StaffSession.ended_at.is_(None))
                           .values(ended_at=clock.now()))


def _end_sessions(user: User, keep: str | None = None) -> None:
    """Every open session of the account ends (but `keep`, the one asking)."""
    ending = update(StaffSession).where(StaffSession.user_id == user.id,
                                        StaffSession.ended_at.is_(None))
    if keep:
        ending = ending.where(StaffSession.id != keep)
    db.session.execute(ending.values(ended_at=clock.now()))
    user.session_version += 1


def reset_password(user: User, password: str, keep: str | None = None) -> None:
    """Set a new password; every open session of that account ends (but `keep`)."""
    _check_password(password, user.roles)
    user.set_password(password)
    _end_sessions(user, keep)
    user.failed_logins = 0
    user.locked_until = None
    record("user.reset_password", "user", user.id, user.username)


def change_own_password(user: User, current: str, new: str, keep: str | None = None) -> None:
    """A person changes their own password, proving the current one first; their other
    sessions end, the one they are using (`keep`) goes on."""
    if not user.check_password(current):
        raise DomainError(_l("This is not your current password."), "current")
    reset_password(user, new, keep)


def set_active(user: User, active: bool, acting: User) -> None:
    """Deactivate (cannot sign in; history stays) or reactivate an account."""
    if not active:
        if user.id == acting.id:
            raise DomainError(_l("You cannot deactivate your own account."))
        if Role.MANAGER in user.roles:
            _keep_a_manager(user)
        _end_sessions(user)
    user.active = active
    record("user.activate" if active else "user.deactivate", "user", user.id, user.username,
           actor_id=acting.id)


def _keep_a_manager(user: User, field: str | None = None) -> None:
    others = db.session.scalar(
        select(func.count(User.id)).join(UserRole)
        .where(UserRole.role == Role.MANAGER.value, User.active.is_(True), User.id != user.id))
    if not others:
        raise DomainError(_l("The property needs at least one active manager."), field)


def set_locale(user: User, locale: str) -> None:
    user.locale = locale


def accounts() -> list[User]:
    """Every staff account, active ones first, then by username."""
    return list(db.session.scalars(select(User).order_by(User.active.desc(), User.username)))


def everyone() -> list[User]:
    """Every account, active or not, by username (the audit trail's people)."""
    return list(db.session.scalars(select(User).order_by(User.username)))
