"""Property Service Desk: the application factory."""
from __future__ import annotations

import logging

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import Config, instance_secret_key
from app.extensions import babel, csrf, db, htmx, login_manager, migrate


def create_app(config_class: type = Config) -> Flask:
    app = Flask(__name__, template_folder="../templates", static_folder="../static",
                instance_path=str(config_class.INSTANCE_PATH))
    app.config.from_object(config_class)
    from app.web.args import BoundedIntConverter
    app.url_map.converters["int"] = BoundedIntConverter  # before any route is added
    config_class.INSTANCE_PATH.mkdir(parents=True, exist_ok=True)  # the SQLite file lives here
    app.json.ensure_ascii = False  # |tojson in pages (the audit trail) shows 刘芳, not \u5218\u82b3
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(config_class.INSTANCE_PATH)
    if app.config.get("BEHIND_HTTPS"):  # cookies never leave over plain HTTP
        app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True,
                          PREFERRED_URL_SCHEME="https")
    if app.config.get("TRUST_PROXY"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    from app import models  # noqa: F401  (registers every table on the metadata)
    from app.web.i18n import select_locale, select_timezone

    db.init_app(app)
    migrate.init_app(app, db, directory=_migrations_dir())
    csrf.init_app(app)
    htmx.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    _init_login(app)
    _init_sqlite(app)

    from app.web.errors import register_error_handlers
    from app.web.filters import register_filters
    from app.web.security import register_security_headers
    register_error_handlers(app)
    register_filters(app)
    register_security_headers(app)
    _register_template_globals(app)
    _register_blueprints(app)

    from app.cli import register_cli
    register_cli(app)

    from app.web.guards import check_every_view_is_guarded
    check_every_view_is_guarded(app)
    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO)
    # WeasyPrint reports every step of every document at INFO: keep the server log readable.
    for noisy in ("weasyprint", "weasyprint.progress", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return app


def _migrations_dir() -> str:
    from pathlib import Path
    return str(Path(__file__).resolve().parent.parent / "migrations")


def _init_login(app: Flask) -> None:
    from flask import session
    from flask_babel import lazy_gettext as _l

    from app.models.users import User
    from app.services import staff
    from app.web.guards import unauthorized_response

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str):
        uid, _, version = user_id.partition(":")
        if not uid.isdigit():
            return None
        user = db.session.get(User, int(uid))
        if user is None or str(user.session_version) != version:
            return None
        if not staff.session_is_open(session.get("sid"), user.id):
            return None  # signed out (a copied cookie too), or ended by a password change
        return user

    login_manager.unauthorized_handler(unauthorized_response)


def _init_sqlite(app: Flask) -> None:
    """WAL and foreign keys for SQLite, the embedded default."""
    from sqlalchemy import event

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return

    def _pragmas(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=5000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    with app.app_context():
        event.listen(db.engine, "connect", _pragmas)


def _register_template_globals(app: Flask) -> None:
    from flask_babel import get_locale
    from flask_wtf.csrf import generate_csrf

    from app.domain.permissions import Perm
    from app.domain.roles import ROLE_LABELS
    from app.domain.slip_states import needs_note
    from app.services.settings import property_settings
    from app.services.slips import action_label as slip_action_label
    from app.services.slips import state_label
    from app.web.audit_labels import action_label, change_rows, entity_label
    from app.web.guards import active_role, can, home_url
    from app.web.nav import nav_items

    app.jinja_env.globals.update(can=can, Perm=Perm, active_role=active_role,
                                 home_url=home_url, csrf_token=generate_csrf,
                                 property_settings=property_settings, nav_items=nav_items,
                                 role_labels=ROLE_LABELS,
                                 current_locale=lambda: str(get_locale()),
                                 action_label=action_label, entity_label=entity_label,
                                 change_rows=change_rows, state_label=state_label,
                                 slip_action_label=slip_action_label, needs_note=needs_note)


def _register_blueprints(app: Flask) -> None:
    from app.views import (
        auth,
        cashier,
        catalogue,
        desk,
        field,
        live,
        manage,
        papers,
        property,
        slips,
        supervise,
    )

    for module in (auth, desk, supervise, field, cashier, manage, property, catalogue, slips,
                   live, papers):
        app.register_blueprint(module.bp)
    from app.web.transaction import wrap_views
    wrap_views(app)  # after every route is known
