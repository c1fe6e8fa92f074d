"""The demo's money (阳光花园): the cashier's side of 90 days, written through app.services.billing.

Who pays how: owners mostly put a job on their monthly account (the supervisor reviews the
signed entry the next morning; month end makes the statements, which they pay in full, in part
or not yet), sometimes pay at once; tenants are drawn from their prepaid deposit (topping it up
when it runs low), sometimes pay at once; visitors pay at once. Errands are prepaid before the
worker goes out and reconciled when he is back: change given, the difference collected, or even.

Every money step is a real billing call by the person who takes it, at its own time
(`Replay.step` runs it with the app's clock at that time), and the cashier's steps are taken in
the order they happened (`Agenda`, and `Till.at` never goes back in time), so receipt numbers
run per month, without gaps, in the order the money came in.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from app.demo.replay import Replay, Story, month_starts, months_between
from app.domain.slip_states import UNSETTLED
from app.extensions import db
from app.models import Slip
from app.models.billing import (
    AccountEntry,
    Method,
    Payment,
    PaymentKind,
    PayRoute,
    Statement,
)
from app.models.property import Resident, ResidentKind, Unit
from app.services import billing

PAY_METHODS = ((Method.CASH, 35), (Method.WECHAT, 30), (Method.ALIPAY, 20), (Method.CARD, 10),
               (Method.BANK, 5))
STATEMENT_METHODS = ((Method.BANK, 35), (Method.WECHAT, 30), (Method.ALIPAY, 15),
                     (Method.CASH, 15), (Method.CARD, 5))
TOP_UP_METHODS = ((Method.WECHAT, 35), (Method.CASH, 25), (Method.ALIPAY, 25), (Method.BANK, 15))
SETTLED_OR_GONE = ("settled", "on_account", "closed", "cancelled")
OPENS, CLOSES = 8 * 60, 17 * 60 + 50      # the cashier's window, minutes after midnight
COUNTS_AT = 18 * 60 + 30                  # the drawer is counted after the last errand is paid
# How last month's statements were paid by now, oldest month first: full, part (rest unpaid).
STATEMENT_PAYING = ((0.75, 0.15), (0.65, 0.15), (0.45, 0.15))
# Errands reconciled in turn: change given back, even, the difference collected.
ERRAND_ENDS = ("change", "even", "collect", "change", "change", "even")
PURCHASES = {"代购物品": (8000, 12000, 15000, 20000), "代缴费用": (8650, 12000, 23580),
             "代订送水": (3600, 5400)}


def _weighted(rng, pairs) -> Method:
    return rng.choices([m for m, _ in pairs], [w for _, w in pairs])[0]


def yuan_up(fen: int, step: int = 10000) -> int:
    return -(-fen // step) * step


class Till:
    """The cashier 孙丽 (and the supervisor's review, the manager's approvals) in the demo."""

    def __init__(self, office: Replay):
        self.office, self.rng = office, office.rng
        self.agenda = office.agenda
        self.last: datetime | None = None   # the till's clock: it never runs backwards
        self.errands = 0
        self.voided = False
        self.short_unit: Unit | None = None  # the one tenant short of funds today
        self.refunded: set[int] = set()

    @property
    def cashier(self):
        return self.office.staff["cashier"]

    # ---- time ------------------------------------------------------------------------------

    def at(self, t: datetime) -> datetime:
        """The moment the cashier records money planned for t: after every earlier step, never
        before the till's last receipt, never in the future."""
        self.agenda.until(t)
        t = min(t, self.office.now - timedelta(seconds=20))
        if self.last is not None and t < self.last:
            t = self.last
        self.last = t
        return t

    def hours(self, t: datetime) -> datetime:
        """t moved into the cashier's opening hours (the next morning when she has gone)."""
        local = t.astimezone(self.office.tz)
        minutes = local.hour * 60 + local.minute
        if minutes < OPENS:
            return self.office.local(local.date(), OPENS + self.rng.randint(5, 40))
        if minutes > CLOSES:
            return self.office.local(local.date() + timedelta(days=1),
                                     OPENS + self.rng.randint(5, 60))
        return t

    def step(self, t: datetime, fn, *args, who: str = "cashier", **kw):
        """One real billing call at t, by the cashier unless someone else is named."""
        return self.office.step(t, who, fn, *args, **kw)

    # ---- at the desk and at completion ------------------------------------------------------

    def purchase_fen(self, item_name: str) -> int:
        """What the errand's shopping or bill will cost, prepaid with the fee."""
        return self.rng.choice(PURCHASES.get(item_name, (5000, 10000)))

    def prepay(self, t: datetime, slip: Slip) -> datetime:
        """The resident prepays an errand at the cashier: the fee and the purchase money."""
        t = self.at(t)
        self.step(t, billing.prepay_errand, slip, self.cashier,
                  _weighted(self.rng, PAY_METHODS[:3]), billing.errand_prepayment_fen(slip),
                  payer_name=slip.contact_name)
        return t

    def route(self, slip: Slip) -> str | None:
        """How the resident chooses to pay at completion (None: the only route there is)."""
        if slip.errand or slip.free or slip.resident is None:
            return None
        if slip.resident.kind == ResidentKind.OWNER:
            return PayRoute.ON_ACCOUNT if self.rng.random() < 0.85 else PayRoute.PAY_NOW
        return PayRoute.DEPOSIT if self.rng.random() < 0.85 else PayRoute.PAY_NOW

    def spent(self, slip: Slip, end: str | None = None) -> int | None:
        """What the worker's purchases cost, from the receipts he brings back."""
        if not slip.errand:
            return None
        end = end or ERRAND_ENDS[self.errands % len(ERRAND_ENDS)]
        self.errands += 1
        if end == "change":
            return max(0, slip.purchase_fen - 100 * self.rng.randint(5, 30))
        if end == "collect":
            return slip.purchase_fen + 100 * self.rng.randint(3, 25)
        return slip.purchase_fen

    def cover(self, t: datetime, slip: Slip) -> None:
        """A tenant's job goes out only with the deposit covering it: a top-up when short."""
        if slip.pay_route != PayRoute.DEPOSIT or slip.unit_id == getattr(self.short_unit, "id",
                                                                         None):
            return
        short = billing.shortfalls([slip]).get(slip.id, 0)
        if short > 0:
            self.top_up(t, slip.unit, yuan_up(short) + self.rng.choice((10000, 20000, 30000)))

    def top_up(self, t: datetime, unit: Unit, amount: int) -> datetime:
        t = self.at(t)
        self.step(t, billing.top_up, unit, self.cashier,
                  _weighted(self.rng, TOP_UP_METHODS), amount, payer_name=_payer(unit))
        return t

    # ---- settling a finished job --------------------------------------------------------------

    def settle_at(self, slip: Slip, done: datetime) -> datetime | None:
        """When the job's money is settled: the supervisor reviews an owner's entry the next
        morning (None: not yet, it waits in his list); the cashier takes other money shortly
        after the work, in her opening hours (or now, if that is still to come)."""
        now = self.office.now
        if slip.pay_route == PayRoute.ON_ACCOUNT:
            morning = done.astimezone(self.office.tz).date() + timedelta(days=1)
            when = self.office.local(morning, 9 * 60 + self.rng.randint(20, 120))
            return when if when < now else None
        when = self.hours(done + timedelta(minutes=self.rng.randint(10, 150)))
        return max(done, min(when, now - timedelta(minutes=self.rng.randint(3, 15))))

    def settle(self, t: datetime, slip: Slip) -> datetime:
        """The slip's money, as its route says. Returns when it happened."""
        if slip.state not in UNSETTLED:
            return t
        if slip.errand:
            t = self.at(t)
            self.step(t, billing.settle_errand, slip, self.cashier,
                      _weighted(self.rng, PAY_METHODS[:3]))
            return t
        if slip.total_fen <= 0:
            return t
        if slip.pay_route == PayRoute.ON_ACCOUNT:
            entry = db.session.scalar(select(AccountEntry).where(
                AccountEntry.slip_id == slip.id, AccountEntry.reviewed_at.is_(None),
                AccountEntry.reverses_id.is_(None)))
            self.step(t, billing.review_entry, entry, self.office.staff["supervisor"],
                      who="supervisor")
            return t
        if slip.pay_route == PayRoute.DEPOSIT:
            balance = billing.deposit_balance(slip.unit)
            if balance < slip.total_fen:  # asked to top up first
                self.top_up(t, slip.unit, yuan_up(slip.total_fen - balance)
                            + self.rng.choice((20000, 30000, 50000)))
            t = self.at(t + timedelta(minutes=1))
            self.step(t, billing.draw_from_deposit, slip, self.cashier)
            return t
        method = _weighted(self.rng, PAY_METHODS)
        if not self.voided and timedelta(days=25) < self.office.now - t < timedelta(days=40):
            return self.paid_twice(t, slip)
        t = self.at(t)
        self.step(t, billing.take_payment, slip, self.cashier, method, slip.total_fen,
                  payer_name=slip.contact_name)
        return t

    def give_back(self, when: datetime, slip: Slip) -> Story:
        """A cancelled errand's prepayment voided: the money goes back to the resident."""
        t = self.at(min((yield when), self.office.now - timedelta(minutes=1)))
        for payment in db.session.scalars(select(Payment).where(
                Payment.slip_id == slip.id, Payment.kind == PaymentKind.ERRAND_PREPAY)):
            if not payment.void:
                self.step(t, billing.void, payment, self.cashier,
                          "代办已取消，预付款如数退回")

    def paid_twice(self, t: datetime, slip: Slip) -> datetime:
        """The receipt that was voided: cash recorded, the resident had paid by WeChat."""
        self.voided = True
        t = self.at(t)
        wrong = self.step(t, billing.take_payment, slip, self.cashier, Method.CASH,
                          slip.total_fen, payer_name=slip.contact_name)
        t = self.at(t + timedelta(minutes=4))
        self.step(t, billing.void, wrong, self.cashier,
                  "收款方式记错：实际为微信支付，本收据作废，已重开微信收据")
        t = self.at(t + timedelta(minutes=1))
        self.step(t, billing.take_payment, slip, self.cashier, Method.WECHAT,
                  slip.total_fen, payer_name=slip.contact_name)
        return t

    # ---- the office's calendar ----------------------------------------------------------------

    def plan(self, first: date, today: date) -> None:
        """Month ends, the refund paid out and the evening counts of the days replayed."""
        for month_start in month_starts(first, today):
            self.agenda.start(self.month_end(month_start))
        self.agenda.start(self.refund_paid(today - timedelta(days=30)))
        self.agenda.start(self.cash_counts(first, today))

    def month_end(self, month_start: date) -> Story:
        """The cashier runs last month's statements on the first morning of the month."""
        previous = (month_start - timedelta(days=1)).strftime("%Y-%m")
        t = yield min(self.office.local(month_start, 9 * 60),
                      self.office.now - timedelta(minutes=10))
        cashier = self.cashier
        run = self.step(t, billing.start_month_end, previous, cashier)
        while run.finished_at is None:
            self.step(t, billing.run_step, run, cashier)
        statements = db.session.scalars(select(Statement).where(Statement.run_id == run.id)
                                        .order_by(Statement.unit_id)).all()
        age = months_between(month_start, self.office.now.astimezone(self.office.tz).date())
        full, part = STATEMENT_PAYING[max(0, 2 - age)]
        for statement in statements:
            roll = self.rng.random()
            if statement.total_fen <= 0 or roll >= full + part:
                continue  # not paid yet
            when = self.hours(t + timedelta(days=self.rng.randint(1, 20),
                                            minutes=self.rng.randint(0, 480)))
            if when >= self.office.now:
                continue
            self.agenda.start(self.pay_statement(when, statement, roll < full))

    def pay_statement(self, when: datetime, statement: Statement, in_full: bool) -> Story:
        t = self.at((yield when))
        due = billing.statement_due_fen(statement)
        amount = due if in_full else max(100, due // 200 * 100)  # half, in whole yuan
        self.step(t, billing.pay_statement, statement, self.cashier,
                  _weighted(self.rng, STATEMENT_METHODS), amount,
                  payer_name=_payer(statement.unit))

    def refund_paid(self, day: date) -> Story:
        """A tenant asks for part of the deposit back; the manager approves; it is paid out."""
        t = yield self.office.local(day, 10 * 60)
        unit, balance = self.richest_tenant()
        if unit is None or balance < 20000:
            return
        refund = self.step(t, billing.request_refund, unit, self.cashier,
                           max(10000, balance // 2 // 10000 * 10000),
                           "预交款余额较多，住户申请退还一部分")
        t = yield self.office.local(day, 10 * 60 + 25)
        self.step(t, billing.decide_refund, refund, self.office.staff["manager"], True,
                  "已核对预交记录，同意退还", who="manager")
        t = yield self.office.local(day, 10 * 60 + 40)
        self.step(self.at(t), billing.pay_refund, refund, self.cashier, Method.BANK)

    def refund_story(self, when: datetime) -> Story:
        """Today's refund request, waiting for the manager."""
        t = yield when
        unit, balance = self.richest_tenant()
        if unit is None or balance < 10000:
            return
        self.step(t, billing.request_refund, unit, self.cashier,
                  balance // 10000 * 10000, "租户下月合同到期退租，申请退还预交款余额")

    def settle_story(self, when: datetime, slip: Slip) -> Story:
        """The slip's money at a given time, in its turn."""
        self.settle((yield when), slip)

    def richest_tenant(self) -> tuple[Unit | None, int]:
        """The tenants' unit holding the largest deposit (not today's short one), with no job
        that could draw on it meanwhile."""
        waiting = select(Slip.unit_id).where(Slip.pay_route == PayRoute.DEPOSIT.value,
                                             Slip.state.not_in(SETTLED_OR_GONE))
        skip = (self.refunded | {getattr(self.short_unit, "id", 0)}
                | set(db.session.scalars(waiting)))
        rows = db.session.execute(
            select(Payment.unit_id, func.sum(Payment.deposit_fen).label("fen"))
            .group_by(Payment.unit_id).order_by(func.sum(Payment.deposit_fen).desc(),
                                                Payment.unit_id)).all()
        for unit_id, fen in rows:
            if unit_id not in skip and fen > 0:
                self.refunded.add(unit_id)
                return db.session.get(Unit, unit_id), fen
        return None, 0

    def lowest_tenant(self, homes: list[Unit]) -> Unit:
        """The tenants' unit with the smallest deposit left (but some): today's short one."""
        tenants = [u for u in homes if tenants_of(u)]
        balances = dict(db.session.execute(
            select(Payment.unit_id, func.sum(Payment.deposit_fen))
            .where(Payment.unit_id.in_([u.id for u in tenants])).group_by(Payment.unit_id)).all())
        held = sorted((fen, u.id, u) for u in tenants if (fen := balances.get(u.id) or 0) > 0
                      and u.id not in self.refunded)
        self.short_unit = held[0][2] if held else tenants[0]
        return self.short_unit

    def cash_counts(self, first: date, today: date) -> Story:
        """Every evening the cashier counts the drawer; once it was 5 yuan short."""
        day, short_from, shorted = first, today - timedelta(days=12), False
        # Seeded in the small hours, today's two hours so far began yesterday evening: that
        # evening's drawer is counted after them, just now.
        late = self.office.begin.astimezone(self.office.tz).date()
        while day < today:
            at = self.office.local(day, COUNTS_AT)
            if day == late and self.office.begin > at:
                at = self.office.now - timedelta(minutes=1)
            t = yield at
            report = billing.day_report(day)
            counted, note = report.expected_cash(self.cashier.id), ""
            if report.payments and counted >= 0:  # below zero: change paid from the float
                if not shorted and day >= short_from and counted >= 1000:
                    counted, note, shorted = counted - 500, "少 5 元：找零差错，已登记", True
                self.step(t, billing.count_cash, day, self.cashier, counted, note)
            day += timedelta(days=1)


def tenants_of(unit: Unit) -> list[Resident]:
    return [r for r in unit.current_residents if r.kind == ResidentKind.TENANT]


def _payer(unit: Unit) -> str:
    people = unit.current_residents
    return people[0].name if people else ""

