"""Fixtures: app (migrated database), client (CSRF on, real tokens), login_as(role), factories.

The whole suite runs on SQLite by default and on a throwaway PostgreSQL with PSD_TEST_PG=1.
"""
from __future__ import annotations

import os
import uuid
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import event, text
from sqlalchemy.orm import scoped_session, sessionmaker

from app import create_app
from app.config import TestConfig
from app.extensions import db as _db
from app.models import money_guard
from app.services import clock
from tests import factories
from tests.hashing import cheap_password_hashing  # noqa: F401  (autouse, session-wide)

USE_PG = os.environ.get("PSD_TEST_PG") == "1"
ARTIFACTS = Path(os.environ.get("PSD_ARTIFACTS")
                 or Path(__file__).resolve().parent.parent / "test-artifacts")
# `make test-clock` sets this to an ISO moment (e.g. 2027-01-31T23:50:00+08:00): the whole
# process's clock (datetime, time.time) is moved there by time-machine, and every test module
# starts at that moment again, so a month's end or a new year's eve is really "now" for each.
CLOCK_AT = os.environ.get("PSD_CLOCK_AT")


def pytest_collection_modifyitems(config, items):
    """With the clock moved, tests that need the real clock (marker `realtime`) are skipped."""
    if not CLOCK_AT:
        return
    for item in items:
        marker = item.get_closest_marker("realtime")
        if marker is not None:
            item.add_marker(pytest.mark.skip(reason=f"real clock needed: {marker.args[0]}"))


@pytest.fixture(scope="session", autouse=True)
def _moved_clock():
    """The system clock moved to PSD_CLOCK_AT for the whole run (nothing when it is unset)."""
    if not CLOCK_AT:
        yield None
        return
    import time_machine
    moment = datetime.fromisoformat(CLOCK_AT)
    if moment.tzinfo is None:
        raise pytest.UsageError("PSD_CLOCK_AT needs a UTC offset, e.g. 2027-01-31T23:50:00+08:00")
    with time_machine.travel(moment, tick=True) as traveller:
        yield traveller, moment


@pytest.fixture(scope="module", autouse=True)
def _each_module_starts_at_the_moved_clock(_moved_clock):
    """Every test module begins at PSD_CLOCK_AT again (the clock runs on within a module, so a
    signed cookie of a module-wide client is never younger than the clock that reads it)."""
    if _moved_clock is not None:
        traveller, moment = _moved_clock
        traveller.move_to(moment, tick=True)
    yield


