"""Two requests at the same moment: the database's unique keys decide, and the one that lost
finds what the other made instead of failing."""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError, OperationalError

from app.domain.errors import Conflict
from app.extensions import db

T = TypeVar("T")
# Enough for a burst: each try waits for the other writer (the database's lock), so a
# request that loses every time has met as many writers finishing the same thing.
ATTEMPTS = 8
BUSY = _l("Someone else saved a change here at the same moment. Check what is shown now "
          "and save again.")


def is_write_clash(exc: Exception) -> bool:
    """A unique key taken, or (SQLite) the database busy with another writer, at this moment."""
    return isinstance(exc, IntegrityError) or (
        isinstance(exc, OperationalError) and "locked" in str(exc.orig).lower())


def first_or_make(find: Callable[[], T | None], make: Callable[[], T]) -> T:
    """What `find` sees, else what `make` adds (it flushes). Call it before the request has
    written anything: when a unique key shows another request made it first, the transaction
    starts over (SQLite's snapshot must be new to see the other's commit) and finds it.
    """
    for _attempt in range(ATTEMPTS):
        found = find()
        if found is not None:
            return found
        # No savepoint: on SQLite one opened before the request's first write would commit
        # on release; nothing has been written yet, so the whole transaction starts over.
        try:
            made = make()
            db.session.flush()
            return made
        except (IntegrityError, OperationalError) as exc:
            if not is_write_clash(exc):
                raise
            db.session.rollback()
    raise Conflict(BUSY)
