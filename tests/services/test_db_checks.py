"""The database refuses a value the app never writes: CHECK constraints on every state, kind,
method, route and role, and on the sign of money. Raw SQL, past the ORM, on SQLite and
PostgreSQL.

The allowed values come from the app's own lists (the enums), so a value added to a list
without a migration that lets the database accept it fails here.
"""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import CheckConstraint, inspect, select, text
from sqlalchemy.exc import DBAPIError

from app.domain.pricing import Department
from app.domain.roles import Role
from app.domain.settlement import PayRoute
from app.domain.slip_states import State
from app.extensions import db as _db
from app.models import (
    Channel,
    ContactKind,
    ListStatus,
    ResidentKind,
    SlipEvent,
)
from app.models.billing import MONEY_IN, MONEY_OUT, Method, PaymentKind, RefundState
from app.models.slips import PhotoKind
from app.services import billing, clock
from app.services.reception import Contact, log_contact
from tests import factories


def refused(sql: str, **params) -> str:
    """Run raw SQL in a savepoint: the database's refusal (rolled back)."""
    with pytest.raises(DBAPIError) as err:
        with _db.session.begin_nested():
            _db.session.execute(text(sql), params)
    return str(err.value.orig)


def accepted(sql: str, **params) -> None:
    """Run raw SQL in a savepoint that is then rolled back: the database took it."""
    nested = _db.session.begin_nested()
    _db.session.execute(text(sql), params)
    nested.rollback()


@pytest.fixture
def rows(till):
    """One row of every table with a checked column, made the way the office makes them."""
    slip = till.finish(till.open(kind="owner"))
    unit = till.topped_up(5000)
    refund = billing.request_refund(unit, till.cashier, 1000, "搬走")
    entry = till.entry(slip)
    reception = log_contact(Contact(channel="phone", kind="enquiry", request="几点上班？",
                                    answer="八点半"), till.clerk)
    # A photo's row as the upload service writes it (the file itself does not matter here).
    _db.session.execute(text(
        "INSERT INTO slip_photos (slip_id, kind, file, content_type, size, uploaded_by_id, at) "
        "VALUES (:slip, 'before', 'photos/x.jpg', 'image/jpeg', 10, :who, :at)"),
        {"slip": slip.id, "who": till.worker.id, "at": clock.now()})
    loner = factories.user("clerk")  # holds one role, so it can be changed to any other
    _db.session.commit()
    event = _db.session.scalar(select(SlipEvent).where(SlipEvent.slip_id == slip.id,
                                                       SlipEvent.from_state.is_not(None)))
    return {
        "slips": ("id = :id", {"id": slip.id}),
        "slip_events": ("id = :id", {"id": event.id}),
        "slip_lines": ("id = :id", {"id": slip.lines[0].id}),
        "slip_photos": ("slip_id = :id", {"id": slip.id}),
        "residents": ("id = :id", {"id": slip.resident_id}),
        "reception_entries": ("id = :id", {"id": reception.id}),
        "price_lists": ("id = :id", {"id": till.pl.id}),
        "price_items": ("id = :id", {"id": till.pl.items[0].id}),
        "user_roles": ("user_id = :id", {"id": loner.id}),
        "deposit_refunds": ("id = :id", {"id": refund.id}),
        "till": till, "slip": slip, "unit": unit, "entry": entry,
    }


ENUM_COLUMNS = [
    ("slips", "state", State), ("slips", "pay_route", PayRoute),
    ("slip_events", "from_state", State), ("slip_events", "to_state", State),
    ("slip_photos", "kind", PhotoKind), ("residents", "kind", ResidentKind),
    ("reception_entries", "channel", Channel), ("reception_entries", "kind", ContactKind),
    ("price_lists", "status", ListStatus), ("price_items", "department", Department),
    ("user_roles", "role", Role), ("deposit_refunds", "state", RefundState),
]


@pytest.mark.parametrize("table, column, values", ENUM_COLUMNS,
                         ids=[f"{t}.{c}" for t, c, _ in ENUM_COLUMNS])
def test_a_listed_column_takes_each_of_its_values_and_nothing_else(rows, table, column, values):
    where, params = rows[table]
    for value in values:
        accepted(f"UPDATE {table} SET {column} = :v WHERE {where}", v=value.value, **params)
    first = next(iter(values)).value
    for bad in ("", "bogus", first.upper(), first + " "):
        message = refused(f"UPDATE {table} SET {column} = :v WHERE {where}", v=bad, **params)
        assert f"ck_{table}_{column}_allowed" in message
    current = _db.session.execute(text(f"SELECT {column} FROM {table} WHERE {where}"),
                                  params).scalar()
    assert current in {v.value for v in values}


NEVER_NEGATIVE = [
    ("slips", "quoted_total_fen", -1), ("slips", "agreed_total_fen", -1),
    ("slips", "purchase_fen", -500), ("slips", "purchase_spent_fen", -1),
    ("slips", "nobody_home_count", -1), ("slip_lines", "quantity", 0),
    ("slip_lines", "unit_price_fen", -100), ("slip_lines", "final_price_fen", -1),
    ("price_items", "price_min_fen", -1), ("deposit_refunds", "amount_fen", 0),
    ("deposit_refunds", "amount_fen", -1000), ("slip_photos", "size", -1),
]


@pytest.mark.parametrize("table, column, bad", NEVER_NEGATIVE,
                         ids=[f"{t}.{c}={b}" for t, c, b in NEVER_NEGATIVE])
