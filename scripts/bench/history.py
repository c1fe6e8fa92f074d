"""The one bulk writer of history: slips with their lines and events, payments with receipt
numbers, account entries, statements and more units, inserted with SQLAlchemy Core on the
models' own tables. The rules come from the app: a slip's events are the actions of
app.domain.slip_states walked with `next_state`, numbers are taken from the app's counters
(`NumberSequence`) in the property's month (`app.domain.clock.month_of`), kinds and methods
are the models' enums. Call everything inside an app context; `finish()` before commit."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update

from app.domain import clock as core_clock
from app.domain.addresses import unit_key, unit_label
from app.domain.roles import Role
from app.domain.settlement import PayRoute
from app.domain.slip_states import ACTION_ROLES, Action, State, next_state
from app.extensions import db
from app.models import Building, Unit
from app.models.billing import AccountEntry, Method, Payment, PaymentKind, Statement
from app.models.counters import NumberSequence
from app.models.property import Resident, ResidentKind
from app.models.slips import Slip, SlipEvent, SlipLine
from app.models.users import UserRole
from app.services import catalogue, clock
from app.services.billing.receipts import MONEY_METHODS, RECEIPT_NUMBER
from app.services.slips import SLIP_NUMBER

A = Action
WORK = [A.DISPATCH, A.ACCEPT, A.CHECK_IN, A.CONFIRM_FEE, A.COMPLETE]
# The actions that take a new slip to each state the benchmarks need.
PATHS: dict[State, list[Action]] = {
    State.REGISTERED: [], State.CANCELLED: [A.DISPATCH, A.CANCEL],
    State.COMPLETED: WORK, State.HANDED_BACK: [*WORK, A.HAND_BACK],
    State.SETTLED: [*WORK, A.SETTLE], State.ON_ACCOUNT: [*WORK, A.POST_TO_ACCOUNT],
    State.CLOSED: [*WORK, A.SETTLE, A.HAND_BACK]}
CHUNK = 5000


@dataclass
class SlipSpec:
    unit_id: int
    state: State
    done: datetime                      # completed (or cancelled) at, UTC
    route: PayRoute = PayRoute.PAY_NOW
    kind: ResidentKind | None = None    # whose slip: the unit's first resident of this kind
    lines: int | None = None
    errand: bool = False
    purchase_fen: int = 0
    purchase_spent_fen: int | None = None


@dataclass
class Made:
    id: int
    number: str
    total_fen: int
    spec: SlipSpec


def states_of(actions: list[Action]) -> list[tuple[Action, State, State]]:
    """(action, from, to) for each step from registered, by the app's transition table."""
    out, state = [], State.REGISTERED
    for action in actions:
        to = next_state(state, action)
        if to is None:
            raise ValueError(f"{action} is not legal from {state}")
        out.append((action, state, to))
        state = to
    return out


