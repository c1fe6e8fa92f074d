"""The price list (有偿服务项目价目表): categories, numbered versions and their items.

A version is a draft until the manager approves it; from then on its items never change,
so a slip that points at an item keeps the price it was quoted with.
"""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.domain.pricing import Department, PriceSpec
from app.extensions import db
from app.models._checks import at_least_zero, one_of, rule
from app.models._types import UTCDateTime, utcnow
from app.models.users import User


class ListStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"


class Category(db.Model):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(60))
    sort: Mapped[int] = mapped_column(default=0)


class PriceList(db.Model):
    __tablename__ = "price_lists"
    __table_args__ = (one_of("status", ListStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int | None] = mapped_column(unique=True)  # 1, 2, 3... once approved
    status: Mapped[str] = mapped_column(String(10), default=ListStatus.DRAFT.value)
    # True on the one open draft, NULL otherwise: the unique constraint lets the database
    # refuse a second draft opened at the same moment by someone else.
    draft_lock: Mapped[bool | None] = mapped_column(unique=True)
    effective_date: Mapped[date | None]
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("price_lists.id"))
    note: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    items: Mapped[list[PriceItem]] = relationship(
        back_populates="price_list", cascade="all, delete-orphan",
        order_by="(PriceItem.sort, PriceItem.id)")
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    based_on: Mapped[PriceList | None] = relationship(remote_side=[id])

    @property
    def is_draft(self) -> bool:
        return self.status == ListStatus.DRAFT


class PriceItem(db.Model):
    __tablename__ = "price_items"
    __table_args__ = (
        UniqueConstraint("price_list_id", "code"),
        UniqueConstraint("price_list_id", "category_id", "name_zh"),
        one_of("department", Department),
        *at_least_zero("price_min_fen", "price_max_fen"),
        rule("price_range", "price_min_fen IS NULL OR price_max_fen IS NULL"
                            " OR price_min_fen <= price_max_fen"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    price_list_id: Mapped[int] = mapped_column(ForeignKey("price_lists.id"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    code: Mapped[str] = mapped_column(String(20))  # the same service keeps its code across versions
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    unit: Mapped[str] = mapped_column(String(10))   # 次, 个, 扇...
    price_min_fen: Mapped[int | None]
    price_max_fen: Mapped[int | None]
    by_workload: Mapped[bool] = mapped_column(default=False)  # 视工程量定价
    free: Mapped[bool] = mapped_column(default=False)         # covered by the management fee
    department: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(String(200), default="")
    sort: Mapped[int] = mapped_column(default=0)

    price_list: Mapped[PriceList] = relationship(back_populates="items")
    category: Mapped[Category] = relationship(lazy="joined")

    @property
    def price(self) -> PriceSpec:
        return PriceSpec(self.price_min_fen, self.price_max_fen,
                         by_workload=self.by_workload, free=self.free)

    def same_terms(self, other: PriceItem) -> bool:
        """True when nothing a resident would notice differs between two versions of an item."""
        fields = ("category_id", "name_zh", "name_en", "unit", "price_min_fen", "price_max_fen",
                  "by_workload", "free", "department", "note")
        return all(getattr(self, f) == getattr(other, f) for f in fields)


class FrozenPriceList(RuntimeError):
    """Raised when code tries to change an approved (frozen) price list or its items."""


@event.listens_for(Session, "before_flush")
def _approved_lists_are_frozen(session: Session, flush_context, instances) -> None:
    """Slips keep pointing at approved items: nothing may change them once approved."""
    def frozen(price_list) -> bool:
        return (price_list is not None and price_list.status == ListStatus.APPROVED
                and price_list not in session.new)

    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        changed = obj in session.new or obj in session.deleted or session.is_modified(obj)
        if not changed:
            continue
        if isinstance(obj, PriceItem) and frozen(obj.price_list):
            raise FrozenPriceList(f"item {obj.code} belongs to approved version "
                                  f"{obj.price_list.number}")
        if isinstance(obj, PriceList) and obj not in session.new and frozen(obj):
            raise FrozenPriceList(f"version {obj.number} is approved")
