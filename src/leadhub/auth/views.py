"""Sign-in, account, API keys, and user management pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import login_user, logout_user

from leadhub import forms
from leadhub.auth import service
from leadhub.auth.models import LANGUAGES, Role
from leadhub.auth.permissions import ALL_ROLES, acting_user, public, role_required
from leadhub.auth.schemas import PasswordChange, Preferences, UserCreate, UserUpdate
from leadhub.distributors import service as distributors
from leadhub.errors import DomainError
from leadhub.extensions import db, limiter

bp = Blueprint("auth", __name__)

ADMINS = (Role.SUPERADMIN, Role.ADMIN)
TIMEZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))


def _login_failed(response: Any) -> bool:
    return response.status_code != 302


def _account_key() -> str:
    return "account:" + service.normalize_email(request.form.get("email", ""))


def _throttle() -> str:
    return current_app.config["LOGIN_THROTTLE"]


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.netloc and not parts.scheme:
            return target
    return url_for("leads.index")


def _throttled(_limit: Any) -> Any:
    message = _("Too many failed sign-in attempts. Wait 15 minutes and try again.")
    page = render_template("auth/login.html", error=message, email=request.form.get("email"))
    return make_response(page, 429)


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(
    _throttle,
    key_func=get_remote_address,
    methods=["POST"],
    deduct_when=_login_failed,
    on_breach=_throttled,
    scope="login-ip",
)
@limiter.limit(
    _throttle,
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_login_failed,
    on_breach=_throttled,
    scope="login-account",
)
def login() -> Any:
    if request.method == "GET":
        return render_template("auth/login.html", next=request.args.get("next"))
    user = service.authenticate(
        db.session, email=request.form.get("email", ""), password=request.form.get("password", "")
    )
    if user is None:
        db.session.rollback()
        error = _("The email or password is not right.")
        return render_template(
            "auth/login.html",
            error=error,
            email=request.form.get("email"),
            next=request.form.get("next"),
        ), 401
    language = session.get("language")
    if language in LANGUAGES and language != user.language:
        # the language picked on the sign-in page is the one this person wants
        service.set_language(db.session, user=user, language=language)
    db.session.commit()
    session.clear()  # a new session at sign-in: nothing from before carries over
    login_user(user)
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
@role_required(*ALL_ROLES)
def logout() -> Any:
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/language")
@public
def set_language() -> Any:
    language = request.form.get("language", "")
    if language in LANGUAGES:
        session["language"] = language
        from flask_login import current_user

        if current_user.is_authenticated:
            service.set_language(db.session, user=current_user, language=language)
            db.session.commit()
    return redirect(_safe_next(request.form.get("next")))


@bp.get("/settings/account")
@role_required(*ALL_ROLES)
def account() -> Any:
    user = acting_user()
    keys = service.list_api_keys(db.session, user=user)
    return render_template(
        "auth/account.html",
        user=user,
        keys=keys,
        timezones=TIMEZONES,
        new_key=session.pop("new_api_key", None),
    )


@bp.post("/settings/account/preferences")
@role_required(*ALL_ROLES)
def preferences() -> Any:
    try:
        data = forms.parse(Preferences, request.form)
        service.update_preferences(db.session, user=acting_user(), data=data)
        db.session.commit()
        session["language"] = data.language
        flash(_("Saved."), "success")
    except DomainError as exc:
        db.session.rollback()
        forms.flash_error(exc)
    return redirect(url_for("auth.account"))


@bp.post("/settings/account/password")
@role_required(*ALL_ROLES)
def change_password() -> Any:
    user = acting_user()
    try:
        data = forms.parse(PasswordChange, request.form)
        service.change_password(db.session, user=user, data=data)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        forms.flash_error(exc)
        return redirect(url_for("auth.account"))
    login_user(user)  # the stamp in the session follows the new password
    flash(_("Your password is changed. Other sessions are signed out."), "success")
    return redirect(url_for("auth.account"))


def _create_key_for(user_id: int, back: str) -> Any:
    actor = acting_user()
    user = service.get(db.session, user_id)
    key = service.create_api_key(
        db.session, user=user, name=request.form.get("name", ""), actor=actor
    )
    db.session.commit()
    session["new_api_key"] = key  # shown once on the next page, then gone
    return redirect(back)


@bp.post("/settings/account/api-keys")
@role_required(*ALL_ROLES)
def create_api_key() -> Any:
    return _create_key_for(acting_user().id, url_for("auth.account"))


@bp.post("/settings/account/api-keys/<int:key_id>/revoke")
@role_required(*ALL_ROLES)
def revoke_api_key(key_id: int) -> Any:
    service.revoke_api_key(db.session, key_id=key_id, actor=acting_user())
    db.session.commit()
    flash(_("The API key is revoked."), "info")
    return redirect(_safe_next(request.form.get("back") or url_for("auth.account")))


@bp.get("/settings/users")
@role_required(*ADMINS)
def users() -> Any:
    actor = acting_user()
    return render_template(
        "auth/users.html",
        users=service.list_users(db.session, actor=actor),
        distributors={d.id: d for d in distributors.list_visible(db.session, user=actor)},
    )


def _user_form(user: Any = None, status: int = 200) -> Any:
    actor = acting_user()
    roles = [r for r in Role if r is not Role.SUPERADMIN or actor.role is Role.SUPERADMIN]
    keys = service.list_api_keys(db.session, user=user) if user else []
    return render_template(
        "auth/user_form.html",
        user=user,
        roles=roles,
        keys=keys,
        distributors=distributors.list_visible(db.session, user=actor),
        new_key=session.pop("new_api_key", None),
    ), status


@bp.route("/settings/users/new", methods=["GET", "POST"])
@role_required(*ADMINS)
def new_user() -> Any:
    if request.method == "GET":
        return _user_form()
    try:
        data = forms.parse(UserCreate, request.form)
        user = service.create(db.session, data=data, actor=acting_user())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        forms.flash_error(exc)
        return _user_form(status=exc.status)
    flash(_("%(name)s can now sign in.", name=user.name), "success")
    return redirect(url_for("auth.users"))


@bp.route("/settings/users/<int:user_id>", methods=["GET", "POST"])
@role_required(*ADMINS)
def edit_user(user_id: int) -> Any:
    user = service.get(db.session, user_id)
    if request.method == "GET":
        return _user_form(user)
    try:
        data = forms.parse(UserUpdate, request.form, checkboxes=("active",))
        if "distributor_id" not in request.form or not request.form["distributor_id"]:
            data.distributor_id = None
            data.model_fields_set.add("distributor_id")
        service.update(db.session, user=user, data=data, actor=acting_user())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        forms.flash_error(exc)
        return _user_form(user, status=exc.status)
    flash(_("Saved."), "success")
    return redirect(url_for("auth.users"))


@bp.post("/settings/users/<int:user_id>/api-keys")
@role_required(*ADMINS)
def create_user_api_key(user_id: int) -> Any:
    return _create_key_for(user_id, url_for("auth.edit_user", user_id=user_id))
