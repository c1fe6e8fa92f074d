"""The database itself refuses to change or delete money: triggers on payments, account
entries and cash counts (SQLite and PostgreSQL), beside the ORM guard in app/models/billing.py.

A payment and a cash count never change once written; an account entry only gets its review
and its statement stamped once (NULL -> a value). Written by migration 0005. Wiping a whole
database (the demo's --force, the tests between cases) lifts the guard for that one
transaction with `suspended()`, and nothing else does.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Connection

FROZEN = ("payments", "cash_counts")
# account_entries: every column but the three stamps is frozen; the stamps are set once.
ENTRY_COLUMNS = ("id", "unit_id", "slip_id", "month", "amount_fen", "description",
                 "signed_name", "created_by_id", "created_at", "reverses_id", "reason")
ENTRY_STAMPS = ("reviewed_by_id", "reviewed_at", "statement_id")
MESSAGE = "money is append-only: %s rows are never changed or deleted"


def _sqlite_entry_tampered() -> str:
    changed = [f"NEW.{c} IS NOT OLD.{c}" for c in ENTRY_COLUMNS]
    restamped = [f"(OLD.{c} IS NOT NULL AND NEW.{c} IS NOT OLD.{c})" for c in ENTRY_STAMPS]
    return " OR ".join(changed + restamped)


def sqlite_ddl() -> list[str]:
    out = []
    for table in FROZEN:
        for event in ("UPDATE", "DELETE"):
            out.append(f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{MESSAGE % table}'); END")
    out.append("CREATE TRIGGER account_entries_no_delete BEFORE DELETE ON account_entries "
               f"BEGIN SELECT RAISE(ABORT, '{MESSAGE % 'account_entries'}'); END")
    out.append("CREATE TRIGGER account_entries_no_update BEFORE UPDATE ON account_entries "
               f"WHEN {_sqlite_entry_tampered()} "
               f"BEGIN SELECT RAISE(ABORT, '{MESSAGE % 'account_entries'}'); END")
    return out


def postgresql_ddl() -> list[str]:
    changed = " OR ".join([f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in ENTRY_COLUMNS]
                          + [f"(OLD.{c} IS NOT NULL AND NEW.{c} IS DISTINCT FROM OLD.{c})"
                             for c in ENTRY_STAMPS])
    out = [
        "CREATE FUNCTION money_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF current_setting('psd.wiping', true) = 'on' THEN RETURN OLD; END IF; "
        "RAISE EXCEPTION 'money is append-only: % rows are never changed or deleted', "
        "TG_TABLE_NAME; END $$",
        "CREATE FUNCTION account_entry_stamped_once() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN IF {changed} THEN RAISE EXCEPTION "
        "'money is append-only: account_entries rows are never changed or deleted'; END IF; "
        "RETURN NEW; END $$",
    ]
    for table in FROZEN:
        out.append(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION money_is_append_only()")
    out.append("CREATE TRIGGER account_entries_no_delete BEFORE DELETE ON account_entries "
               "FOR EACH ROW EXECUTE FUNCTION money_is_append_only()")
    out.append("CREATE TRIGGER account_entries_stamped_once BEFORE UPDATE ON account_entries "
               "FOR EACH ROW EXECUTE FUNCTION account_entry_stamped_once()")
    return out


def sqlite_triggers() -> list[str]:
    return [ddl.split()[2] for ddl in sqlite_ddl()]


def install(conn: Connection) -> None:
    for ddl in (postgresql_ddl() if conn.dialect.name == "postgresql" else sqlite_ddl()):
        conn.execute(text(ddl))


def remove(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        for table in FROZEN:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}"))
        conn.execute(text("DROP TRIGGER IF EXISTS account_entries_no_delete ON account_entries"))
        conn.execute(text("DROP TRIGGER IF EXISTS account_entries_stamped_once "
                          "ON account_entries"))
        conn.execute(text("DROP FUNCTION IF EXISTS money_is_append_only()"))
        conn.execute(text("DROP FUNCTION IF EXISTS account_entry_stamped_once()"))
    else:
        for name in sqlite_triggers():
            conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))


@contextmanager
def suspended(conn: Connection) -> Iterator[None]:
    """Wiping every row: the guard lets deletes through inside this transaction only.

    PostgreSQL: a transaction-local setting the trigger reads. SQLite (no such setting): the
    triggers are dropped and written again inside the same transaction, so another
    connection never sees them missing.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT set_config('psd.wiping', 'on', true)"))
        yield
        conn.execute(text("SELECT set_config('psd.wiping', 'off', true)"))
        return
    present = set(conn.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
    ours = [ddl for ddl in sqlite_ddl() if ddl.split()[2] in present]
    for ddl in ours:
        conn.execute(text(f"DROP TRIGGER {ddl.split()[2]}"))
    yield
    for ddl in ours:
        conn.execute(text(ddl))
