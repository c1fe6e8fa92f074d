"""The price list: drafting changes, the manager's approval into a frozen numbered version."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from app.domain.errors import Conflict, DomainError
from app.domain.pricing import UNITS_OF_CHARGE, Department, make_price
from app.extensions import db
from app.models.catalogue import Category, ListStatus, PriceItem, PriceList
from app.models.users import User
from app.services import clock
from app.services.audit import changes, record, snapshot

ITEM_FIELDS = ("code", "category_id", "name_zh", "name_en", "unit", "price_min_fen",
               "price_max_fen", "by_workload", "free", "department", "note")


def in_force(on: date | None = None) -> PriceList | None:
    """The approved version in force on a day (today by default): the newest already effective."""
    on = on or clock.local_today()
    return db.session.scalar(
        select(PriceList).where(PriceList.status == ListStatus.APPROVED,
                                PriceList.effective_date <= on)
        .order_by(PriceList.effective_date.desc(), PriceList.number.desc()).limit(1)
        .options(selectinload(PriceList.items)))


def current_draft() -> PriceList | None:
    return db.session.scalar(select(PriceList).where(PriceList.status == ListStatus.DRAFT))


def versions() -> list[PriceList]:
    return list(db.session.scalars(
        select(PriceList).where(PriceList.status == ListStatus.APPROVED)
        .order_by(PriceList.number.desc())))


def latest_approved() -> PriceList | None:
    return db.session.scalar(select(PriceList).where(PriceList.status == ListStatus.APPROVED)
                             .order_by(PriceList.number.desc()).limit(1))


def start_draft(actor: User) -> PriceList:
    """Open the one draft, copied from the newest approved version. Raises if one is open."""
    if current_draft() is not None:
        raise Conflict(_l("A draft is already open; continue that one.")) from None
    base = latest_approved()
    draft = PriceList(status=ListStatus.DRAFT, draft_lock=True, created_by=actor, based_on=base)
    if base is not None:
        draft.items = [PriceItem(**{f: getattr(it, f) for f in ITEM_FIELDS}, sort=it.sort)
                       for it in base.items]
    db.session.add(draft)
    try:
        db.session.flush()
    except IntegrityError:  # someone opened one at the same moment; the database kept theirs
        db.session.rollback()
        raise Conflict(_l("A draft is already open; continue that one.")) from None
    record("pricelist.draft", "price_list", draft.id, f"v{base.number}" if base else "",
           after={"based_on": base.number if base else None}, actor_id=actor.id)
    return draft


def _require_draft(price_list: PriceList) -> None:
    """The list must still be a draft in the database, not only in this request's copy.

    The conditional UPDATE also locks the draft's row, so a change and an approval made at
    the same moment run one after the other: an item is never changed after approval.
    """
    if not price_list.is_draft:
        raise DomainError(_l("An approved price list is frozen; open a draft to change it."))
    still = db.session.execute(
        PriceList.__table__.update()
        .where(PriceList.id == price_list.id, PriceList.status == ListStatus.DRAFT)
        .values(status=ListStatus.DRAFT.value))
    if still.rowcount != 1:
        raise Conflict(_l("This draft was approved or discarded meanwhile.")) from None


@dataclass
class ItemInput:
    category_id: int
    name_zh: str
    name_en: str
    unit: str
    price_min_fen: int | None
    price_max_fen: int | None
    by_workload: bool
    free: bool
    department: str
    note: str = ""


def _apply(item: PriceItem, data: ItemInput, draft: PriceList) -> None:
    if db.session.get(Category, data.category_id) is None:
        raise DomainError(_l("Choose a category."), "category_id")
    name_zh = data.name_zh.strip()
    if not name_zh:
        raise DomainError(_l("Enter the item's Chinese name."), "name_zh")
    if data.unit not in UNITS_OF_CHARGE:
        raise DomainError(_l("Choose a unit of charge."), "unit")
    if data.department not in {d.value for d in Department}:
        raise DomainError(_l("Choose a department."), "department")
    clash = next((it for it in draft.items if it is not item and it.category_id == data.category_id
                  and it.name_zh == name_zh), None)
    if clash is not None:
        raise DomainError(_l("This category already has an item with this name."), "name_zh")
    spec = make_price(data.price_min_fen, data.price_max_fen, by_workload=data.by_workload,
                      free=data.free)
    item.category_id = data.category_id
    item.name_zh = name_zh
    item.name_en = data.name_en.strip()
    item.unit = data.unit
    item.price_min_fen, item.price_max_fen = spec.min_fen, spec.max_fen
    item.by_workload, item.free = spec.by_workload, spec.free
    item.department = data.department
    item.note = data.note.strip()


def add_item(draft: PriceList, data: ItemInput) -> PriceItem:
    """Add an item to the draft. Raises DomainError on the field at fault."""
    _require_draft(draft)
    item = PriceItem(code=_next_code(), sort=max((it.sort for it in draft.items), default=0) + 1)
    _apply(item, data, draft)
    draft.items.append(item)
    db.session.flush()
    record("pricelist.item_add", "price_list", draft.id, f"{item.code} {item.name_zh}",
           after=snapshot(item, ITEM_FIELDS))
    return item


def update_item(item: PriceItem, data: ItemInput) -> PriceItem:
    """Change a draft item. Raises DomainError on the field at fault."""
    _require_draft(item.price_list)
    before = snapshot(item, ITEM_FIELDS)
    _apply(item, data, item.price_list)
    db.session.flush()
    b, a = changes(before, snapshot(item, ITEM_FIELDS))
    record("pricelist.item_update", "price_list", item.price_list_id,
           f"{item.code} {item.name_zh}", before=b, after=a)
    return item


def remove_item(item: PriceItem) -> None:
    """Take an item out of the draft (earlier versions keep it)."""
    draft = item.price_list
    _require_draft(draft)
    record("pricelist.item_remove", "price_list", draft.id, f"{item.code} {item.name_zh}",
           before=snapshot(item, ITEM_FIELDS))
    draft.items.remove(item)
    db.session.flush()


def _next_code() -> str:
    """Item codes run P001, P002... across all versions, so a new service never takes an old
    code."""
    codes = db.session.scalars(select(PriceItem.code).where(PriceItem.code.like("P%"))).all()
    numbers = [int(c[1:]) for c in codes if c[1:].isdigit()]
    return f"P{max(numbers, default=0) + 1:03d}"


def approve(draft: PriceList, effective: date, actor: User, note: str = "") -> PriceList:
    """Freeze the draft as the next numbered version, in force from `effective`."""
    _require_draft(draft)
    if not draft.items:
        raise DomainError(_l("An empty price list cannot be approved."))
    if effective < clock.local_today():
        raise DomainError(_l("The effective date cannot be in the past."), "effective_date")
    latest = latest_approved()
    if latest is not None and latest.effective_date and effective < latest.effective_date:
        raise DomainError(_l("The effective date must not be before that of version %(num)d.",
                             num=latest.number), "effective_date")
    # The status guard in the UPDATE makes a second, concurrent approval fail cleanly.
    number = (db.session.scalar(select(func.max(PriceList.number))) or 0) + 1
    try:
        done = db.session.execute(
            PriceList.__table__.update()
            .where(PriceList.id == draft.id, PriceList.status == ListStatus.DRAFT)
            .values(status=ListStatus.APPROVED.value, draft_lock=None, number=number,
                    effective_date=effective, approved_by_id=actor.id,
                    approved_at=clock.now(), note=note.strip()[:500]))
    except IntegrityError:  # another approval took this number at the same moment
        db.session.rollback()
        raise Conflict(_l("This draft was approved or discarded meanwhile.")) from None
    if done.rowcount != 1:
        raise Conflict(_l("This draft was approved or discarded meanwhile."))
    db.session.refresh(draft)
    record("pricelist.approve", "price_list", draft.id, f"v{number}",
           after={"number": number, "effective_date": effective.isoformat(),
                  "items": len(draft.items)}, actor_id=actor.id)
    return draft


def discard_draft(draft: PriceList) -> None:
    """Throw the open draft away."""
    _require_draft(draft)
    record("pricelist.discard", "price_list", draft.id, "")
    db.session.delete(draft)
    db.session.flush()


@dataclass
class Change:
    kind: str  # "added", "changed", "removed"
    item: PriceItem
    old: PriceItem | None = None


def diff(draft: PriceList, base: PriceList | None) -> list[Change]:
    """What the draft changes against the version it came from, for the approver to read."""
    old = {it.code: it for it in base.items} if base else {}
    new = {it.code: it for it in draft.items}
    out = []
    for code, item in new.items():
        if code not in old:
            out.append(Change("added", item))
        elif not item.same_terms(old[code]):
            out.append(Change("changed", item, old[code]))
    out += [Change("removed", it) for code, it in old.items() if code not in new]
    return out


def categories() -> list[Category]:
    return list(db.session.scalars(select(Category).order_by(Category.sort, Category.id)))


def add_category(code: str, name_zh: str, name_en: str) -> Category:
    """A new category of the price list. Raises DomainError for a taken code or empty name."""
    code = code.strip().lower()
    if not code or not code.replace("_", "").isalnum():
        raise DomainError(_l("Lower-case letters, digits and _ only."), "code")
    if db.session.scalar(select(Category.id).where(Category.code == code)):
        raise DomainError(_l("This code is already used."), "code")
    if not name_zh.strip():
        raise DomainError(_l("Enter the Chinese name."), "name_zh")
    sort = (db.session.scalar(select(func.max(Category.sort))) or 0) + 1
    cat = Category(code=code, name_zh=name_zh.strip(), name_en=name_en.strip(), sort=sort)
    db.session.add(cat)
    db.session.flush()
    record("category.create", "category", cat.id, cat.name_zh)
    return cat


def grouped(price_list: PriceList) -> list[tuple[Category, list[PriceItem]]]:
    """Items grouped under their categories, in the list's order."""
    groups: dict[int, tuple[Category, list[PriceItem]]] = {}
    for item in sorted(price_list.items, key=lambda i: (i.category.sort, i.sort, i.id)):
        groups.setdefault(item.category_id, (item.category, []))[1].append(item)
    return list(groups.values())


