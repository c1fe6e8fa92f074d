"""Creating forms sent once: the request key a form was drawn with, and what it made."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models._types import UTCDateTime, utcnow


class Submission(db.Model):
    """One creating form as sent, by its request key. Claimed in the transaction that makes
    the record, so a resend (a double click, a phone retrying after a lost answer, twenty
    at once) finds the first one's record instead of making another."""

    __tablename__ = "form_submissions"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    path: Mapped[str] = mapped_column(String(200))   # where it was sent: a key serves one form
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    record_id: Mapped[int | None]
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
