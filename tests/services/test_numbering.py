"""Slip numbers YC{YYYYMM}-{NNNN}: unique, consecutive in the property's month, never reused.

The concurrency test opens 20 slips at the same instant from 20 threads, each with its own
app context, session and connection, on the suite's database: a SQLite *file* in WAL mode by
default, the throwaway PostgreSQL with PSD_TEST_PG=1.
"""
from __future__ import annotations

import itertools
import re
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text

from app import create_app
from app.extensions import db as _db
from app.models import PriceList, PropertySettings, Slip, Unit, User
from app.services import clock
from app.services import slips as svc
from app.services.numbering import next_in_series
from tests import factories
from tests.conftest import make_config
from tests.moments import at, month_ahead, next_month_starts, yyyymm

_doors = itertools.count(3000)


def open_at(clerk, pl, when: datetime | None = None, **kw) -> Slip:
    """Open a one-line slip as if at `when` (None: now), for a new unit."""
    unit = factories.unit(number=str(next(_doors)))
    req = svc.SlipRequest(unit=unit, lines=[svc.LineRequest(pl.items[0].id)],
                          contact_name="张伟", contact_phone="13800001111", **kw)
    with clock.at(when or clock.now()):
        return svc.open_slip(req, clerk, pl)


@pytest.fixture
def desk(db):
    clerk = factories.user("clerk")
    return clerk, factories.price_list(clerk)


def test_a_number_reads_yc_month_dash_four_digits(db, desk):
    slip = factories.slip(desk[0], pl=desk[1])
    month = yyyymm(clock.local_today())
    assert re.fullmatch(r"YC\d{6}-\d{4}", slip.number)
    assert slip.number == f"YC{month}-0001"
    assert svc.by_number(slip.number.lower()) is slip  # typed in lower case at the desk


def test_numbers_run_on_within_the_month_and_restart_at_0001_in_a_new_one(db, desk):
    clerk, pl = desk
    # November, December and January of the years ahead: the year turns between the last two
    nov = date(clock.local_today().year + 1, 11, 1)
    dec, jan = clock.add_months(nov, 1), clock.add_months(nov, 2)
    opened = [open_at(clerk, pl, at(nov.replace(day=d), 11)).number for d in (2, 2, 9)]
    assert opened == [f"YC{yyyymm(nov)}-{n:04d}" for n in (1, 2, 3)]
    opened = [open_at(clerk, pl, at(dec.replace(day=d), 11)).number for d in (1, 31)]
    assert opened == [f"YC{yyyymm(dec)}-0001", f"YC{yyyymm(dec)}-0002"]
    assert open_at(clerk, pl, at(jan, 11)).number == f"YC{yyyymm(jan)}-0001"


def test_the_month_is_the_propertys_not_utc(db, desk):
    clerk, pl = desk
    # Asia/Shanghai (UTC+8): 23:59 there on the month's last day is 15:59 UTC, still this
    # month; a minute later it is the next month there while UTC is still in this one
    month = month_ahead(1)
    midnight = next_month_starts(month)
    assert midnight.astimezone(UTC).month == month.month  # UTC has not turned yet
    assert open_at(clerk, pl, midnight - timedelta(minutes=1)).number == f"YC{yyyymm(month)}-0001"
    assert open_at(clerk, pl, midnight).number == f"YC{yyyymm(clock.add_months(month, 1))}-0001"
    # a property on London time is still in the earlier month at that moment
    db.session.add(PropertySettings(name="Test", name_en="Test", address="", phone="",
                                    timezone="Europe/London", currency="GBP"))
    db.session.flush()
    assert open_at(clerk, pl, midnight).number == f"YC{yyyymm(month)}-0002"


def test_a_cancelled_slip_keeps_its_number_and_the_next_one_moves_on(db, desk):
    clerk, pl = desk
    first = factories.slip(clerk, pl=pl)
    svc.cancel(first, clerk, "Resident changed their mind")
    second = factories.slip(clerk, pl=pl)
    assert first.number.endswith("-0001") and second.number.endswith("-0002")
    db.session.expire_all()
    kept = svc.by_number(first.number)
    assert kept.state == "cancelled" and kept.cancel_reason == "Resident changed their mind"