def test_amounts_and_counts_below_their_floor_are_refused(rows, table, column, bad):
    where, params = rows[table]
    message = refused(f"UPDATE {table} SET {column} = :v WHERE {where}", v=bad, **params)
    assert f"ck_{table}_" in message
    accepted(f"UPDATE {table} SET {column} = :v WHERE {where}", v=1, **params)


def test_a_price_range_that_ends_below_its_start_is_refused(rows):
    where, params = rows["price_items"]
    message = refused(f"UPDATE price_items SET price_min_fen = 5000, price_max_fen = 4000 "
                      f"WHERE {where}", **params)
    assert "ck_price_items_price_range" in message
    accepted(f"UPDATE price_items SET price_min_fen = 4000, price_max_fen = 4000 WHERE {where}",
             **params)


# ---- payments, entries and counts: append-only, so each case is a new row -----------------

def insert_payment(rows, **values) -> None:
    """A raw payment row: a slip's cash payment of ¥1 unless `values` says otherwise."""
    till = rows["till"]
    row = {"number": f"RC-T-{uuid.uuid4().hex[:8]}", "kind": "slip", "method": "cash",
           "amount_fen": 100, "deposit_fen": 0, "unit_id": rows["unit"].id,
           "slip_id": rows["slip"].id, "payer_name": "", "cashier_id": till.cashier.id,
           "at": clock.now(), "note": "", "reverses_id": None, **values}
    columns = ", ".join(row)
    _db.session.execute(text(f"INSERT INTO payments ({columns}) VALUES "
                             f"({', '.join(':' + c for c in row)})"), row)


def payment_refused(rows, **values) -> str:
    with pytest.raises(DBAPIError) as err:
        with _db.session.begin_nested():
            insert_payment(rows, **values)
    return str(err.value.orig)


def payment_accepted(rows, **values) -> None:
    nested = _db.session.begin_nested()
    insert_payment(rows, **values)
    nested.rollback()


@pytest.mark.parametrize("kind", list(PaymentKind))
def test_a_payment_carries_the_sign_of_its_kind(rows, kind):
    reversal = {}
    if kind == PaymentKind.REVERSAL:
        target = rows["till"].pay(rows["till"].finish(rows["till"].open()))
        _db.session.commit()
        reversal = {"number": None, "reverses_id": target.id}
    right = 100 if kind in MONEY_IN else -100
    payment_accepted(rows, kind=kind.value, amount_fen=right, **reversal)
    wrong = [0] if kind == PaymentKind.REVERSAL else [0, -right]
    for amount in wrong:
        message = payment_refused(rows, kind=kind.value, amount_fen=amount, **reversal)
        assert "ck_payments_amount_sign" in message, (kind, amount)
    assert set(MONEY_IN) | set(MONEY_OUT) | {PaymentKind.REVERSAL} == set(PaymentKind)


def test_a_payment_kind_or_method_off_the_list_is_refused(rows):
    for method in Method:
        payment_accepted(rows, method=method.value)
    assert "ck_payments_method_allowed" in payment_refused(rows, method="bitcoin")
    message = payment_refused(rows, kind="tip", amount_fen=100)  # either check may say no first
    assert "ck_payments_kind_allowed" in message or "ck_payments_amount_sign" in message


def test_only_a_reversal_points_at_a_payment_and_only_it_has_no_receipt_number(rows):
    target = rows["till"].pay(rows["till"].finish(rows["till"].open()))
    _db.session.commit()
    assert "ck_payments_reversal" in payment_refused(rows, reverses_id=target.id)
    assert "ck_payments_reversal" in payment_refused(rows, number=None)
    assert "ck_payments_reversal" in payment_refused(
        rows, kind="reversal", amount_fen=-100, reverses_id=target.id)  # with a number
    assert "ck_payments_reversal" in payment_refused(
        rows, kind="reversal", amount_fen=-100, number=None)            # pointing nowhere


def test_an_account_entry_charges_or_reverses_never_zero(rows):
    entry, till = rows["entry"], rows["till"]
    base = {"unit_id": entry.unit_id, "slip_id": entry.slip_id, "month": entry.month,
            "description": "", "signed_name": "", "created_by_id": till.sup.id,
            "created_at": clock.now(), "reason": ""}

    def insert(**values):
        row = {**base, **values}
        _db.session.execute(text(
            f"INSERT INTO account_entries ({', '.join(row)}) "
            f"VALUES ({', '.join(':' + c for c in row)})"), row)

    for amount, reverses in ((0, None), (-100, None), (100, entry.id)):
        with pytest.raises(DBAPIError) as err:
            with _db.session.begin_nested():
                insert(amount_fen=amount, reverses_id=reverses)
        assert "ck_account_entries_amount_sign" in str(err.value.orig)
    nested = _db.session.begin_nested()
    insert(amount_fen=-entry.amount_fen, reverses_id=entry.id)
    nested.rollback()


def test_a_cash_count_is_never_negative(rows):
    till = rows["till"]
    sql = ("INSERT INTO cash_counts (day, cashier_id, counted_fen, note, at) "
           "VALUES (:day, :who, :fen, '', :at)")
    params = {"day": clock.local_today() - timedelta(days=1), "who": till.cashier.id,
              "at": clock.now()}
    assert "ck_cash_counts_counted_fen_not_negative" in refused(sql, fen=-1, **params)
    accepted(sql, fen=0, **params)


# ---- the migration wrote what the models declare -----------------------------------------

def test_the_database_holds_every_check_the_models_declare(app, db):
    inspector = inspect(db.engine)
    for table in db.metadata.sorted_tables:
        declared = {c.name for c in table.constraints if isinstance(c, CheckConstraint)}
        present = {c["name"] for c in inspector.get_check_constraints(table.name)}
        assert declared <= present, (table.name, declared - present)
