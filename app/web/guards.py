"""Role guards. Every view declares its permission here; create_app refuses a view that does not."""
from __future__ import annotations

from functools import wraps

from flask import abort, current_app, redirect, request, session, url_for
from flask_login import current_user

from app.domain.permissions import Perm, allowed
from app.domain.roles import Role

PUBLIC = "public"


def require(perm: Perm):
    """Decorate a view: anonymous users go to the login page, other roles get 403."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if not allowed(current_user.roles, perm):
                abort(403)
            return view(*args, **kwargs)

        wrapper.required_perm = perm
        return wrapper

    return decorate


def public(view):
    """Mark a view as open to anyone (login page, language switch, health check)."""
    view.required_perm = PUBLIC
    return view


def can(perm: Perm | str) -> bool:
    """For templates and views: may the signed-in person do this?"""
    return current_user.is_authenticated and allowed(current_user.roles, Perm(perm))


def active_role() -> str | None:
    """The role the person is working as now (chosen with the role switcher)."""
    if not current_user.is_authenticated or not current_user.roles:
        return None
    chosen = session.get("role")
    return chosen if chosen in current_user.roles else current_user.roles[0]


HOME_ENDPOINTS = {
    Role.CLERK: "desk.home",
    Role.SUPERVISOR: "supervise.home",
    Role.WORKER: "field.home",
    Role.CASHIER: "cashier.home",
    Role.MANAGER: "manage.home",
}


def home_url() -> str:
    role = active_role()
    return url_for(HOME_ENDPOINTS[Role(role)]) if role else url_for("auth.login")


def check_every_view_is_guarded(app) -> None:
    """Fail at start-up when a route forgot to declare who may use it."""
    missing = [ep for ep, fn in app.view_functions.items()
               if ep != "static" and not hasattr(fn, "required_perm")]
    if missing:
        raise RuntimeError(f"views without a permission: {', '.join(sorted(missing))}")


def unauthorized_response():
    """Anonymous (or expired) request: a full-page redirect to the login page, also for htmx."""
    from app.extensions import htmx  # local: keeps guards importable without an app
    target = request.headers.get("HX-Current-URL") if htmx else request.full_path
    login = url_for("auth.login", next=_local_path(target))
    if htmx:
        resp = current_app.response_class(status=401)
        resp.headers["HX-Redirect"] = login
        return resp
    return redirect(login)


def _local_path(url: str | None) -> str | None:
    """Keep only the path of a URL so `next` can never point at another site."""
    if not url:
        return None
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//"):
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def safe_next(url: str | None) -> str | None:
    """A `next` parameter that stays on this site, else None.

    Browsers drop tabs and newlines from a Location ("/\t/evil" becomes "//evil"), and a
    newline cannot go into a header at all: any control character or space refuses the URL.
    """
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return None
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return None
    return url
