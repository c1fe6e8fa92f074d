"""Error pages: friendly, translated, and the session rolled back so nothing half-saved lands."""
from __future__ import annotations

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from app.domain.errors import Conflict, DomainError
from app.extensions import db, htmx

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Go back and try again.")),
    403: (_l("Not allowed"), _l("Your role does not allow this. If you need it, ask the manager.")),
    404: (_l("Not found"), _l("There is nothing at this address.")),
    405: (_l("Wrong kind of request"), _l("This address does not accept that kind of request.")),
    409: (_l("Changed meanwhile"),
          _l("Someone changed this record at the same time. Reload and look again.")),
    413: (_l("Too large"), _l("The file is too large.")),
    422: (_l("Check the form"), _l("Some of what was entered needs correcting.")),
    429: (_l("Too many attempts"), _l("Too many attempts. Wait a little and try again.")),
    500: (_l("Something went wrong"),
          _l("The office system hit an error. Nothing was saved. Try again; if it happens "
             "again, tell the manager.")),
}


def _render(status: int, detail: str | None = None):
    db.session.rollback()
    title, text = MESSAGES.get(status, MESSAGES[500])
    template = "errors/_error.html" if htmx else "errors/error.html"
    return render_template(template, status=status, title=title, text=detail or text), status


def register_error_handlers(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        from flask_babel import gettext as _
        return _render(400, _("The form had expired or was not sent from this site. "
                              "Reload the page and try again."))

    @app.errorhandler(DomainError)
    def broken_rule(exc: DomainError):
        """A rule broken by an action without a form (a button): its message on a 409/422 page."""
        return _render(409 if isinstance(exc, Conflict) else 422, str(exc.message))

    @app.errorhandler(IntegrityError)
    @app.errorhandler(OperationalError)
    def write_clash(exc):
        """Two people saving the same thing at once, outside a form: a plain 409, never a 500."""
        from app.web.forms import is_write_clash
        if not is_write_clash(exc):
            return unexpected(exc)
        return _render(409)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code and exc.code < 400:
            return exc
        return _render(exc.code or 500)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if app.testing and app.config.get("PROPAGATE_TEST_ERRORS", True):
            raise exc
        return _render(500)
