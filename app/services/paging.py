"""Lists shown a page at a time, newest first."""
from __future__ import annotations

from app.extensions import db


def one_page(query, page: int, per_page: int) -> tuple[list, bool]:
    """The rows of page `page` (from 1) and whether more follow: one query, one row extra."""
    rows = db.session.scalars(
        query.offset((page - 1) * per_page).limit(per_page + 1)).unique().all()
    return list(rows[:per_page]), len(rows) > per_page
