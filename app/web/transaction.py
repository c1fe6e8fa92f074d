"""The one transaction boundary of the web app: a request's changes are committed once, when
its view succeeds, and rolled back otherwise.

Every view is wrapped (`wrap_views`, called by the app factory), so no view commits by
itself. A view that answers below 400 is committed; 4xx/5xx answers are rolled back. A
DomainError (422, or 409 for a Conflict), a write clash (409) and any other exception reach
the error handlers of `app.web.errors`, which roll back and draw the page. Services only
flush. A form's broken rule is rolled back by `app.web.forms.save_form` and drawn next to its
field with 422.

The one exception, in `app.views.auth`: a failed sign-in commits its failure count before it
answers, since that count is the point of the request.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Flask, current_app

from app.extensions import db


def one_transaction(view: Callable) -> Callable:
    @wraps(view)
    def run(*args, **kwargs):
        response = current_app.make_response(view(*args, **kwargs))
        if response.status_code < 400:
            db.session.commit()  # a write clash here goes to its error handler: 409
        else:
            db.session.rollback()
        return response
    return run


def wrap_views(app: Flask) -> None:
    """Put every view of the app (not the static files) inside the boundary."""
    for endpoint, view in list(app.view_functions.items()):
        if endpoint != "static":
            app.view_functions[endpoint] = one_transaction(view)