def get_list(price_list_id: int) -> PriceList | None:
    return db.session.get(PriceList, price_list_id)


def search_items(price_list: PriceList, text: str, limit: int = 20) -> list[PriceItem]:
    """Items whose Chinese or English name contains `text` (for quoting at the desk)."""
    text = text.strip().lower()
    items = price_list.items
    if text:
        items = [i for i in items if text in i.name_zh.lower() or text in i.name_en.lower()
                 or text in i.category.name_zh or text in i.category.name_en.lower()]
    return items[:limit]


def version(number: int) -> PriceList | None:
    """The price list with this version number (any status), or None."""
    return db.session.scalar(select(PriceList).where(PriceList.number == number))


def approved_versions() -> tuple[list[PriceList], dict[int, int]]:
    """Every approved version, newest first, with its approver; and each one's item count
    (two queries)."""
    found = db.session.scalars(
        select(PriceList).where(PriceList.status == ListStatus.APPROVED)
        .order_by(PriceList.number.desc()).options(joinedload(PriceList.approved_by))).all()
    counts = dict(db.session.execute(
        select(PriceItem.price_list_id, func.count(PriceItem.id))
        .where(PriceItem.price_list_id.in_([v.id for v in found]))
        .group_by(PriceItem.price_list_id)).all())
    return list(found), counts
