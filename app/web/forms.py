"""The one way a view saves a form: validate, call the service, or show the errors (the view's
transaction boundary, `app.web.transaction`, commits when the view succeeds).

`save_form` for a form that changes something; `save_once` for a form that makes a record
(a slip, a contact, a payment...): sent twice with the same request key, it makes one and
answers both with it.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import request
from flask_login import current_user
from sqlalchemy.exc import IntegrityError, OperationalError

from app.domain.errors import DomainError
from app.extensions import db
from app.forms.fields import STALE_FORM
from app.services import submissions
from app.services.races import BUSY as SAVED_MEANWHILE
from app.services.races import is_write_clash

__all__ = ["SAVED_MEANWHILE", "form_errors_from", "form_status", "is_write_clash", "refuse",
           "save_form", "save_once"]


def form_errors_from(error: DomainError, form) -> None:
    """Put a DomainError's message on the form field it names (or the form itself)."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = list(field.errors) + [error.message]
    else:
        form.form_errors.append(error.message)


def refuse(error: DomainError) -> None:
    """A broken rule of an action taken by a button that answers with a redirect: nothing of it
    is saved, and its message is shown on the next page."""
    from flask import flash
    db.session.rollback()
    flash(str(error.message), "error")


def save_form(form, action: Callable[[], Any]) -> tuple[bool, Any]:
    """On a valid submission run `action`: (True, what it returned); committed when the view
    answers.

    A DomainError rolls the whole request back and lands next to its field: (False, None).
    A GET or an invalid submission: (False, None), nothing called.
    """
    if not form.validate_on_submit():
        return False, None
    return _run(form, action)


def save_once(form, model, action: Callable[[], Any]) -> tuple[bool, Any]:
    """`save_form` for a form that makes one `model` record, keyed by the form's request key.

    The first submission with a key runs `action`; a resend (after it, or at the same moment)
    does not run it and gets (True, the first one's record), so the view answers it exactly
    as it answered the first: same slip, same receipt.
    """
    if not form.validate_on_submit():
        return False, None
    key = form.request_key.data
    if not key:  # a page drawn before keys, or a hand-made request
        form.form_errors.append(STALE_FORM)
        return False, None
    try:
        earlier = submissions.claim(key, request.path, current_user)
    except DomainError as err:
        db.session.rollback()
        form_errors_from(err, form)
        return False, None
    if earlier is not None:
        return True, db.session.get(model, earlier.record_id) if earlier.record_id else None

    def make():
        record = action()
        submissions.made(key, record)
        return record
    return _run(form, make)


def _run(form, action: Callable[[], Any]) -> tuple[bool, Any]:
    try:
        result = action()
        db.session.flush()  # a clash with a record saved meanwhile shows here, on the form
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
