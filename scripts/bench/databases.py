"""Throwaway databases and the app on them: the demo seeded once per run (SQLite), copies of
it for each scenario, the bulk history on top (bench.history), and a throwaway PostgreSQL
(tests/pg.py) cloned from the same demo file."""
from __future__ import annotations

import hashlib
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar
from unittest.mock import patch

from flask import Flask

from scripts.bench.common import ROOT, log
from scripts.bench.sizes import Sizes

SECRET = "bench-not-a-secret"
EXTRA_TILLS = (("cashier2", "钱芳"), ("cashier3", "周敏"))  # three tills, not the demo's one


def make_app(url: str, instance: Path, pool: int = 24, **config: Any) -> Flask:
    """The app on a database, CSRF off (the test client posts forms without their tokens)."""
    from app import create_app
    from app.config import Config

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = url
        SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict] = {
            "pool_pre_ping": True, "pool_size": pool, "max_overflow": 0, "pool_timeout": 60}
        INSTANCE_PATH = instance
        SECRET_KEY = SECRET
        WTF_CSRF_ENABLED = False
        LIVE_WAIT_SECONDS = 0
    for key, value in config.items():
        setattr(BenchConfig, key, value)
    instance.mkdir(parents=True, exist_ok=True)
    return create_app(BenchConfig)


def signed_in(app: Flask, username: str) -> Any:
    """A test client signed in with the demo password."""
    client = app.test_client()
    resp = client.post("/login", data={"username": username, "password": "demo"})
    if resp.status_code != 302:
        raise RuntimeError(f"could not sign in as {username}: HTTP {resp.status_code}")
    return client


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite file (WAL included)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()


@contextmanager
def cheap_hashing(on: bool) -> Iterator[None]:
    """A quick run's demo stores cheap password hashes (the suite's, tests/hashing.py), so its
    many sign-ins cost little; the full run keeps the real ones."""
    if not on:
        yield
        return
    from app.models import users
    from tests.hashing import _cheap
    with patch.object(users, "generate_password_hash", _cheap):
        yield


def demo_cache() -> Path:
    """Where a quick run keeps the seeded demo: named by a hash of the code that makes it."""
    digest = hashlib.sha256()
    for folder in ("app", "migrations"):
        for file in sorted((ROOT / folder).rglob("*.py")):
            digest.update(file.read_bytes())
    digest.update(b"cheap password hashes")
    return ROOT / "test-artifacts" / "bench" / f"demo-{digest.hexdigest()[:16]}.sqlite3"


