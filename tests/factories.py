"""The test data builders, one set for the suite. They flush; the test (or login_as) commits
when it needs to. `Till` is the office with a price list, walking slips through the services
(the `till` fixture of tests/conftest.py)."""
from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import (
    AccountEntry,
    Category,
    ListStatus,
    Payment,
    PriceItem,
    PriceList,
    Slip,
    Unit,
    User,
)
from app.services import billing, catalogue, clock, reception, staff
from app.services import property as prop
from app.services import slips as svc
from tests.moments import past_list_date

PASSWORD = "secret-pw"
_seq = itertools.count(1)


def user(*roles: str, username: str | None = None, password: str = PASSWORD) -> User:
    n = next(_seq)
    return staff.create_user(username or f"{'-'.join(roles) or 'user'}{n}", f"测试{n}", password,
                                roles or ("clerk",))


def unit(building: str = "3", entrance: int | None = 2, number: str = "1502"):
    from sqlalchemy import select

    from app.models import Building
    b = db.session.scalar(select(Building).where(Building.code == building)) \
        or prop.create_building(building)
    return prop.create_unit(b, entrance, number)


def resident(u=None, name: str = "张伟", kind: str = "owner", phone: str = "13800001111", notes=""):
    return prop.add_resident(u or unit(), name, kind, phone, "", notes)


def category(code: str = "plumbing", zh: str = "水电类", en: str = "Plumbing") -> Category:
    c = Category(code=code, name_zh=zh, name_en=en, sort=next(_seq))
    db.session.add(c)
    db.session.flush()
    return c


def price_list(by: User, *, number: int = 1, effective: date | None = None,
               items=(("疏通下水", "Unclog a drain", "次", 3000, 3000, False, False),
                      ("换管", "Replace a pipe", "次", 1000, 100000, True, False),
                      ("换水暖件(水龙头)", "Replace a tap", "个", 1000, 3000, False, False),
                      ("公共部位报修", "Common-area repair", "次", 0, 0, False, True)),
               ) -> PriceList:
    """An approved version with the given items in one category."""
    cat = category(code=f"cat{next(_seq)}")
    pl = PriceList(status=ListStatus.APPROVED, number=number,
                   effective_date=effective or past_list_date(),
                   created_by=by, approved_by=by)
    for i, (zh, en, unit_, lo, hi, workload, free) in enumerate(items, start=1):
        pl.items.append(PriceItem(category_id=cat.id, code=f"P{number}{i:02d}", name_zh=zh,
                                  name_en=en, unit=unit_, price_min_fen=lo, price_max_fen=hi,
                                  by_workload=workload, free=free, department="repair", sort=i))
    db.session.add(pl)
    db.session.flush()
    return pl


def slip(clerk: User | None = None, *, unit_=None, lines=None, urgent: bool = False,
         free: bool = False, pl: PriceList | None = None, window=None, **kw):
    """An open slip quoted from `pl` (or a new approved list): one unclog-a-drain by default."""
    from datetime import timedelta

    from app.services import slips as svc
    clerk = clerk or user("clerk")
    pl = pl or db.session.scalar(
        __import__("sqlalchemy").select(PriceList).where(PriceList.status == ListStatus.APPROVED)
        .order_by(PriceList.number.desc())) or price_list(clerk)
    u = unit_ or unit(number=str(1000 + next(_seq)))
    if lines is None:
        lines = [svc.LineRequest(pl.items[0].id, 1, None)]
    if window is None:
        start = clock.now() + timedelta(hours=1)
        window = (start, start + timedelta(hours=2))
    req = svc.SlipRequest(unit=u, lines=lines, urgent=urgent, free=free,
                          window_start=window[0], window_end=window[1],
                          contact_name=kw.pop("contact_name", "张伟"),
                          contact_phone=kw.pop("contact_phone", "13800001111"), **kw)
    return svc.open_slip(req, clerk, pl)


# ---- the till: the office walking slips through the services -------------------------------

_doors = itertools.count(6000)

# The list: 0 疏通下水 30 yuan fixed · 1 水龙头 10–30 · 2 a free common-area repair ·
# 3 代购 (an errand, category "errands") 20 yuan fee
DRAIN, TAP, COMMON, ERRAND = range(4)


