"""The only place that reads the environment."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

DEFAULT_GRAPH_URL = "https://graph.facebook.com"
DEFAULT_GRAPH_VERSION = "v27.0"
MAX_REQUEST_BYTES = 1024 * 1024
DEFAULT_RECONCILE_AFTER = 120  # seconds an inbox row may stay pending before it is queued again

SECRET_SETTINGS = ("SECRET_KEY", "LEADHUB_ENCRYPTION_KEY")


class ConfigError(RuntimeError):
    """A setting is missing or unsafe; the message says what to set."""


def instance_path() -> Path:
    """Where LeadHub keeps its local data (SQLite files, generated development secrets)."""
    return Path(os.environ.get("LEADHUB_INSTANCE_PATH") or Path.cwd() / "instance").resolve()


def _development_secrets(folder: Path) -> dict[str, str]:
    """Secrets generated once into instance/ so a newcomer needs to set nothing."""
    path = folder / "secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    generated = {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "LEADHUB_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(generated, handle)
    return generated


DEFAULT_API_RATE_LIMIT = "1000 per hour"
# Values seen in examples and tutorials; a production secret is never one of them.
PLACEHOLDER_SECRETS = frozenset({"change-me", "changeme", "secret", "dev", "development", "test"})
MIN_SECRET_KEY_LENGTH = 32


def production_problems(settings: dict[str, Any], folder: Path) -> list[str]:
    """What a production start still needs, each with the setting that fixes it."""
    problems: list[str] = []
    generated_path = folder / "secrets.json"
    generated = json.loads(generated_path.read_text()) if generated_path.exists() else {}
    for name in SECRET_SETTINGS:
        value = settings[name]
        if value.lower() in PLACEHOLDER_SECRETS or value == generated.get(name):
            problems.append(
                f"{name} is a development value; set a fresh one "
                "(python -c 'import secrets; print(secrets.token_urlsafe(48))' for SECRET_KEY, "
                "python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())' for LEADHUB_ENCRYPTION_KEY)"
            )
    if len(settings["SECRET_KEY"]) < MIN_SECRET_KEY_LENGTH:
        problems.append(f"SECRET_KEY is shorter than {MIN_SECRET_KEY_LENGTH} characters")
    if settings["DATABASE_URL"].startswith("sqlite"):
        problems.append(
            "DATABASE_URL points at SQLite; set DATABASE_URL=postgresql+psycopg://USER:PASSWORD"
            "@HOST/DBNAME"
        )
    if not settings["REDIS_URL"]:
        problems.append("REDIS_URL is not set; set REDIS_URL=redis://HOST:6379/0")
    return problems


def load(environ: os._Environ[str] | dict[str, str] | None = None) -> dict[str, Any]:
    """Build the Flask config from the environment; production refuses unsafe defaults."""
    env = dict(os.environ if environ is None else environ)
    folder = instance_path()
    production = env.get("LEADHUB_ENV", "development") == "production"
    settings: dict[str, Any] = {
        "LEADHUB_ENV": "production" if production else env.get("LEADHUB_ENV", "development"),
        "INSTANCE_PATH": str(folder),
        "DATABASE_URL": env.get("DATABASE_URL") or f"sqlite:///{folder / 'leadhub.db'}",
        "REDIS_URL": env.get("REDIS_URL") or None,
        # Redis pub/sub channel of Socket.IO; processes that share it reach each other's clients.
        "REALTIME_CHANNEL": env.get("LEADHUB_REALTIME_CHANNEL") or "leadhub-realtime",
        "META_APP_ID": env.get("META_APP_ID") or None,
        "META_APP_SECRET": env.get("META_APP_SECRET") or None,
        "META_VERIFY_TOKEN": env.get("META_VERIFY_TOKEN") or None,
        "META_GRAPH_URL": env.get("META_GRAPH_URL") or DEFAULT_GRAPH_URL,
        "META_GRAPH_VERSION": env.get("META_GRAPH_VERSION") or DEFAULT_GRAPH_VERSION,
        "META_RECONCILE_AFTER": int(env.get("META_RECONCILE_AFTER") or DEFAULT_RECONCILE_AFTER),
        "SMTP_URL": env.get("SMTP_URL") or None,
        "MAIL_FROM": env.get("MAIL_FROM") or "LeadHub <leadhub@localhost>",
        # Lead events make notifications unless switched off (LEADHUB_NOTIFICATIONS=0).
        "NOTIFICATIONS": (env.get("LEADHUB_NOTIFICATIONS") or "1").lower()
        not in ("0", "false", "off"),
        "PUBLIC_BASE_URL": (env.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
        "PORT": int(env.get("PORT") or 5000),
        "MAX_CONTENT_LENGTH": MAX_REQUEST_BYTES,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "WTF_CSRF_TIME_LIMIT": None,
        "LOGIN_THROTTLE": env.get("LEADHUB_LOGIN_THROTTLE") or "5 per 15 minutes",
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        # Operations (issue 9): API limit per key, /metrics token, log format.
        "API_RATE_LIMIT": env.get("API_RATE_LIMIT") or DEFAULT_API_RATE_LIMIT,
        "METRICS_TOKEN": env.get("METRICS_TOKEN") or None,
        "LOG_FORMAT": (env.get("LOG_FORMAT") or ("json" if production else "text")).lower(),
        # How many proxies (nginx) stand in front: their X-Forwarded-* headers are trusted.
        "TRUSTED_PROXIES": int(env.get("LEADHUB_TRUSTED_PROXIES") or 0),
    }
    for name in SECRET_SETTINGS:
        settings[name] = env.get(name) or None
    missing = [name for name in SECRET_SETTINGS if not settings[name]]
    if production:
        if missing:
            raise ConfigError(
                "LEADHUB_ENV=production needs these set in the environment: " + ", ".join(missing)
            )
        problems = production_problems(settings, folder)
        if problems:
            raise ConfigError("LEADHUB_ENV=production refuses to start: " + "; ".join(problems))
    elif missing:
        generated = _development_secrets(folder)
        for name in missing:
            settings[name] = generated[name]
    return settings
