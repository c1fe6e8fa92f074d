"""The service slip (有偿服务单): the work order, its lines, its history and its photos."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.pricing import PriceSpec
from app.domain.settlement import PayRoute
from app.domain.slip_states import State
from app.extensions import db
from app.models._checks import at_least_zero, one_of
from app.models._types import UTCDateTime, utcnow
from app.models.catalogue import PriceItem, PriceList
from app.models.property import Resident, Unit
from app.models.reception import ReceptionEntry
from app.models.users import User


class PhotoKind(StrEnum):
    BEFORE = "before"
    AFTER = "after"
    DAMAGE = "damage"


class Slip(db.Model):
    __tablename__ = "slips"
    __table_args__ = (
        Index("ix_slips_state_urgent", "state", "urgent"),
        Index("ix_slips_worker_state", "worker_id", "state"),
        one_of("state", State), one_of("pay_route", PayRoute),
        *at_least_zero("quoted_total_fen", "agreed_total_fen", "purchase_fen",
                       "purchase_spent_fen", "nobody_home_count"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # YC202611-0001
    state: Mapped[str] = mapped_column(String(20), default=State.REGISTERED.value)
    # Grows with every change; a form carries the version it was drawn from, so an action on
    # a slip that has moved on since is refused instead of applied to something else.
    version: Mapped[int] = mapped_column(default=1)
    reception_id: Mapped[int | None] = mapped_column(ForeignKey("reception_entries.id"),
                                                     index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    contact_name: Mapped[str] = mapped_column(String(40), default="")
    contact_phone: Mapped[str] = mapped_column(String(30), default="")
    request: Mapped[str] = mapped_column(Text, default="")       # the job in words
    notes: Mapped[str] = mapped_column(Text, default="")         # pets, fragile items, health
    urgent: Mapped[bool] = mapped_column(default=False)
    free: Mapped[bool] = mapped_column(default=False)            # covered by the management fee
    window_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    price_list_id: Mapped[int | None] = mapped_column(ForeignKey("price_lists.id"))
    quoted_total_fen: Mapped[int] = mapped_column(default=0)
    agreed_total_fen: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    received_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    dispatched_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The SLA clock: when the worker must reach the door; paused while the resident is away.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paused_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    nobody_home_count: Mapped[int] = mapped_column(default=0)
    damage_note: Mapped[str] = mapped_column(Text, default="")   # found before work started
    materials: Mapped[str] = mapped_column(Text, default="")     # used, as the worker wrote them
    acceptance_name: Mapped[str] = mapped_column(String(40), default="")
    signature_file: Mapped[str] = mapped_column(String(120), default="")  # under instance/
    satisfied: Mapped[bool | None]
    acceptance_remarks: Mapped[str] = mapped_column(Text, default="")
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    handed_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str] = mapped_column(String(300), default="")
    # Why the resident said no at the door (住户拒绝), as the worker recorded it.
    refusal_reason: Mapped[str] = mapped_column(String(300), default="")
    # A fee waived by a supervisor (减免: covered by the management fee after all, or a dispute
    # settled in the resident's favour): what it was, who, when and why. Nothing is owed since.
    waived_fen: Mapped[int | None]
    waived_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    waived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    waiver_reason: Mapped[str] = mapped_column(String(300), default="")
    # Who pays (PayRoute): follows the resident's kind when opened; the
    # resident may choose otherwise when signing at completion.
    pay_route: Mapped[str] = mapped_column(String(12), default="pay_now",
                                           server_default="pay_now")
    # An errand (代办): prepaid before the worker goes out, fee plus the purchase money;
    # what the purchases really cost is recorded at completion and reconciled at the cashier.
    errand: Mapped[bool] = mapped_column(default=False, server_default=false())
    purchase_fen: Mapped[int] = mapped_column(default=0, server_default="0")
    purchase_spent_fen: Mapped[int | None]
    # A follow-up slip (unfinished work done as a new job) names the slip it follows.
    follows_id: Mapped[int | None] = mapped_column(ForeignKey("slips.id"), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    # Every UPDATE says "WHERE version = what I read": of two people changing the slip at the
    # same moment, the second changes nothing and is told (StaleDataError -> Conflict).
    __mapper_args__ = {"version_id_col": version}

    unit: Mapped[Unit] = relationship(lazy="joined")
    resident: Mapped[Resident | None] = relationship(lazy="joined")
    reception: Mapped[ReceptionEntry | None] = relationship(back_populates="slips")
    price_list: Mapped[PriceList | None] = relationship()
    received_by: Mapped[User] = relationship(foreign_keys=[received_by_id])
    dispatched_by: Mapped[User | None] = relationship(foreign_keys=[dispatched_by_id])
    worker: Mapped[User | None] = relationship(foreign_keys=[worker_id], lazy="joined")
    waived_by: Mapped[User | None] = relationship(foreign_keys=[waived_by_id])
    follows: Mapped[Slip | None] = relationship(remote_side="Slip.id",
                                                foreign_keys=[follows_id])
    lines: Mapped[list[SlipLine]] = relationship(
        back_populates="slip", cascade="all, delete-orphan", order_by="SlipLine.id",
        lazy="selectin")
    events: Mapped[list[SlipEvent]] = relationship(
        back_populates="slip", cascade="all, delete-orphan", order_by="SlipEvent.id")
    photos: Mapped[list[SlipPhoto]] = relationship(
        back_populates="slip", cascade="all, delete-orphan", order_by="SlipPhoto.id")
    # A two-person job: the assigned worker leads; these help (each sees it on the phone).
    helpers: Mapped[list[SlipHelper]] = relationship(
        back_populates="slip", cascade="all, delete-orphan", order_by="SlipHelper.id")

    @property
    def total_fen(self) -> int:
        """What the resident pays: the agreed total once the fee is confirmed, else the quote;
        nothing once a supervisor waived the fee."""
        if self.waived_at is not None:
            return 0
        return self.agreed_total_fen if self.agreed_total_fen is not None else self.quoted_total_fen

    @property
    def needs_approval(self) -> bool:
        return any(line.needs_approval for line in self.lines)


class SlipLine(db.Model):
    """One priced item: copied from the approved list when quoted, so later lists never alter it."""

    __tablename__ = "slip_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        *at_least_zero("unit_price_fen", "final_price_fen", "list_min_fen", "list_max_fen"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slip_id: Mapped[int] = mapped_column(ForeignKey("slips.id"), index=True)
    price_item_id: Mapped[int | None] = mapped_column(ForeignKey("price_items.id"))
    code: Mapped[str] = mapped_column(String(20), default="")
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    unit: Mapped[str] = mapped_column(String(10))
    quantity: Mapped[int] = mapped_column(default=1)
    # The list's terms at quoting time (None, None: priced by workload without a guide).
    list_min_fen: Mapped[int | None]
    list_max_fen: Mapped[int | None]
    by_workload: Mapped[bool] = mapped_column(default=False)
    free: Mapped[bool] = mapped_column(default=False)
    unit_price_fen: Mapped[int] = mapped_column(default=0)   # quoted at the desk
    final_price_fen: Mapped[int | None]                       # agreed at the door
    # Set while a price outside the list waits on the supervisor; cleared by approval.
    needs_approval: Mapped[bool] = mapped_column(default=False)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    slip: Mapped[Slip] = relationship(back_populates="lines")
    price_item: Mapped[PriceItem | None] = relationship()
    approved_by: Mapped[User | None] = relationship()

    @property
    def spec(self) -> PriceSpec:
        return PriceSpec(self.list_min_fen, self.list_max_fen, by_workload=self.by_workload,
                         free=self.free)

    @property
    def price_fen(self) -> int:
        return self.final_price_fen if self.final_price_fen is not None else self.unit_price_fen

    @property
    def amount_fen(self) -> int:
        return self.price_fen * self.quantity


class SlipEvent(db.Model):
    """One step of a slip's history: who, when, from, to, and a note. Never changed."""

    __tablename__ = "slip_events"
    __table_args__ = (one_of("from_state", State), one_of("to_state", State))

    id: Mapped[int] = mapped_column(primary_key=True)
    slip_id: Mapped[int] = mapped_column(ForeignKey("slips.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict | None] = mapped_column(JSON)
    # A phone's own id for the tap that caused this step: a resend after a lost connection
    # finds it and is not applied twice.
    request_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    slip: Mapped[Slip] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship(lazy="joined")


class SlipHelper(db.Model):
    """A worker helping the lead on a slip (两人作业), added by a supervisor; the timeline keeps
    who was added and taken off, and when."""

    __tablename__ = "slip_helpers"
    __table_args__ = (UniqueConstraint("slip_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slip_id: Mapped[int] = mapped_column(ForeignKey("slips.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    added_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    slip: Mapped[Slip] = relationship(back_populates="helpers")
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")


class SlipPhoto(db.Model):
    """A before/after or damage photo, stored under instance/photos/ with its metadata removed."""

    __tablename__ = "slip_photos"
    __table_args__ = (one_of("kind", PhotoKind), *at_least_zero("size"))

    id: Mapped[int] = mapped_column(primary_key=True)
    slip_id: Mapped[int] = mapped_column(ForeignKey("slips.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))      # before, after, damage
    file: Mapped[str] = mapped_column(String(120))     # relative to instance/
    content_type: Mapped[str] = mapped_column(String(30))
    size: Mapped[int]
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    slip: Mapped[Slip] = relationship(back_populates="photos")
