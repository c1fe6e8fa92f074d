"""The migrations build exactly the schema the models describe, on SQLite and on PostgreSQL."""
from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from app.extensions import db as _db

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def schema_differences(connection) -> list:
    context = MigrationContext.configure(connection, opts={
        "compare_type": True, "compare_server_default": True, "render_as_batch": True})
    return compare_metadata(context, _db.metadata)


def test_the_migrated_test_database_matches_the_models(app, db):
    """The suite's database was built by `flask db upgrade`, never by create_all()."""
    with db.engine.connect() as connection:
        differences = schema_differences(connection)
    assert differences == [], "the models and migrations disagree; write a migration:\n" + \
        "\n".join(map(repr, differences))


def test_the_database_is_at_the_newest_revision(app, db):
    heads = ScriptDirectory(str(MIGRATIONS)).get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}"
    with db.engine.connect() as connection:
        current = connection.execute(
            text("SELECT version_num FROM alembic_version")).scalars().all()
    assert current == heads


def test_every_table_of_the_models_exists_with_its_constraints(app, db):
    inspector = inspect(db.engine)
    tables = set(inspector.get_table_names())
    assert {t.name for t in db.metadata.sorted_tables} <= tables
    uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints("units")}
    assert ("search_key",) in uniques and ("building_id", "entrance", "number") in uniques
    uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints("price_items")}
    assert ("price_list_id", "category_id", "name_zh") in uniques


def test_downgrade_and_upgrade_again_on_an_empty_database(tmp_path, pg_server):
    """The migration can be undone and redone: an install can roll back a failed upgrade."""
    from flask_migrate import downgrade, upgrade

    from app import create_app
    from tests.conftest import make_config

    if pg_server is not None:
        import uuid
        url = pg_server.create_database(f"psd_migrate_{uuid.uuid4().hex[:8]}")
    else:
        url = f"sqlite:///{tmp_path / 'migrate.sqlite3'}"
    fresh = create_app(make_config(url, tmp_path / "instance"))
    with fresh.app_context():
        upgrade()
        assert "units" in inspect(_db.engine).get_table_names()
        downgrade(revision="base")
        assert set(inspect(_db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        with _db.engine.connect() as connection:
            assert schema_differences(connection) == []
        _db.engine.dispose()


@pytest.mark.slow
def test_an_office_with_months_of_history_upgrades_to_the_checks(tmp_path, pg_server):
    """The demo's 90 days of slips and money, taken back to revision 0005, go through the
    migrations that add the CHECK constraints and the refused state (SQLite rebuilds its
    tables for them): every row is kept, every reference holds, the money guard still stands
    and the checks refuse. (The demo writes with today's models, so it is seeded at the newest
    revision and downgraded: the downgrades are tried on real history too.)"""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy.exc import DBAPIError

    from app import create_app, demo
    from tests.conftest import make_config

    if pg_server is not None:
        import uuid
        url = pg_server.create_database(f"psd_upgrade_{uuid.uuid4().hex[:8]}")
    else:
        url = f"sqlite:///{tmp_path / 'upgrade.sqlite3'}"
    office = create_app(make_config(url, tmp_path / "instance"))
    with office.app_context():
        upgrade()
        demo.seed()
        _db.session.commit()
        _db.session.remove()
        downgrade(revision="0005")
        tables = [t for t in inspect(_db.engine).get_table_names() if t != "alembic_version"]

        def counts():
            with _db.engine.connect() as c:
                return {t: c.execute(text(f'SELECT count(*) FROM "{t}"')).scalar() for t in tables}

        before = counts()
        _db.session.remove()
        upgrade()
        assert counts() == before
        assert before["payments"] > 100 and before["slip_events"] > 1000
        with _db.engine.connect() as c:
            assert schema_differences(c) == []
            if c.dialect.name == "sqlite":
                assert c.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
                assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            c.rollback()
            for sql, says in (("UPDATE payments SET note = 'x'", "append-only"),
                              ("DELETE FROM cash_counts", "append-only"),
                              ("UPDATE slips SET state = 'lost'", "ck_slips_state_allowed")):
                with pytest.raises(DBAPIError) as err, c.begin():
                    c.execute(text(sql))
                assert says in str(err.value.orig)
        _db.engine.dispose()
