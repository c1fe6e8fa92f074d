"""flask seed-demo: a believable property (阳光花园) to explore and to test against."""
from __future__ import annotations

import random
import secrets
from datetime import date, timedelta

from sqlalchemy import func, select

from app.demo import data
from app.demo.slips import seed_slips
from app.domain.money import parse_yuan
from app.domain.pricing import make_price
from app.extensions import db
from app.models import (
    AuditEvent,
    Category,
    ListStatus,
    PriceItem,
    PriceList,
    PropertySettings,
    Unit,
    User,
    money_guard,
)
from app.services import catalogue, clock, staff
from app.services.audit import acting_as, record
from app.services.property import add_resident, create_building, create_unit

DEMO_PASSWORD = "demo"
BUILDINGS = 6


class NotEmpty(RuntimeError):
    """The database already holds data; seeding would mix demo records into it."""


def database_is_empty() -> bool:
    return not any(db.session.scalar(select(func.count()).select_from(m)) for m in
                   (User, Unit, PriceList, AuditEvent))


def wipe() -> None:
    """Delete every row (for --force). Children first, so foreign keys hold; the money guard
    lets this whole-database wipe through (and only it)."""
    with money_guard.suspended(db.session.connection()):
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.flush()


def seed(force: bool = False, rng_seed: int = 2026) -> dict[str, int]:
    """Build the demo property. Raises NotEmpty unless the database is empty or force is set."""
    if not database_is_empty():
        if not force:
            raise NotEmpty("the database is not empty")
        wipe()
    rng = random.Random(rng_seed)
    db.session.add(PropertySettings(**data.PROPERTY))
    users = _staff()
    manager = users["manager"]
    supervisor = users["supervisor"]
    with acting_as(manager):  # the manager set the property up; the audit trail says so
        units, residents = _property(rng)
        items = _price_list(manager, supervisor)
    db.session.flush()
    counts = {"staff": len(users), "units": units, "residents": residents, "items": items}
    counts.update(seed_slips(rng, users))  # 90 days of jobs and a live board today
    return counts


def _staff() -> dict[str, User]:
    users = {}
    for username, name, phone, roles in data.STAFF:
        user = staff.create_user(username, name, secrets.token_urlsafe(12), roles, phone)
        # The demo's one short password is set directly: real accounts must meet the rules.
        user.set_password(DEMO_PASSWORD)
        users[username] = user
    return users


def _property(rng: random.Random) -> tuple[int, int]:
    unit_count = resident_count = 0
    for b in range(1, BUILDINGS + 1):
        building = create_building(str(b), f"{b}栋", floors=18 if b <= 4 else 11)
        entrances = 2 if b <= 4 else 3
        for entrance in range(1, entrances + 1):
            for floor in range(1, building.floors + 1):
                for door in (1, 2):
                    unit = create_unit(building, entrance, f"{floor}{door:02d}",
                                       area_m2=rng.choice((89, 96, 118, 128, 143)), audit=False)
                    unit_count += 1
                    resident_count += _residents(unit, rng)
    record("property.seed", "unit", None, data.PROPERTY["name"], after={"units": unit_count})
    return unit_count, resident_count


def _name(rng: random.Random) -> str:
    return rng.choice(data.SURNAMES) + rng.choice(data.GIVEN)


def _phone(rng: random.Random) -> str:
    return rng.choice(("138", "139", "135", "136", "150", "151", "158", "186", "187", "189")) + \
        f"{rng.randrange(10**8):08d}"


def _residents(unit: Unit, rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.06:
        return 0  # empty flat
    if roll < 0.24:
        kinds = ["tenant"] + (["tenant"] if rng.random() < 0.4 else [])
    else:
        kinds = ["owner"] + (["owner"] if rng.random() < 0.35 else [])
    used = set()
    for kind in kinds:
        name = _name(rng)
        while name in used:
            name = _name(rng)
        used.add(name)
        notes = rng.choice(data.NOTES) if rng.random() < 0.12 else ""
        phone2 = _phone(rng) if rng.random() < 0.2 else ""
        add_resident(unit, name, kind, _phone(rng), phone2, notes, audit=False)
    return len(kinds)


def _price_list(manager: User, supervisor: User) -> int:
    cats = {}
    for sort, (code, zh, en) in enumerate(data.CATEGORIES, start=1):
        cats[code] = Category(code=code, name_zh=zh, name_en=en, sort=sort)
        db.session.add(cats[code])
    db.session.flush()
    # Version 1 has been in force for a year (from the first of the month a year back), approved
    # twelve days before; the rule against past effective dates applies to new approvals, so
    # the history is written directly here.
    effective = list_in_force_since()
    v1 = PriceList(status=ListStatus.APPROVED, number=1, effective_date=effective,
                   created_by=supervisor, approved_by=manager,
                   approved_at=clock.moment(effective - timedelta(days=12), 10),
                   note="依据《有偿服务作业指导书》收费标准")
    for sort, row in enumerate(data.ITEMS, start=1):
        cat, zh, en, unit, lo, hi, workload, free, dept, note = row
        spec = make_price(None if lo is None else parse_yuan(lo),
                          None if hi is None else parse_yuan(hi), by_workload=workload, free=free)
        v1.items.append(PriceItem(category_id=cats[cat].id, code=f"P{sort:03d}", name_zh=zh,
                                  name_en=en, unit=unit, price_min_fen=spec.min_fen,
                                  price_max_fen=spec.max_fen, by_workload=spec.by_workload,
                                  free=spec.free, department=dept, note=note, sort=sort))
    db.session.add(v1)
    db.session.flush()
    record("pricelist.approve", "price_list", v1.id, "v1", actor_id=manager.id,
           after={"number": 1, "effective_date": effective.isoformat(), "items": len(v1.items)})
    # The supervisor's open proposal: a dearer drain clearing and a new cleaning service.
    with acting_as(supervisor):
        _supervisors_draft(supervisor, cats)
    return len(v1.items)


def list_in_force_since() -> date:
    """The demo's price list took effect on the first of the month a year before today."""
    return clock.add_months(clock.local_today(), -12)


def _supervisors_draft(supervisor: User, cats: dict[str, Category]) -> None:
    draft = catalogue.start_draft(supervisor)
    drain = next(i for i in draft.items if i.name_zh == "疏通下水")
    catalogue.update_item(drain, catalogue.ItemInput(
        category_id=drain.category_id, name_zh=drain.name_zh, name_en=drain.name_en,
        unit=drain.unit, price_min_fen=3500, price_max_fen=3500, by_workload=False, free=False,
        department=drain.department, note="人工成本上调"))
    catalogue.add_item(draft, catalogue.ItemInput(
        category_id=cats["cleaning"].id, name_zh="冰箱除味清洁", name_en="Fridge deep clean",
        unit="台", price_min_fen=6000, price_max_fen=9000, by_workload=False, free=False,
        department="housekeeping"))