class Workspace:
    """A temporary folder holding every database of one run."""

    def __init__(self, sizes: Sizes):
        self.sizes = sizes
        self.dir = Path(tempfile.mkdtemp(prefix="psd-bench-"))
        self.facts: dict[str, Any] = {}
        self._demo: Path | None = None
        self._history: dict[int, Path] = {}
        self._pg: Any = None
        self.shared: dict[str, Any] = {}  # servers and the like, kept for the whole run
        self.servers: list[Any] = []  # each with stop() (at once) and wait() (until gone)

    # ---- SQLite ------------------------------------------------------------------------

    def instance(self, name: str) -> Path:
        return self.dir / "instance" / name

    def demo_file(self) -> Path:
        """The demo, seeded once: `flask db upgrade` + seed-demo + two more tills. A quick run
        keeps it in test-artifacts/bench/ for the next one while app/ and migrations/ stay as
        they were."""
        if self._demo is None and self.sizes.quick and demo_cache().exists():
            self._demo = self.dir / "demo.sqlite3"
            copy_sqlite(demo_cache(), self._demo)
            self.facts["seed_s"] = 0.0
        if self._demo is None:
            path = self.dir / "demo.sqlite3"
            t0 = time.perf_counter()
            app = make_app(f"sqlite:///{path}", self.instance("demo"))
            with app.app_context(), cheap_hashing(self.sizes.quick):
                from flask_migrate import upgrade

                from app import demo
                from app.extensions import db
                from app.services import staff
                upgrade()
                demo.seed()
                for username, name in EXTRA_TILLS:
                    staff.create_user(username, name, "bench-pw-0000", ("cashier",))
                db.session.commit()
                db.engine.dispose()
            self.facts["seed_s"] = time.perf_counter() - t0
            log(f"demo seeded in {self.facts['seed_s']:.0f} s")
            self._demo = path
            if self.sizes.quick:
                for stale in demo_cache().parent.glob("demo-*.sqlite3"):
                    stale.unlink()
                demo_cache().parent.mkdir(parents=True, exist_ok=True)
                copy_sqlite(path, demo_cache())
        return self._demo

    def sqlite(self, name: str, source: Path | None = None) -> Path:
        """A copy of the demo (or of `source`) for one scenario."""
        target = self.dir / f"{name}.sqlite3"
        copy_sqlite(source or self.demo_file(), target)
        return target

    def app(self, name: str, source: Path | None = None, **config: Any) -> Flask:
        """The app on a fresh copy of the demo (or of `source`)."""
        return make_app(f"sqlite:///{self.sqlite(name, source)}", self.instance(name), **config)

    def history_file(self, size: int) -> Path:
        """The demo plus `size` historic slips (built once; larger ones grow from smaller)."""
        if size not in self._history:
            from scripts.bench import history
            smaller = [s for s in self._history if s < size]
            base = self._history[max(smaller)] if smaller else None
            path = self.sqlite(f"history-{size}", base)
            app = make_app(f"sqlite:///{path}", self.instance(f"history-{size}"))
            t0 = time.perf_counter()
            with app.app_context():
                from app.extensions import db
                rows = history.build(max(0, size - history.count()), seed=size)
                self.facts[f"history_{size}"] = {"load_s": time.perf_counter() - t0, **rows}
                db.engine.dispose()
            log(f"history {size:,}: {self.facts[f'history_{size}']}")
            self._history[size] = path
        return self._history[size]

    # ---- PostgreSQL ----------------------------------------------------------------------

    def pg_available(self) -> bool:
        from tests.pg import PG_BIN
        return PG_BIN is not None

    def pg_app(self, name: str, **config: Any) -> Flask:
        """The app on a new PostgreSQL database holding a copy of the demo."""
        if self._pg is None:
            import psycopg

            from tests.pg import ThrowawayPostgres
            self._pg = ThrowawayPostgres()
            self._pg.start()
            with psycopg.connect(f"host=127.0.0.1 port={self._pg.port} user=postgres "
                                 "dbname=postgres") as conn:
                self.facts["pg_server"] = conn.execute("SHOW server_version").fetchone()[0]
        url = self._pg.create_database(f"bench_{name}")
        app = make_app(url, self.instance(f"pg-{name}"), **config)
        t0 = time.perf_counter()
        with app.app_context():
            from flask_migrate import upgrade
            upgrade()
            clone(self.demo_file())
        self.facts["pg_clone_s"] = time.perf_counter() - t0
        return app

    def close(self) -> None:
        for server in self.servers:
            server.stop()
        for server in self.servers:
            server.wait()
        if self._pg is not None:
            self._pg.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def clone(source: Path) -> None:
    """Every row of a SQLite file into the app's (migrated, PostgreSQL) database; the id
    sequences moved past the copied ids. Call inside the app's context."""
    from sqlalchemy import create_engine, func, select, text

    from app.extensions import db
    from app.models import money_guard
    src = create_engine(f"sqlite:///{source}")
    tables = db.metadata.sorted_tables
    with src.connect() as read, db.engine.begin() as write:
        with money_guard.suspended(write):
            for table in reversed(tables):
                write.execute(table.delete())
        for table in tables:
            rows = [dict(r) for r in read.execute(select(table)).mappings()]
            if rows:
                write.execute(table.insert(), rows)
            if "id" in table.c and rows:
                top = write.scalar(select(func.max(table.c.id)))
                write.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', "
                                   f"'id'), {top})"))
    src.dispose()
