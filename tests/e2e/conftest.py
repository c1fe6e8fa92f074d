"""Browser tests: the system Chromium against the app served from a thread on its own database.

The live app is built once per session (migrations + the demo property) and is never touched
by the function-scoped `db` fixture of tests/conftest.py, which wipes the other database.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Error
from sqlalchemy import update
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db as _db
from tests.conftest import make_config
from tests.e2e.helpers import chinese_po

DESKTOP = {"viewport": {"width": 1366, "height": 768}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-first-run"]}


def _compiled_translations(into: Path) -> Path:
    """messages.po as it is now, compiled to a .mo the live app reads.

    The app's own .mo is a build product (make translations) and may lag the .po that the
    assertions read, so the live app gets one compiled from the same file at session start.
    """
    po = chinese_po()
    with po.open("rb") as f:
        catalog = read_po(f)
    target = into / po.parent.parent.name / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "messages.mo").open("wb") as f:
        write_mo(f, catalog, use_fuzzy=False)
    return into


@pytest.fixture(scope="session")
def live_app(pg_server, tmp_path_factory) -> Iterator[Flask]:
    """A second app with its own database: SQLite file, or the psd_e2e PostgreSQL database."""
    from flask_migrate import upgrade

    from app import demo

    if pg_server is not None:
        url = pg_server.create_database("psd_e2e")
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('e2e-db') / 'e2e.sqlite3'}"
    translations = _compiled_translations(tmp_path_factory.mktemp("e2e-translations"))

    class LiveConfig(make_config(url, tmp_path_factory.mktemp("e2e-instance"))):
        BABEL_TRANSLATION_DIRECTORIES = str(translations)
        # Real live screens: pages hold a wait open and the watcher looks every 0.1 s.
        LIVE_WAIT_SECONDS = 10
        LIVE_TICK_SECONDS = 0.1

    application = create_app(LiveConfig)
    with application.app_context():
        upgrade()
        demo.seed()
        _db.session.commit()
    yield application
    from app.services.live import stop_watcher
    stop_watcher(application)  # before its database goes away
    with application.app_context():
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture(scope="session")
def live_server(live_app) -> Iterator[str]:
    """The base URL of the live app, served by werkzeug in a daemon thread."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _forget_chosen_languages(live_app):
    """Each test starts with no language stored on the demo accounts (the header switch stores
    it)."""
    from app.models import User
    with live_app.app_context():
        _db.session.execute(update(User).values(locale=None))
        _db.session.commit()
        _db.session.remove()


class ConsoleErrors:
    """Console errors and uncaught exceptions of every page in the test's contexts (CSP
    included)."""

    def __init__(self):
        self.messages: list[str] = []
        self._allowed: list[re.Pattern] = []

    def allow(self, pattern: str) -> None:
        """Expected errors, e.g. the 401 a stale-session htmx request logs before redirecting."""
        self._allowed.append(re.compile(pattern))

    def watch(self, context: BrowserContext) -> None:
        context.on("console", self._on_console)
        context.on("weberror", lambda err: self.messages.append(f"uncaught: {err.error}"))

    def _on_console(self, msg: ConsoleMessage) -> None:
        if msg.type == "error":
            where = msg.location.get("url", "") if msg.location else ""
            self.messages.append(f"{msg.text} [{where}]")

    @property
    def unexpected(self) -> list[str]:
        return [m for m in self.messages if not any(p.search(m) for p in self._allowed)]


@pytest.fixture
def console_errors() -> ConsoleErrors:
    return ConsoleErrors()


@pytest.fixture
def new_context(browser: Browser, live_server: str,
                console_errors: ConsoleErrors) -> Iterator[Callable[..., BrowserContext]]:
    """new_context("phone" | "desktop", locale="zh-CN"): a fresh context (own cookies) on the
    live app.

    Every console error seen in these contexts fails the test at teardown.
    """
    contexts: list[BrowserContext] = []

    def make(kind: str = "desktop", locale: str = "zh-CN") -> BrowserContext:
        options = PHONE if kind == "phone" else DESKTOP
        context = browser.new_context(base_url=live_server, locale=locale, **options)
        context.set_default_timeout(5_000)
        console_errors.watch(context)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        try:
            context.close()
        except Error:
            pass
    assert not console_errors.unexpected, "console errors:\n" + "\n".join(console_errors.unexpected)


@pytest.fixture
def phone(new_context) -> BrowserContext:
    """A 390×844 touch phone (the worker's screens), Chinese browser."""
    return new_context("phone")


@pytest.fixture
def desktop(new_context) -> BrowserContext:
    """A 1366×768 office screen, Chinese browser."""
    return new_context("desktop")