class Builder:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.tz = clock.zone()
        self.by_role: dict[str, list[int]] = {}
        for uid, role in db.session.execute(select(UserRole.user_id, UserRole.role)
                                            .order_by(UserRole.user_id)):
            self.by_role.setdefault(role, []).append(uid)
        price_list = catalogue.in_force()
        self.price_list_id = price_list.id
        self.items = [i for i in price_list.items if not i.free and not i.by_workload
                      and i.price_min_fen and i.price_min_fen == i.price_max_fen]
        self.units = list(db.session.scalars(select(Unit.id).order_by(Unit.id)))
        self.residents: dict[int, list[tuple]] = {}
        for row in db.session.execute(select(Resident.id, Resident.unit_id, Resident.name,
                                             Resident.phone, Resident.kind)
                                      .where(Resident.active.is_(True))):
            self.residents.setdefault(row.unit_id, []).append(tuple(row))
        self.seqs = dict(db.session.execute(select(NumberSequence.series,
                                                   NumberSequence.last)).all())
        self.known = set(self.seqs)

    # ---- who, which unit, which number -------------------------------------------------

    def users(self, role: Role) -> list[int]:
        return self.by_role.get(role.value, [])

    def actor(self, action: Action | str, worker: int) -> int:
        if action == "open":
            return self.users(Role.CLERK)[0]
        roles = ACTION_ROLES[Action(action)]
        if Role.WORKER in roles:
            return worker
        return self.rng.choice(next(self.users(r) for r in sorted(roles) if self.users(r)))

    def units_with(self, kind: ResidentKind | None = None) -> list[int]:
        return [u for u in self.units if any(kind is None or r[4] == kind
                                             for r in self.residents.get(u, []))]

    def resident(self, unit_id: int, kind: ResidentKind | None) -> tuple:
        rows = [r for r in self.residents.get(unit_id, []) if kind is None or r[4] == kind]
        return rows[0] if rows else (None, unit_id, "", "", None)

    def number(self, prefix: str, at: datetime) -> str:
        series = prefix + core_clock.month_of(at, self.tz).replace("-", "")
        self.seqs[series] = self.seqs.get(series, 0) + 1
        return f"{series}-{self.seqs[series]:04d}"

    def month(self, at: datetime) -> str:
        return core_clock.month_of(at, self.tz)

    def local(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.tz).astimezone(UTC)

    def in_month(self, month: str) -> datetime:
        """A working moment in a 'YYYY-MM' month, property time (days 1-27, 08:00-18:59)."""
        return self.local(date(int(month[:4]), int(month[5:]), self.rng.randint(1, 27)),
                          self.rng.randint(8, 18), self.rng.randint(0, 59))

    def finish(self) -> None:
        """Write the counters back, so the app's next number follows the bulk ones."""
        for series, last in self.seqs.items():
            if series in self.known:
                db.session.execute(update(NumberSequence)
                                   .where(NumberSequence.series == series).values(last=last))
            else:
                db.session.execute(insert(NumberSequence).values(series=series, last=last))
                self.known.add(series)

    # ---- rows ------------------------------------------------------------------------

    def _lines(self, n: int) -> tuple[list[dict], int]:
        lines, total = [], 0
        for _ in range(n):
            item, qty = self.rng.choice(self.items), self.rng.choice((1, 1, 1, 2))
            price = item.price_min_fen
            total += price * qty
            lines.append({"price_item_id": item.id, "code": item.code, "name_zh": item.name_zh,
                          "name_en": item.name_en or "", "unit": item.unit, "quantity": qty,
                          "list_min_fen": price, "list_max_fen": price, "by_workload": False,
                          "free": False, "unit_price_fen": price, "final_price_fen": price,
                          "needs_approval": False, "approved_by_id": None, "approved_at": None})
        return lines, total

    def _slip(self, s: SlipSpec) -> tuple[dict, list[dict], list[dict]]:
        created = s.done - timedelta(hours=3)
        lines, total = self._lines(s.lines or self.rng.choice((1, 1, 2, 3)))
        worker = self.rng.choice(self.users(Role.WORKER))
        steps = states_of(PATHS[s.state])
        acted = {a for a, _f, _t in steps}
        before_done = [a for a in acted if a in WORK or a == A.CANCEL]
        times, k_after = [], 0
        for i, (action, _f, _t) in enumerate(steps):
            if action in WORK or action == A.CANCEL:
                times.append(created + (s.done - created) * (i + 1) / len(before_done))
            else:
                k_after += 1
                times.append(s.done + timedelta(hours=k_after))
        events = [{"at": created, "actor_id": self.actor("open", worker), "action": "open",
                   "from_state": None, "to_state": State.REGISTERED.value}]
        events += [{"at": at, "actor_id": self.actor(a, worker), "action": a.value,
                    "from_state": f.value, "to_state": t.value}
                   for (a, f, t), at in zip(steps, times)]
        for e in events:
            e.update(note="no longer needed" if e["action"] == A.CANCEL else "", data=None,
                     request_key=None)
        at = dict(zip([a for a, _f, _t in steps], times))
        res = self.resident(s.unit_id, s.kind)
        done = A.COMPLETE in acted
        row = {"number": self.number("YC", created), "state": s.state.value,
               "version": len(events), "reception_id": None, "unit_id": s.unit_id,
               "resident_id": res[0], "contact_name": res[2], "contact_phone": res[3],
               "request": "", "notes": "", "urgent": False, "free": False,
               "window_start": created + timedelta(hours=1), "window_end": s.done,
               "price_list_id": self.price_list_id, "quoted_total_fen": total,
               "agreed_total_fen": total if A.CONFIRM_FEE in acted else None,
               "created_at": created, "received_by_id": events[0]["actor_id"],
               "dispatched_by_id": events[1]["actor_id"] if A.DISPATCH in acted else None,
               "worker_id": worker if A.DISPATCH in acted else None, "due_at": s.done,
               "paused_since": None, "checked_in_at": at.get(A.CHECK_IN),
               "nobody_home_count": 0, "damage_note": "", "materials": "",
               "acceptance_name": res[2] if done else "", "signature_file": "",
               "satisfied": True if done else None, "acceptance_remarks": "",
               "completed_at": at.get(A.COMPLETE), "handed_back_at": at.get(A.HAND_BACK),
               "cancel_reason": "no longer needed" if A.CANCEL in acted else "",
               "pay_route": s.route.value, "errand": s.errand, "purchase_fen": s.purchase_fen,
               "purchase_spent_fen": s.purchase_spent_fen, "updated_at": times[-1] if times
               else created}
        return row, lines, events

    def slips(self, specs: list[SlipSpec]) -> list[Made]:
        out: list[Made] = []
        for start in range(0, len(specs), CHUNK):
            chunk = specs[start:start + CHUNK]
            built = [self._slip(s) for s in chunk]
            ids = db.session.execute(insert(Slip.__table__).returning(
                Slip.__table__.c.id, sort_by_parameter_order=True),
                [b[0] for b in built]).scalars().all()
            lines, events = [], []
            for sid, spec, (row, slip_lines, slip_events) in zip(ids, chunk, built):
                lines += [dict(line, slip_id=sid) for line in slip_lines]
                events += [dict(e, slip_id=sid) for e in slip_events]
                out.append(Made(sid, row["number"], row["quoted_total_fen"], spec))
            db.session.execute(insert(SlipLine.__table__), lines)
            db.session.execute(insert(SlipEvent.__table__), events)
        return out

    def payments(self, rows: list[dict[str, Any]]) -> list[int]:
        """Payments (kind, method, amount_fen, unit_id, at; optionally slip_id, statement_id,
        deposit_fen, reverses_id, note), numbered unless a reversal."""
        cashiers = self.users(Role.CASHIER)
        full = [{"number": None if r["kind"] == PaymentKind.REVERSAL else
                 self.number("RC", r["at"]), "deposit_fen": 0, "slip_id": None,
                 "statement_id": None, "refund_id": None, "payer_name": "",
                 "cashier_id": self.rng.choice(cashiers), "note": "", "reverses_id": None,
                 "request_key": None, **r} for r in rows]
        ids: list[int] = []
        for start in range(0, len(full), CHUNK):
            ids += db.session.execute(insert(Payment.__table__).returning(
                Payment.__table__.c.id, sort_by_parameter_order=True),
                full[start:start + CHUNK]).scalars().all()
        return ids

    def entries(self, made: list[Made], statement_id: int | None = None) -> None:
        """Reviewed account entries for slips on an owner's account, in their own month."""
        sup = self.users(Role.SUPERVISOR)[0]
        rows = [{"unit_id": m.spec.unit_id, "slip_id": m.id, "month": self.month(m.spec.done),
                 "amount_fen": m.total_fen, "description": "疏通下水×1", "signed_name": "业主",
                 "created_by_id": self.users(Role.WORKER)[0], "created_at": m.spec.done,
                 "reviewed_by_id": sup, "reviewed_at": m.spec.done + timedelta(hours=1),
                 "statement_id": statement_id, "reverses_id": None, "reason": ""} for m in made]
        for start in range(0, len(rows), CHUNK):
            db.session.execute(insert(AccountEntry.__table__), rows[start:start + CHUNK])

    def statement(self, unit_id: int, month: str, total_fen: int, at: datetime) -> int:
        return db.session.execute(insert(Statement.__table__).returning(
            Statement.__table__.c.id), [{"unit_id": unit_id, "month": month,
                                         "total_fen": total_fen, "created_at": at, "run_id": None,
                                         "created_by_id": self.users(Role.CASHIER)[0]}]
        ).scalar_one()

    def add_units(self, count: int) -> list[int]:
        """More units in new buildings (4 entrances × 32 floors × 4 doors), each with an owner."""
        from app.services import property as prop
        codes = set(db.session.scalars(select(Building.code)))
        rows: list[dict] = []
        code = 100
        while len(rows) < count:
            code += 1
            if str(code) in codes:
                continue
            building = prop.create_building(str(code))
            rows += [{"building_id": building.id, "entrance": e, "number": f"{f:02d}{d:02d}",
                      "search_key": unit_key(building.code, e, f"{f:02d}{d:02d}"),
                      "label": unit_label(building.code, e, f"{f:02d}{d:02d}"), "area_m2": 90,
                      "note": ""} for e in range(1, 5) for f in range(1, 33) for d in range(1, 5)]
        ids = db.session.execute(insert(Unit.__table__).returning(
            Unit.__table__.c.id, sort_by_parameter_order=True), rows[:count]).scalars().all()
        now = datetime.now(UTC)
        db.session.execute(insert(Resident.__table__), [
            {"unit_id": uid, "name": f"业主{uid}", "kind": ResidentKind.OWNER.value,
             "phone": f"139{uid:08d}", "phone2": "", "notes": "", "active": True,
             "created_at": now} for uid in ids])
        self.units += ids
        self.residents.update({uid: [(None, uid, f"业主{uid}", f"139{uid:08d}",
                                      ResidentKind.OWNER.value)] for uid in ids})
        return ids