def till_price_list(by: User) -> PriceList:
    """The till's list: a fixed, a range, a free item and an errand (indexes DRAIN...)."""
    repair = Category(code="plumbing", name_zh="水电类", name_en="Plumbing", sort=1)
    errands = Category(code=svc.ERRAND_CATEGORY, name_zh="代办", name_en="Errands", sort=2)
    db.session.add_all([repair, errands])
    db.session.flush()
    pl = PriceList(status=ListStatus.APPROVED, number=1, effective_date=past_list_date(),
                   created_by=by, approved_by=by)
    rows = [(repair, "疏通下水", "Unclog a drain", "次", 3000, 3000, False),
            (repair, "换水暖件(水龙头)", "Replace a tap", "个", 1000, 3000, False),
            (repair, "公共部位报修", "Common-area repair", "次", 0, 0, True),
            (errands, "代购", "Buy and deliver", "次", 2000, 2000, False)]
    for i, (cat, zh, en, unit, lo, hi, free) in enumerate(rows, start=1):
        pl.items.append(PriceItem(category_id=cat.id, code=f"P1{i:02d}", name_zh=zh, name_en=en,
                                  unit=unit, price_min_fen=lo, price_max_fen=hi,
                                  by_workload=False, free=free, department="repair", sort=i))
    db.session.add(pl)
    db.session.flush()
    return pl


class Till:
    """The office: a clerk, a supervisor, a worker, a cashier and a manager, and a price list."""

    def __init__(self):
        self.clerk = user("clerk")
        self.sup = user("supervisor")
        self.worker = user("worker")
        self.cashier = user("cashier")
        self.manager = user("manager")
        self.pl = till_price_list(self.clerk)
        self._residents: dict[tuple[int, str], object] = {}

    def item(self, i: int) -> int:
        return self.pl.items[i].id

    def unit(self) -> Unit:
        return unit(number=str(next(_doors)))

    def resident(self, unit: Unit, kind: str):
        key = (unit.id, kind)
        if key not in self._residents:
            name = "张伟" if kind == "owner" else "李娜"
            self._residents[key] = resident(unit, name=name, kind=kind)
        return self._residents[key]

    def open(self, *lines: svc.LineRequest, kind: str | None = None, unit: Unit | None = None,
             purchase_fen: int = 0, free: bool = False) -> Slip:
        unit = unit or self.unit()
        start = clock.now() + timedelta(hours=1)
        req = svc.SlipRequest(unit=unit, resident=self.resident(unit, kind) if kind else None,
                              lines=list(lines) or [svc.LineRequest(self.item(DRAIN))],
                              contact_name="张伟", contact_phone="13800001111",
                              window_start=start, window_end=start + timedelta(hours=2),
                              purchase_fen=purchase_fen, free=free)
        return svc.open_slip(req, self.clerk, self.pl)

    def errand(self, purchase_fen: int = 5000, **kw) -> Slip:
        return self.open(svc.LineRequest(self.item(ERRAND)), purchase_fen=purchase_fen, **kw)

    def go(self, slip: Slip) -> Slip:
        """Dispatch, accept, check in and agree the fee: the work is under way."""
        svc.dispatch(slip, self.sup, self.worker.id)
        svc.accept(slip, self.worker)
        svc.check_in(slip, self.worker)
        svc.confirm_fee(slip, self.worker, {})
        return slip

    def sign(self, slip: Slip, route: str | None = None, spent: int | None = None) -> Slip:
        svc.complete(slip, self.worker, acceptance(pay_route=route, purchase_spent_fen=spent))
        return slip

    def finish(self, slip: Slip, route: str | None = None, spent: int | None = None) -> Slip:
        return self.sign(self.go(slip), route, spent)

    def hand_back(self, slip: Slip) -> Slip:
        return svc.hand_back(slip, self.clerk)

    def pay(self, slip: Slip, method: str = "cash", **kw) -> Payment:
        return billing.take_payment(slip, self.cashier, method, billing.owed_fen(slip), **kw)

    def entry(self, slip: Slip) -> AccountEntry:
        return db.session.scalar(select(AccountEntry).where(
            AccountEntry.slip_id == slip.id, AccountEntry.reverses_id.is_(None)))

    def review(self, slip: Slip) -> AccountEntry:
        return billing.review_entry(self.entry(slip), self.sup)

    def owner_entry(self, unit: Unit, at: datetime | None = None, *, tap: int | None = None,
                    reviewed: bool = True) -> AccountEntry:
        """An owner's finished slip on the monthly account, as if completed at `at`."""
        lines = [svc.LineRequest(self.item(TAP), 1, tap)] if tap else []
        slip = self.go(self.open(*lines, kind="owner", unit=unit))
        with clock.at(at or clock.now()):
            self.sign(slip)
            if reviewed:
                self.review(slip)
        return self.entry(slip)

    def topped_up(self, fen: int, unit: Unit | None = None) -> Unit:
        unit = unit or self.unit()
        billing.top_up(unit, self.cashier, "cash", fen, payer_name="李娜")
        return unit


