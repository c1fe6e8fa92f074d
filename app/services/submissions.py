"""A creating form counts once: the request key it was drawn with is claimed in the same
transaction that makes the record, so a resend gets the first one's record.

A key belongs to one person and one form (its path): the same key sent elsewhere is refused.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.domain.errors import DomainError
from app.extensions import db
from app.models.submissions import Submission
from app.models.users import User
from app.services import races

USED_ELSEWHERE = _l("This form was already sent for something else. Open it again.")


def claim(key: str, path: str, user: User) -> Submission | None:
    """The earlier submission with this key (a resend), or None once this request holds the
    key: then make the record and call `made`. Raises DomainError for a key used elsewhere."""
    path = path[:200]
    user_id = user.id
    mine: list[Submission] = []

    def make() -> Submission:
        sub = Submission(key=key, path=path, user_id=user_id)
        db.session.add(sub)
        mine.append(sub)
        return sub

    sub = races.first_or_make(lambda: db.session.get(Submission, key), make)
    if mine and sub is mine[-1]:
        return None
    if sub.path != path or sub.user_id != user_id:
        raise DomainError(USED_ELSEWHERE)
    return sub


def made(key: str, record) -> None:
    """The record the claimed key made (None: the form made nothing, e.g. nothing was owed)."""
    sub = db.session.get(Submission, key)
    sub.record_id = getattr(record, "id", None)
    db.session.flush()
