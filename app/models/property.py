"""The property: buildings, units (房号) and the residents who live in them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.addresses import unit_key, unit_label
from app.domain.residents import ResidentKind
from app.extensions import db
from app.models._checks import one_of
from app.models._types import UTCDateTime, utcnow


class Building(db.Model):
    __tablename__ = "buildings"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)  # "3" for 3栋
    name: Mapped[str] = mapped_column(String(40))                # display name, e.g. "3栋"
    floors: Mapped[int | None]
    note: Mapped[str] = mapped_column(String(200), default="")

    units: Mapped[list[Unit]] = relationship(back_populates="building",
                                             order_by="Unit.search_key")


class Unit(db.Model):
    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("building_id", "entrance", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"), index=True)
    entrance: Mapped[int | None]                         # 单元; None where a building has one
    number: Mapped[str] = mapped_column(String(10))      # "1502"
    label: Mapped[str] = mapped_column(String(40))       # "3栋2单元1502"
    search_key: Mapped[str] = mapped_column(String(30), unique=True)  # "3-2-1502"
    area_m2: Mapped[int | None]
    note: Mapped[str] = mapped_column(String(200), default="")

    building: Mapped[Building] = relationship(back_populates="units")
    residents: Mapped[list[Resident]] = relationship(
        back_populates="unit", order_by="Resident.id")

    def relabel(self) -> None:
        """Recompute the derived label and key after building, entrance or number change."""
        self.label = unit_label(self.building.code, self.entrance, self.number)
        self.search_key = unit_key(self.building.code, self.entrance, self.number)

    @property
    def current_residents(self) -> list[Resident]:
        return [r for r in self.residents if r.active]


class Resident(db.Model):
    __tablename__ = "residents"
    __table_args__ = (one_of("kind", ResidentKind),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    name: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(10), default=ResidentKind.OWNER.value)
    phone: Mapped[str] = mapped_column(String(30), default="", index=True)
    phone2: Mapped[str] = mapped_column(String(30), default="")
    notes: Mapped[str] = mapped_column(Text, default="")  # pets, health, access...
    active: Mapped[bool] = mapped_column(default=True)    # False once moved out; history stays
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    unit: Mapped[Unit] = relationship(back_populates="residents")
