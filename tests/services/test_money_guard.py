"""The database refuses to change money, not only the ORM: raw SQL on each money table.

A payment and a cash count can be neither updated nor deleted; an account entry only gets
its review and its statement stamped once. The same on SQLite and on PostgreSQL.
"""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.extensions import db as _db
from app.services import billing, clock


def refused(sql: str, **params) -> str:
    """Run raw SQL in a savepoint; the database's refusal, rolled back."""
    with pytest.raises(DBAPIError) as err:
        with _db.session.begin_nested():
            _db.session.execute(text(sql), params)
    return str(err.value.orig)


@pytest.fixture
def money(till):
    slip = till.finish(till.open())
    payment = till.pay(slip)
    entry = till.owner_entry(till.unit(), reviewed=False)
    count = billing.count_cash(clock.local_today(), till.cashier, 3000)
    _db.session.commit()
    return {"payments": payment.id, "cash_counts": count.id, "account_entries": entry.id,
            "entry": entry, "till": till}


@pytest.mark.parametrize("table, column, value", [
    ("payments", "amount_fen", 1), ("payments", "method", "'wechat'"),
    ("payments", "number", "'RC209912-0001'"), ("cash_counts", "counted_fen", 0),
    ("account_entries", "amount_fen", 1), ("account_entries", "month", "'2000-01'"),
])
def test_a_raw_update_of_money_is_refused(money, table, column, value):
    message = refused(f"UPDATE {table} SET {column} = {value} WHERE id = :id", id=money[table])
    assert "append-only" in message
    before = _db.session.execute(text(f"SELECT {column} FROM {table} WHERE id = :id"),
                                 {"id": money[table]}).scalar()
    assert before is not None


@pytest.mark.parametrize("table", ["payments", "cash_counts", "account_entries"])
def test_a_raw_delete_of_money_is_refused(money, table):
    assert "append-only" in refused(f"DELETE FROM {table} WHERE id = :id", id=money[table])
    assert _db.session.execute(text(f"SELECT count(*) FROM {table} WHERE id = :id"),
                               {"id": money[table]}).scalar() == 1


def test_an_entry_is_reviewed_once_and_never_reviewed_again(money):
    entry, till = money["entry"], money["till"]
    billing.review_entry(entry, till.sup)  # the one stamp the database allows
    _db.session.commit()
    other = till.manager.id
    assert "append-only" in refused(
        "UPDATE account_entries SET reviewed_by_id = :who WHERE id = :id", who=other,
        id=entry.id)
    assert "append-only" in refused(
        "UPDATE account_entries SET reviewed_at = NULL WHERE id = :id", id=entry.id)
    _db.session.expire_all()
    assert _db.session.get(type(entry), entry.id).reviewed_by_id == till.sup.id