def acceptance(**kw) -> svc.Acceptance:
    return svc.Acceptance(**{"name": "张伟", "signature_file": "signatures/x.png",
                             "satisfied": True, **kw})


# ---- one of everything: what the access matrix, the fuzzer and the cache walk point at ----

def one_of_everything(app) -> dict:
    """One of everything a URL can point at, committed: people, a unit and its resident, an
    approved list and a draft, a logged call and its dispatched slip with a photo and a
    signature on disk, and the money (`_money`). The ids and numbers, by name."""
    manager = user("manager", username="boss")
    target = user("clerk", username="target")
    supervisor = user("supervisor", username="boss2")
    worker = user("worker", username="hands")
    home = unit("3", 2, "1502")
    owner = resident(home, "张伟")
    approved = price_list(manager, number=1, effective=past_list_date())
    draft = catalogue.start_draft(manager)
    entry = reception.log_contact(reception.Contact("phone", "paid", "漏水", unit=home,
                                                    resident=owner), target)
    job = slip(target, unit_=home, pl=approved, reception=entry)
    svc.dispatch(job, supervisor, worker.id)
    photo = _files_on_disk(app, job, worker)
    money = _money(home, owner, approved, target, supervisor, worker)
    db.session.commit()
    return {
        **money,
        "unit_id": home.id, "resident_id": owner.id, "user_id": target.id,
        "number": approved.number, "item_id": draft.items[0].id,
        "building_id": home.building_id, "category_id": draft.items[0].category_id,
        "entry_id": entry.id, "slip_number": job.number, "slip_id": job.id,
        "version": job.version, "photo_id": photo.id, "action": "dispute",
        "worker_id": worker.id, "approved_item_id": approved.items[0].id,
        "supervisor_id": supervisor.id,
    }


def _money(unit, resident, pl, clerk, supervisor, worker) -> dict:
    """A paid slip and its receipt, a finished slip still owed, an owner's entry waiting for
    review, this month's statement, a deposit refund waiting for the manager, a month-end run."""
    cashier = user("cashier", username="till")

    def finished(**kw):
        s = slip(clerk, unit_=unit, pl=pl, **kw)
        svc.dispatch(s, supervisor, worker.id)
        svc.check_in(s, worker)
        svc.confirm_fee(s, worker, {})
        return s

    def signed(s, route):
        svc.complete(s, worker, svc.Acceptance("张伟", "signatures/x.png", True,
                                                   pay_route=route))

    paid = finished()
    signed(paid, "pay_now")
    payment = billing.take_payment(paid, cashier, "cash", billing.owed_fen(paid))
    due = finished()
    signed(due, "pay_now")
    billed = finished(resident=resident)
    signed(billed, "on_account")
    billing.review_entry(billing.entries_to_review()[0], supervisor)
    month = clock.local_today().strftime("%Y-%m")
    run = billing.run_step(billing.start_month_end(month, cashier), cashier)
    waiting = finished(resident=resident)
    signed(waiting, "on_account")
    billing.top_up(unit, cashier, "cash", 20000)
    refund = billing.request_refund(unit, cashier, 5000, "租户搬走")
    return {"receipt_number": payment.number, "due_slip_number": due.number,
            "due_version": due.version, "account_entry_id": billing.entries_to_review()[0].id,
            "unit_key": unit.search_key, "month": month, "day": clock.local_today().isoformat(),
            "refund_id": refund.id, "refund_version": refund.version, "run_id": run.id,
            "waiting_version": waiting.version,
            "statement_id": billing.statement_of(unit, month).id}


def _files_on_disk(app, slip, worker):
    """A signature and a photo under instance/, as the worker's phone would have left them."""
    from pathlib import Path

    from PIL import Image

    from app.models import SlipPhoto
    root = Path(app.instance_path)
    for rel in (f"signatures/{slip.number}.png", f"photos/{slip.number}/before-1.jpg"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (20, 10), "white").save(root / rel)
    slip.signature_file = f"signatures/{slip.number}.png"
    photo = SlipPhoto(slip=slip, kind="before", file=f"photos/{slip.number}/before-1.jpg",
                      content_type="image/jpeg", size=100, uploaded_by_id=worker.id)
    db.session.add(photo)
    db.session.flush()
    return photo
