"""CHECK constraints the models declare, so the database itself refuses a value the app
never writes: a state, kind, method or route outside its list, or money with the wrong sign.

Named by the metadata's convention (`ck_<table>_<name>`); migration 0006 wrote them with
the values of its day, and a later change to a list is a migration of its own (the test in
tests/services/test_db_checks.py fails until it is written).
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import CheckConstraint


def quoted(values: Iterable[str]) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)


def one_of(column: str, values: Iterable[str]) -> CheckConstraint:
    """The column holds one of `values` (or NULL, where the column allows it)."""
    return CheckConstraint(f"{column} IN ({quoted(values)})", name=f"{column}_allowed")


def at_least_zero(*columns: str) -> list[CheckConstraint]:
    """Amounts and counts that are never negative (NULL allowed where the column is)."""
    return [CheckConstraint(f"{c} >= 0", name=f"{c}_not_negative") for c in columns]


def rule(name: str, sql: str) -> CheckConstraint:
    return CheckConstraint(sql, name=name)
