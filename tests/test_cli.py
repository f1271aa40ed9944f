"""The `leadhub` command, run as a newcomer would."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from leadhub.auth.models import ApiKey, Role, User
from leadhub.cli import main
from leadhub.db import db
from leadhub.distributors.models import Distributor


@pytest.fixture
def cli_env(tmp_path, monkeypatch, database_url, db_session):
    """A fresh SQLite database and instance folder, as on a new machine."""
    monkeypatch.setenv("LEADHUB_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    previous = db.engine
    yield tmp_path
    # the commands pointed the shared engine at their own database: put the test's back
    cli_engine, db.engine = db.engine, previous
    db.session.remove()
    db.session.configure(bind=previous)
    if cli_engine is not previous:
        cli_engine.dispose()


def _run(*args, input=None):
    result = CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)
    return result


def test_every_command_has_help():
    for args in (
        [],
        ["serve"],
        ["db", "upgrade"],
        ["create-distributor"],
        ["create-user"],
        ["create-api-key"],
    ):
        result = _run(*args, "--help")
        assert result.exit_code == 0 and "Usage" in result.output, args


def test_first_run_setup_from_the_command_line(cli_env):
    from sqlalchemy.orm import Session

    from leadhub.db import make_engine

    assert _run("db", "upgrade").exit_code == 0
    assert _run("db", "upgrade").exit_code == 0  # safe to run again
    assert (
        "Distributor 1"
        in _run(
            "create-distributor", "Istanbul Smile", "--country", "tr", "--language", "tr"
        ).output
    )
    result = _run(
        "create-user",
        "Boss@Example.com",
        "--role",
        "superadmin",
        "--password-stdin",
        input="a long password\n",
    )
    assert result.exit_code == 0, result.output
    result = _run(
        "create-user",
        "agent@example.com",
        "--role",
        "agent",
        "--distributor",
        "Istanbul Smile",
        "--password-stdin",
        input="a long password\n",
    )
    assert result.exit_code == 0, result.output
    key = _run("create-api-key", "boss@example.com").output.strip()
    assert key.startswith("lh_")
    engine = make_engine(f"sqlite:///{cli_env / 'cli.db'}")
    with Session(engine) as session:
        boss = session.scalars(select(User).where(User.email == "boss@example.com")).one()
        assert boss.role is Role.SUPERADMIN and boss.password_hash != "a long password"
        assert session.scalars(select(ApiKey)).one().key_hash != key
        assert session.scalars(select(Distributor)).one().country == "TR"
    engine.dispose()
    assert (cli_env / "instance" / "secrets.json").exists()


def test_mistakes_get_one_clear_line(cli_env):
    _run("db", "upgrade")
    result = CliRunner().invoke(
        main,
        ["create-user", "a@example.com", "--role", "agent", "--password-stdin"],
        input="a long password\n",
    )
    assert result.exit_code == 1 and "belongs to a distributor" in result.output
    result = CliRunner().invoke(
        main,
        ["create-user", "a@example.com", "--role", "admin", "--password-stdin"],
        input="short\n",
    )
    assert result.exit_code == 1 and "password" in result.output
    result = CliRunner().invoke(main, ["create-api-key", "nobody@example.com"])
    assert result.exit_code == 1 and "No user" in result.output


def test_production_refuses_to_start_without_secrets(cli_env, monkeypatch):
    monkeypatch.setenv("LEADHUB_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    result = CliRunner().invoke(main, ["create-distributor", "X"])
    assert result.exit_code == 1
    assert "SECRET_KEY" in result.output and "LEADHUB_ENCRYPTION_KEY" in result.output


def test_the_console_script_is_installed():
    result = subprocess.run(
        [sys.executable, "-m", "leadhub.cli", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and "serve" in result.stdout
