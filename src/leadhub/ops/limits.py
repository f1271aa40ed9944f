"""The API's request limit: API_RATE_LIMIT (default 1,000 an hour) per API key, on every route."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import current_app, request
from werkzeug.routing import IntegerConverter

WEBHOOK_PATH = "/api/v1/meta/webhook"


def _bearer() -> str:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" else ""


def api_rate_limit() -> str:
    return str(current_app.config.get("API_RATE_LIMIT") or "1000 per hour")


def api_key_identity() -> str:
    """The key itself never reaches the limiter's storage, only a digest of it."""
    return "api-key:" + hashlib.sha256(_bearer().encode()).hexdigest()[:32]


def not_an_api_key_call() -> bool:
    """Pages, sign-in (throttled on its own), health checks and Meta's webhook are not counted."""
    return not _bearer() or request.path == WEBHOOK_PATH


MAX_ID = 2**31 - 1  # ids are 32-bit integers in PostgreSQL


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` in every route: a number past any id is a 404, never a database overflow."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
