"""Who is making this request: the session cookie (pages) or a Bearer API key (API)."""

from __future__ import annotations

import hmac
from typing import Any

from flask import Flask, current_app, g, redirect, request, url_for
from flask_login import LoginManager

from leadhub.auth import service
from leadhub.auth.models import User
from leadhub.errors import N_, Unauthorized
from leadhub.extensions import csrf, db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def load_user(session_id: str) -> User | None:
    user_id, _, stamp = session_id.partition(":")
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active:
        return None
    if not hmac.compare_digest(stamp, user.session_stamp):
        return None  # the password changed since this session began
    return user


def _api_key_user() -> None:
    """A Bearer key on an API call decides who is calling, even beside a session cookie."""
    if not request.path.startswith("/api/"):
        return
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return
    user = service.user_for_api_key(db.session, key.strip())
    if user is None:
        raise Unauthorized(N_("The API key is not valid or was revoked."))
    db.session.commit()  # keeps last_used_at
    g.auth_via = "api_key"
    current_app.login_manager._update_request_context_with_user(user)


def _csrf_for_session_api_calls() -> None:
    """The API trusts Bearer keys; a browser session calling it must send the CSRF token too."""
    if request.path.startswith("/api/") and request.method not in SAFE_METHODS:
        from flask_login import current_user

        if current_user.is_authenticated and g.get("auth_via") != "api_key":
            csrf.protect()


def init_app(app: Flask, manager: LoginManager) -> None:
    manager.init_app(app)
    manager.session_protection = "strong"
    manager.user_loader(load_user)

    @manager.unauthorized_handler
    def unauthorized() -> Any:
        if request.path.startswith("/api/"):
            raise Unauthorized()
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

    app.before_request(_api_key_user)
    app.before_request(_csrf_for_session_api_calls)
