"""Liveness and readiness for load balancers and operators."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from leadhub.auth.permissions import public
from leadhub.errors import N_, Forbidden
from leadhub.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@public
def healthz() -> Any:
    """The process is up."""
    return jsonify(status="ok")


def _check_database() -> str | None:
    try:
        db.session.execute(text("SELECT 1"))
        return None
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return type(exc).__name__


def _check_redis(url: str) -> str | None:
    import redis

    try:
        with redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2) as client:
            client.ping()
        return None
    except Exception as exc:  # noqa: BLE001
        return type(exc).__name__


@bp.get("/readyz")
@public
def readyz() -> Any:
    """Ready to serve: the database answers (and Redis, when configured)."""
    checks: dict[str, str] = {}
    failure = _check_database()
    checks["database"] = failure or "ok"
    if current_app.config["REDIS_URL"]:
        checks["redis"] = _check_redis(current_app.config["REDIS_URL"]) or "ok"
    ready = all(value == "ok" for value in checks.values())
    return jsonify(status="ok" if ready else "unavailable", checks=checks), 200 if ready else 503


@bp.get("/metrics")
@public
def prometheus_metrics() -> Any:
    """Prometheus scrape: a Bearer METRICS_TOKEN, or from this machine when no token is set."""
    from leadhub import metrics

    if not metrics.allowed_here():
        raise Forbidden(N_("Send the metrics token as a Bearer token, or scrape from this host."))
    return metrics.scrape()
