"""Counters shared by every process: running document numbers and the live-change stamp."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models._types import UTCDateTime, utcnow


class NumberSequence(db.Model):
    """The last number issued for a series such as YC202611; a row is locked while it grows."""

    __tablename__ = "number_sequences"

    series: Mapped[str] = mapped_column(String(20), primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class LiveStamp(db.Model):
    """One row whose counter grows with every change that open screens must show.

    Screens wait on it (app.services.live); it is bumped inside the changing transaction, so
    a screen never sees the stamp before the change itself is committed.
    """

    __tablename__ = "live_stamps"

    id: Mapped[int] = mapped_column(primary_key=True)
    counter: Mapped[int] = mapped_column(default=0)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