class CSRFClient(FlaskClient):
    """A test client that sends the CSRF token a browser would, unless told csrf=False.

    The token is made from the session exactly as Flask-WTF makes the one in the page.
    Its browser asks for English (Accept-Language: en) so assertions read plainly; a test
    about Chinese sends its own Accept-Language header.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.environ_base.setdefault("HTTP_ACCEPT_LANGUAGE", "en")

    def csrf_token(self) -> str:
        app = self.application
        with self.session_transaction() as sess:
            if "csrf_token" not in sess:
                import hashlib
                sess["csrf_token"] = hashlib.sha1(os.urandom(64)).hexdigest()
            raw = sess["csrf_token"]
        return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)

    def open(self, *args, csrf: bool = True, key: bool = True, **kwargs):
        method = (kwargs.get("method") or "GET").upper()
        if method in ("POST", "PUT", "PATCH", "DELETE"):
            data = kwargs.get("data")
            if data is None:
                data = {}
            if isinstance(data, dict):
                # a copy: the caller's dict stays as it was, fit to send from another client
                data = dict(data)
                if csrf and "csrf_token" not in data:
                    data["csrf_token"] = self.csrf_token()
                # A form drawn by the browser carries a fresh request key; a test that is
                # about the key sends its own (or key=False to send none).
                if key and not any(k == "request_key" or k.endswith("-request_key")
                                   for k in data):
                    prefixes = {k.split("-", 1)[0] + "-" for k in data if "-" in k}
                    for prefix in {"", *prefixes}:  # a prefixed form's key is prefixed too
                        data[prefix + "request_key"] = uuid.uuid4().hex
                kwargs["data"] = data
        # Each request gets its own app context, as in production. Without this, requests made
        # while a test holds an app context would share one `g`: the signed-in user cached by
        # Flask-Login, the language cached by Flask-Babel, and the database session.
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def pg_server():
    if not USE_PG:
        yield None
        return
    from tests.pg import ThrowawayPostgres
    server = ThrowawayPostgres()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def database_url(pg_server, tmp_path_factory):
    if pg_server is not None:
        return pg_server.create_database("psd_test")
    path = tmp_path_factory.mktemp("db") / "test.sqlite3"
    return f"sqlite:///{path}"


def make_config(url: str, instance: Path):
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        INSTANCE_PATH = instance
    return Config


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    """The app on a database built by the real migrations (never create_all)."""
    from flask_migrate import upgrade
    application = create_app(make_config(database_url, tmp_path_factory.mktemp("instance")))
    application.test_client_class = CSRFClient
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        _db.engine.dispose()


def _wipe(app) -> None:
    from app.web import screen_cache
    screen_cache.clear()  # screens drawn from the data being wiped
    with app.app_context():
        _db.session.remove()
        tables = [t.name for t in _db.metadata.sorted_tables]
        with _db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables)
                                  + " RESTART IDENTITY CASCADE"))
            else:
                with money_guard.suspended(conn):  # the one wipe the money triggers allow
                    for t in reversed(tables):
                        conn.execute(text(f'DELETE FROM "{t}"'))


@contextmanager
def _rolled_back(app):
    """Everything the test writes, its commits included, happens inside one outer transaction
    that is rolled back at the end: each commit (a view's, a service's, the test's) ends only a
    savepoint. Every app context (one per test request) gets its own session on that one
    connection, so a request sees what the test and earlier requests wrote."""
    from app.web import screen_cache
    with app.app_context():
        conn = _db.engine.connect()
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # pysqlite opens transactions itself and forgets savepoints: let SQLAlchemy say BEGIN
            conn.connection.dbapi_connection.isolation_level = None
            event.listen(conn, "begin", lambda c: c.exec_driver_sql("BEGIN"))
        outer = conn.begin()
        usual = _db.session
        _db.session = scoped_session(
            sessionmaker(bind=conn, join_transaction_mode="create_savepoint"),
            scopefunc=usual.registry.scopefunc)
        try:
            yield
        finally:
            _db.session.remove()
            _db.session = usual
            if outer.is_active:
                outer.rollback()
            if sqlite:
                conn.invalidate()  # never hand a connection with BEGIN-by-hand back to the pool
            conn.close()
            screen_cache.clear()  # screens drawn from the data just rolled back


@pytest.fixture
def real_db():
    """Asked for by name by a test that needs real commits: threads on their own connections,
    locks between two sessions, a migration, a count of SQL statements as production runs them.
    With it, `db` commits for real and empties the tables afterwards."""


@pytest.fixture
def db(app, request):
    """The database, with an app context pushed for the test's duration. By default the test's
    writes (commits included) are rolled back at its end; with `real_db` they are committed and
    the tables emptied afterwards."""
    if "real_db" not in request.fixturenames:
        with _rolled_back(app), app.app_context():
            yield _db
        return
    with app.app_context():
        yield _db
        _db.session.rollback()
    _wipe(app)


@pytest.fixture
def till(db) -> factories.Till:
    """The office (clerk, supervisor, worker, cashier, manager) and its price list."""
    return factories.Till()


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def login_as(app, db):
    """login_as("clerk") or login_as("supervisor", "worker"): a client signed in through /login."""

    def login(*roles: str, username: str | None = None):
        user = factories.user(*roles, username=username)
        _db.session.commit()
        c = app.test_client()
        resp = c.post("/login", data={"username": user.username, "password": factories.PASSWORD})
        assert resp.status_code == 302, resp.text
        c.user = user
        return c

    return login


class FixedClock:
    """The app's clock held still for one test: `frozen.to(t)` moves it, `frozen.now` reads it."""

    def __init__(self, start: datetime):
        self._stack = ExitStack()
        self.to(start)

    def to(self, moment: datetime) -> datetime:
        self._stack.close()
        self._stack = ExitStack()
        self._stack.enter_context(clock.at(moment))
        return moment

    def advance(self, **delta) -> datetime:
        return self.to(self.now + timedelta(**delta))

    @property
    def now(self) -> datetime:
        return clock.now()

    def close(self) -> None:
        self._stack.close()


@pytest.fixture
def frozen(app):
    """Fix "now" for the test at this moment (whatever the date: the suite passes on any).

    Only this test's context sees it; threads a test starts fix their own with clock.at().
    """
    held = FixedClock(clock.now())
    yield held
    held.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS



