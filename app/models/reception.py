"""The reception log (业户接待登记表): every call and visit the desk takes."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models._checks import one_of
from app.models._types import UTCDateTime, utcnow
from app.models.property import Resident, Unit
from app.models.users import User


class Channel(StrEnum):
    PHONE = "phone"
    WALK_IN = "walk_in"
    OTHER = "other"


class ContactKind(StrEnum):
    ENQUIRY = "enquiry"        # 咨询: answered and closed on the spot
    FREE_REPAIR = "free_repair"  # 免费维修: a slip at zero charge
    PAID = "paid"              # 有偿服务: a slip quoted from the price list
    COMPLAINT = "complaint"    # 投诉


CHANNEL_LABELS = {Channel.PHONE: _l("Phone"), Channel.WALK_IN: _l("Walk-in"),
                  Channel.OTHER: _l("Other")}
KIND_LABELS = {ContactKind.ENQUIRY: _l("Enquiry"), ContactKind.FREE_REPAIR: _l("Free repair"),
               ContactKind.PAID: _l("Paid service"), ContactKind.COMPLAINT: _l("Complaint")}


class ReceptionEntry(db.Model):
    __tablename__ = "reception_entries"
    __table_args__ = (one_of("channel", Channel), one_of("kind", ContactKind))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    channel: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(12), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    caller_name: Mapped[str] = mapped_column(String(40), default="")
    caller_phone: Mapped[str] = mapped_column(String(30), default="")
    request: Mapped[str] = mapped_column(Text)           # what they asked, in the clerk's words
    urgent: Mapped[bool] = mapped_column(default=False)
    answer: Mapped[str] = mapped_column(Text, default="")  # how an enquiry was answered
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    taken_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)

    unit: Mapped[Unit | None] = relationship(lazy="joined")
    resident: Mapped[Resident | None] = relationship(lazy="joined")
    taken_by: Mapped[User] = relationship(lazy="joined")
    slips: Mapped[list[Slip]] = relationship(back_populates="reception",  # noqa: F821
                                               order_by="Slip.id")

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None
