"""LEADHUB_ENV=production refuses dev secrets, SQLite and no Redis, saying what to set."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet

from leadhub import config
from leadhub.cli import main

GOOD = {
    "LEADHUB_ENV": "production",
    "SECRET_KEY": "a-real-secret-key-of-enough-length-0123456789",
    "LEADHUB_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    "DATABASE_URL": "postgresql+psycopg://leadhub@db/leadhub",
    "REDIS_URL": "redis://redis:6379/0",
}


@pytest.fixture
def instance(tmp_path, monkeypatch):
    monkeypatch.setenv("LEADHUB_INSTANCE_PATH", str(tmp_path))
    return tmp_path


def test_a_complete_production_setting_starts(instance):
    settings = config.load(GOOD)
    assert settings["LOG_FORMAT"] == "json" and settings["SESSION_COOKIE_SECURE"] is True
    assert settings["API_RATE_LIMIT"] == "1000 per hour"


@pytest.mark.parametrize(
    "change, says",
    [
        ({"DATABASE_URL": ""}, "DATABASE_URL=postgresql"),
        ({"DATABASE_URL": "sqlite:////var/lib/leadhub.db"}, "DATABASE_URL=postgresql"),
        ({"REDIS_URL": ""}, "REDIS_URL=redis://"),
        ({"SECRET_KEY": "change-me"}, "SECRET_KEY is a development value"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY is shorter than 32"),
    ],
)
def test_unsafe_production_settings_are_refused(instance, change, says):
    with pytest.raises(config.ConfigError, match="refuses to start") as refused:
        config.load({**GOOD, **change})
    assert says in str(refused.value)


def test_the_generated_development_secrets_are_refused(instance):
    config.load({})  # development: generates instance/secrets.json
    generated = json.loads((instance / "secrets.json").read_text())
    with pytest.raises(config.ConfigError) as refused:
        config.load({**GOOD, **generated})
    assert "SECRET_KEY is a development value" in str(refused.value)
    assert "LEADHUB_ENCRYPTION_KEY is a development value" in str(refused.value)


def test_the_command_says_what_to_set(instance, monkeypatch):
    for name, value in {**GOOD, "REDIS_URL": "", "DATABASE_URL": ""}.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["doctor"])
    assert result.exit_code == 1
    assert "REDIS_URL" in result.output and "DATABASE_URL" in result.output
