"""Settings come from the environment; development secrets are generated once."""

from __future__ import annotations

import stat

import pytest

from leadhub import config


def test_development_secrets_are_generated_once_and_private(tmp_path, monkeypatch):
    monkeypatch.setenv("LEADHUB_INSTANCE_PATH", str(tmp_path))
    first = config.load({})
    second = config.load({})
    assert first["SECRET_KEY"] == second["SECRET_KEY"] and len(first["SECRET_KEY"]) > 40
    mode = (tmp_path / "secrets.json").stat().st_mode
    assert not mode & (stat.S_IRWXG | stat.S_IRWXO)
    assert first["DATABASE_URL"] == f"sqlite:///{tmp_path / 'leadhub.db'}"


def test_environment_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("LEADHUB_INSTANCE_PATH", str(tmp_path))
    settings = config.load(
        {
            "DATABASE_URL": "postgresql+psycopg://db/leadhub",
            "SECRET_KEY": "s" * 50,
            "META_GRAPH_VERSION": "v26.0",
        }
    )
    assert settings["DATABASE_URL"] == "postgresql+psycopg://db/leadhub"
    assert settings["SECRET_KEY"] == "s" * 50
    assert settings["META_GRAPH_VERSION"] == "v26.0"
    assert settings["SESSION_COOKIE_SECURE"] is False


def test_production_needs_its_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("LEADHUB_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(config.ConfigError, match="SECRET_KEY"):
        config.load({"LEADHUB_ENV": "production"})
    settings = config.load(
        {
            "LEADHUB_ENV": "production",
            "SECRET_KEY": "k" * 50,
            "LEADHUB_ENCRYPTION_KEY": "e" * 44,
            "DATABASE_URL": "postgresql+psycopg://db/leadhub",
            "REDIS_URL": "redis://redis:6379/0",
        }
    )
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert not (tmp_path / "secrets.json").exists()