# ---- history --------------------------------------------------------------------------------

HISTORIC = (State.CLOSED, State.CANCELLED)


def count() -> int:
    """Historic slips in the database: closed or cancelled."""
    return db.session.scalar(select(func.count()).select_from(Slip)
                             .where(Slip.state.in_([s.value for s in HISTORIC])))


def build(n: int, seed: int) -> dict[str, Any]:
    """n historic slips over the last three years: 92 % done, paid at the till and closed
    (with their receipts), 8 % cancelled; and a deposit top-up for every tenth slip."""
    rng = random.Random(seed)
    b = Builder(rng)
    units = b.units_with()
    today = clock.local(datetime.now(UTC)).replace(hour=0, minute=0, second=0, microsecond=0)
    made: list[Made] = []
    for start in range(0, n, 20_000):
        specs = []
        for _ in range(min(20_000, n - start)):
            day = today - timedelta(seconds=rng.uniform(86_400, 3 * 365 * 86_400))
            done = day.replace(hour=rng.randint(9, 17)).astimezone(UTC)
            state = State.CANCELLED if rng.random() < 0.08 else State.CLOSED
            specs.append(SlipSpec(rng.choice(units), state, done))
        chunk = b.slips(specs)
        pays = [{"kind": PaymentKind.SLIP.value, "method": rng.choice(MONEY_METHODS).value,
                 "amount_fen": m.total_fen, "unit_id": m.spec.unit_id, "slip_id": m.id,
                 "at": m.spec.done + timedelta(hours=1)}
                for m in chunk if m.spec.state == State.CLOSED]
        pays += [{"kind": PaymentKind.TOPUP.value, "method": Method.WECHAT.value,
                  "amount_fen": amount, "deposit_fen": amount, "unit_id": m.spec.unit_id,
                  "at": m.spec.done} for m in chunk[::10]
                 for amount in [rng.choice((20_000, 50_000, 100_000))]]
        b.payments(pays)
        made += chunk
    b.finish()
    db.session.commit()
    assert all(SLIP_NUMBER.fullmatch(m.number) for m in made[:100])
    assert RECEIPT_NUMBER.fullmatch(b.number("RC", datetime.now(UTC)))  # not saved: a check
    rows = {m.__tablename__: db.session.scalar(select(func.count()).select_from(m))
            for m in (Slip, SlipLine, SlipEvent, Payment)}
    return {"added": n, "historic": count(), "rows": rows}
