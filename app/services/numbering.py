"""Running document numbers (YC202611-0001): unique, consecutive within a month, never reused."""
from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models.counters import NumberSequence


def next_in_series(series: str) -> int:
    """Take the next number of a series inside the caller's transaction.

    The UPDATE locks the series' row until the caller commits, so two requests at the same
    moment get consecutive numbers; a rolled-back request gives its number back, which keeps
    the series free of unexplained gaps.
    """
    bump = (update(NumberSequence).where(NumberSequence.series == series)
            .values(last=NumberSequence.last + 1).returning(NumberSequence.last))
    taken = db.session.scalar(bump)
    if taken is not None:
        return taken
    try:
        with db.session.begin_nested():  # the month's first number: create its row
            db.session.add(NumberSequence(series=series, last=1))
        return 1
    except IntegrityError:  # another request created it at the same moment
        return db.session.scalar(bump)


def slip_number(month: str) -> str:
    """The next slip number for a month given as YYYYMM."""
    series = f"YC{month}"
    return f"{series}-{next_in_series(series):04d}"
