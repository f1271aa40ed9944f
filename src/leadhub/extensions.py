"""Unbound extension singletons; create_app binds them."""

from __future__ import annotations

from flask import request
from flask_babel import Babel
from flask_limiter import ApplicationLimit, Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect

from leadhub.db import db
from leadhub.ops import limits

csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
limiter = Limiter(
    key_func=get_remote_address,
    default_limits=[],
    headers_enabled=True,
    # API_RATE_LIMIT per API key across the whole API (leadhub.ops.limits)
    application_limits=[
        ApplicationLimit(
            limits.api_rate_limit,
            key_function=limits.api_key_identity,
            exempt_when=limits.not_an_api_key_call,
            scope="api-key",
        )
    ],
)


@limiter.request_filter
def _meta_webhook() -> bool:
    """Meta's webhook is never limited (limits.not_an_api_key_call): say so before the limiter
    resolves every limit for it, on the path that must answer within milliseconds."""
    return request.path == limits.WEBHOOK_PATH


__all__ = ["babel", "csrf", "db", "limiter", "login_manager"]
