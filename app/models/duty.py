"""Who answers the night: the supervisor on duty until a time (值班主管). A row per turn, kept."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models._types import UTCDateTime, utcnow
from app.models.users import User


class NightDuty(db.Model):
    __tablename__ = "night_duties"
    __table_args__ = (CheckConstraint("ends_at >= starts_at", name="duty_ends_not_before_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    set_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    supervisor: Mapped[User] = relationship(foreign_keys=[supervisor_id])
    set_by: Mapped[User] = relationship(foreign_keys=[set_by_id])
