"""The one way a view saves a form: validate, call the service, commit, or show the errors."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError, OperationalError

from app.domain.errors import DomainError
from app.extensions import db

SAVED_MEANWHILE = _l("Someone else saved a change here at the same moment. "
                     "Check what is shown now and save again.")


def is_write_clash(exc: Exception) -> bool:
    """A unique key taken, or (SQLite) the database busy with another writer, at this moment."""
    return isinstance(exc, IntegrityError) or (
        isinstance(exc, OperationalError) and "locked" in str(exc.orig).lower())


def form_errors_from(error: DomainError, form) -> None:
    """Put a DomainError's message on the form field it names (or the form itself)."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = list(field.errors) + [error.message]
    else:
        form.form_errors.append(error.message)


def save_form(form, action: Callable[[], Any]) -> tuple[bool, Any]:
    """On a valid submission run `action` and commit: (True, what it returned).

    A DomainError rolls the whole request back and lands next to its field: (False, None).
    A GET or an invalid submission: (False, None), nothing called.
    """
    if not form.validate_on_submit():
        return False, None
    try:
        result = action()
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        form_errors_from(err, form)
        return False, None
    except (IntegrityError, OperationalError) as exc:
        # The services check first; a clash left over is a race the database settled.
        if not is_write_clash(exc):
            raise
        db.session.rollback()
        form.form_errors.append(SAVED_MEANWHILE)
        return False, None
    return True, result


def form_status(*forms) -> int:
    """422 when any form carries errors (htmx swaps it; browsers show it), else 200."""
    return 422 if any(f.errors or f.form_errors for f in forms) else 200