def test_a_rolled_back_open_gives_its_number_back(db, desk):
    clerk, pl = desk
    clerk_id, pl_id = clerk.id, pl.id
    assert factories.slip(clerk, pl=pl).number.endswith("-0001")
    _db.session.commit()
    clerk, pl = _db.session.get(User, clerk_id), _db.session.get(PriceList, pl_id)
    assert factories.slip(clerk, pl=pl).number.endswith("-0002")
    _db.session.rollback()  # the request failed after opening: nothing of it stays
    clerk, pl = _db.session.get(User, clerk_id), _db.session.get(PriceList, pl_id)
    again = factories.slip(clerk, pl=pl)
    assert again.number.endswith("-0002")
    _db.session.commit()
    assert sorted(_db.session.scalars(select(Slip.number))) == [
        again.number[:-4] + "0001", again.number]


def test_the_first_number_of_a_month_rolled_back_is_given_again(db, desk):
    clerk, pl = desk
    _db.session.commit()
    clerk_id, pl_id = clerk.id, pl.id
    month = month_ahead(3)  # a month nobody has opened a slip in yet
    when = at(month.replace(day=5), 10)
    assert open_at(clerk, pl, when).number == f"YC{yyyymm(month)}-0001"
    _db.session.rollback()
    clerk, pl = _db.session.get(User, clerk_id), _db.session.get(PriceList, pl_id)
    assert open_at(clerk, pl, when).number == f"YC{yyyymm(month)}-0001"


def test_series_are_independent(db):
    this, following = f"YC{yyyymm(month_ahead(0))}", f"YC{yyyymm(month_ahead(1))}"
    assert [next_in_series(this) for _ in range(3)] == [1, 2, 3]
    assert next_in_series(following) == 1
    assert next_in_series(this) == 4


# ---- twenty clerks at the same instant -----------------------------------------------------

PARALLEL = 20


@pytest.fixture
def crowd_app(database_url, tmp_path):
    """A second app on the suite's database with a pool big enough for 20 connections at once."""
    base = make_config(database_url, tmp_path / "instance")

    class Crowd(base):
        SQLALCHEMY_ENGINE_OPTIONS = {"pool_size": PARALLEL + 2, "max_overflow": 0,
                                     "pool_timeout": 30}
    crowd = create_app(Crowd)
    yield crowd
    with crowd.app_context():
        _db.engine.dispose()


def _race(crowd, clerk_id: int, pl_id: int, unit_ids: list[int], when: datetime):
    """Open one slip per unit, all threads released by one barrier; numbers and errors back."""
    barrier = threading.Barrier(len(unit_ids))
    numbers: list[str] = []
    errors: list[str] = []

    def clerk_at_the_desk(unit_id: int) -> None:
        with crowd.app_context():
            try:
                clerk = _db.session.get(User, clerk_id)
                pl = _db.session.get(PriceList, pl_id)
                unit = _db.session.get(Unit, unit_id)
                req = svc.SlipRequest(unit=unit, lines=[svc.LineRequest(pl.items[0].id)],
                                      contact_name="张伟", contact_phone="13800001111")
                # A request reads before it writes; the race starts at the first write.
                barrier.wait(timeout=30)
                with clock.at(when):  # a thread starts with its own context: fix it here too
                    slip = svc.open_slip(req, clerk, pl)
                number = slip.number
                _db.session.commit()
                numbers.append(number)
            except Exception as err:  # noqa: BLE001  (every failure is reported by the test)
                _db.session.rollback()
                errors.append(f"{type(err).__name__}: {err}")
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=clerk_at_the_desk, args=(u,)) for u in unit_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return numbers, errors


@pytest.mark.parametrize("already", [0, 7], ids=["first-of-the-month", "mid-month"])
def test_twenty_slips_opened_at_the_same_instant_get_twenty_consecutive_numbers(real_db,
        app, db, crowd_app, already):
    clerk = factories.user("clerk")
    pl = factories.price_list(clerk)
    units = [factories.unit(number=str(4000 + i)) for i in range(PARALLEL)]
    month = month_ahead(-2)
    when = at(month.replace(day=15), 12)
    for _ in range(already):
        open_at(clerk, pl, when)
    db.session.commit()
    if db.engine.dialect.name == "sqlite":  # a file in WAL mode, not an in-memory database
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.engine.url.database and db.engine.url.database != ":memory:"

    numbers, errors = _race(crowd_app, clerk.id, pl.id, [u.id for u in units], when)

    assert errors == []
    assert len(numbers) == PARALLEL
    series = f"YC{yyyymm(month)}"
    assert sorted(numbers) == [f"{series}-{n:04d}" for n in range(already + 1,
                                                                 already + PARALLEL + 1)]
    db.session.expire_all()
    stored = db.session.scalars(select(Slip.number).where(Slip.number.like(f"{series}-%"))).all()
    assert sorted(stored) == [f"{series}-{n:04d}" for n in range(1, already + PARALLEL + 1)]
