"""Signing in and out, switching role and language."""
from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.domain.errors import DomainError
from app.domain.permissions import Perm
from app.extensions import db
from app.forms.auth import ChangePasswordForm, LoginForm
from app.services import staff
from app.web.forms import form_errors_from, form_status, save_form
from app.web.guards import home_url, public, require, safe_next

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """Sign in; five wrong passwords in a row lock the account for a while."""
    if current_user.is_authenticated:
        return redirect(home_url())
    form = LoginForm()
    status = None
    if form.validate_on_submit():
        try:
            user = staff.authenticate(form.username.data, form.password.data,
                                         address=request.remote_addr)
        except DomainError as err:
            db.session.commit()  # the failure counts are kept, though the answer is an error
            form_errors_from(err, form)
            status = 429 if isinstance(err, staff.Throttled) else None
        else:
            locale, chosen = session.get("locale"), session.get("locale_chosen")
            session.clear()  # a fresh session on sign-in: nothing carried over but the language
            if locale:
                session["locale"] = locale
                if chosen:  # picked with the button on this login page: the account keeps it
                    staff.set_locale(user, locale)
            login_user(user)
            session["sid"] = staff.start_session(user, request.remote_addr,
                                                    request.user_agent.string)
            session.permanent = True
            return redirect(safe_next(request.args.get("next")) or home_url())
    return render_template("auth/login.html", form=form), status or form_status(form)


@bp.route("/logout", methods=["POST"])
@require(Perm.SIGNED_IN)
def logout():
    """Sign out and forget the session (the chosen language stays)."""
    locale = session.get("locale")
    staff.end_session(session.get("sid"))
    logout_user()
    session.clear()
    if locale:
        session["locale"] = locale
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/")
@require(Perm.SIGNED_IN)
def index():
    """Everyone lands on the home screen of the role they work as."""
    return redirect(home_url())


@bp.route("/role", methods=["POST"])
@require(Perm.SIGNED_IN)
def switch_role():
    """Work as another of one's own roles."""
    role = request.form.get("role", "")
    if role not in current_user.roles:
        abort(403)
    session["role"] = role
    return redirect(home_url())


@bp.route("/language", methods=["POST"])
@public
def switch_language():
    """Choose Chinese or English; remembered for the account when signed in."""
    locale = request.form.get("locale", "")
    if locale not in current_app.config["LANGUAGES"]:
        abort(400)
    session["locale"] = locale
    session["locale_chosen"] = True  # chosen here, not merely kept from an earlier sign-out
    if current_user.is_authenticated:
        staff.set_locale(current_user, locale)
    return redirect(safe_next(request.form.get("next")) or url_for("auth.index"))


@bp.route("/account/password", methods=["GET", "POST"])
@require(Perm.SIGNED_IN)
def change_password():
    """Change one's own password (other sessions of the account end)."""
    form = ChangePasswordForm()
    user = current_user._get_current_object()  # the real object: login_user on the proxy loops
    saved, _done = save_form(form, lambda: staff.change_own_password(
        user, form.current.data, form.password.data, keep=session.get("sid")))
    if saved:
        login_user(user)  # this session carries the new session version; the others end
        flash(_("Your password has been changed."), "success")
        return redirect(home_url())
    return render_template("auth/password.html", form=form), form_status(form)


@bp.route("/healthz")
@public
def healthz():
    """For the reverse proxy and monitoring: the app answers and the database too."""
    db.session.execute(db.text("SELECT 1"))
    return {"status": "ok"}
