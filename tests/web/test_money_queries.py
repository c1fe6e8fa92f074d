"""The cashier's busiest pages cost a fixed number of SQL statements, however many slips wait
at the till and however long a unit's history is: three rows or thirty, the same count."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from app.extensions import db as _db
from app.models.billing import AccountEntry, Statement
from app.services import billing, clock
from app.services import slips as svc
from tests import factories
from tests.web.pages import text
from tests.web.test_cashier_views import Office

HX = {"HX-Request": "true"}


@contextmanager
def counting_queries(app):
    with app.app_context():
        engine = _db.engine
    statements: list[str] = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def count(app, client, url: str, headers=None) -> int:
    client.get(url, headers=headers)  # warm up: the first request loads what every one needs
    with counting_queries(app) as statements:
        resp = client.get(url, headers=headers)
    assert resp.status_code == 200, resp.status_code
    return len(statements)


def _months_back(n: int) -> list[datetime]:
    """The middle of each of the last `n` months, oldest first (this month is the last)."""
    today = clock.local_today().replace(day=1)
    firsts = [today]
    for _ in range(n - 1):
        firsts.append((firsts[-1] - timedelta(days=1)).replace(day=1))
    return [datetime(d.year, d.month, 15, 4, tzinfo=UTC) for d in reversed(firsts)]


def busy_office(office: Office, cashier, n: int, tag: str):
    """`n` of every kind of row at the till, and one unit with `n` of everything on its
    account: top-ups, slips drawn from the deposit, refunds, entries and monthly statements
    (each part paid, some receipts voided). Returns that unit."""
    manager = factories.user("manager")
    for i in range(n):
        office.finished(unit=factories.unit(building=tag, number=f"1{i:03d}"))   # pay now
        tenant = factories.resident(factories.unit(building=tag, number=f"2{i:03d}"),
                                    kind="tenant", phone=f"1390000{i:04d}")
        if i % 2:  # half of them short of deposit
            billing.top_up(tenant.unit, cashier, "cash", 1000 * i)
        office.finished(resident=tenant)                                        # deposit
        office.errand()                                                          # to prepay
        back = office.errand(fee=1000, purchase=5000)                            # back
        billing.prepay_errand(back, cashier, "cash", 6000)
        svc.dispatch(back, office.sup, office.worker.id)
        svc.check_in(back, office.worker)
        svc.confirm_fee(back, office.worker, {})
        svc.complete(back, office.worker, svc.Acceptance("李娜", "sig/y.png", True,
                                                         purchase_spent_fen=4000 + 100 * i))
    # the unit with a long history: an owner and a tenant
    unit = factories.unit(building=tag, number="9901")
    owner = factories.resident(unit, name="张伟", kind="owner", phone="13700000001")
    tenant = factories.resident(unit, name="陈静", kind="tenant", phone="13700000002")
    for i, at in enumerate(_months_back(n)):
        with clock.at(at):
            slip = office.finished(resident=owner, route="on_account")
            entry = _db.session.scalar(select(AccountEntry)
                                       .where(AccountEntry.slip_id == slip.id))
            billing.review_entry(entry, office.sup)
        run = billing.start_month_end(at.strftime("%Y-%m"), cashier)
        while run.finished_at is None:
            billing.run_step(run, cashier)
        statement = billing.statement_of(unit, at.strftime("%Y-%m"))
        paid = billing.pay_statement(statement, cashier, "cash", 1000)
        if i % 3 == 0:
            billing.void(paid, cashier, "wrong amount")
        top = billing.top_up(unit, cashier, "wechat", 10000)
        if i % 4 == 3:
            billing.void(top, cashier, "wrong unit")
        drawn = office.finished(resident=tenant)
        if i % 2 == 0:
            billing.draw_from_deposit(drawn, cashier)
        refund = billing.request_refund(unit, cashier, 100, "搬走了")
        if i % 2 == 0:
            billing.decide_refund(refund, manager, True)
    _db.session.commit()
    return unit


@pytest.fixture
def cashier(login_as):
    return login_as("cashier")


def test_the_till_and_a_units_account_cost_the_same_with_3_or_30_rows(real_db, app, db, cashier):
    office = Office(db)
    small = busy_office(office, cashier.user, 3, "7")
    counts_small = (count(app, cashier, "/cashier/"), count(app, cashier, "/cashier/", HX),
                    count(app, cashier, f"/cashier/units/{small.search_key}"))
    big = busy_office(office, cashier.user, 30, "8")
    # really there: thirty of each kind wait at the till, the unit's history is thirty long
    queue = text(cashier.get("/cashier/"))
    assert queue.count("Errand back") > 30 and queue.count("From deposit") > 30
    assert _db.session.query(Statement).filter_by(unit_id=big.id).count() == 30
    counts_big = (count(app, cashier, "/cashier/"), count(app, cashier, "/cashier/", HX),
                  count(app, cashier, f"/cashier/units/{big.search_key}"))
    assert counts_big == counts_small, (counts_small, counts_big)
    assert max(counts_big) <= 32, counts_big
