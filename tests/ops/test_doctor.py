"""`leadhub doctor`: all checks pass on a healthy installation; each failure names its fix."""

from __future__ import annotations

import socket
from datetime import timedelta

import httpx
import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner
from sqlalchemy import text

from leadhub import crypto
from leadhub.cli import main
from leadhub.db import db, utcnow
from leadhub.extensions import limiter
from leadhub.meta.graph import GraphClient
from leadhub.meta.models import InboxStatus, PageConnection, WebhookEvent
from leadhub.ops import doctor
from leadhub.simulator import World
from leadhub.simulator import create_app as create_simulator

VERSION = "v27.0"
REDIS_URL = "redis://127.0.0.1:6379/0"
CLOSED_PORT_URL = "smtp://127.0.0.1:9"  # the discard port: nothing listens on this machine


class Accept:
    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        return "250 OK"


@pytest.fixture
def smtp_server():
    with socket.socket() as probe:  # a free port (aiosmtpd cannot start on port 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Accept(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()


@pytest.fixture
def world():
    return World.seed_default(pages=2, forms_per_page=1, seed=5)


@pytest.fixture
def graph_factory(world):
    simulator = create_simulator(world, version=VERSION)

    def make(session, config):
        return GraphClient(
            base_url="http://graph.simulator",
            version=VERSION,
            app_id=world.app_id,
            app_secret=world.app_secret,
            max_attempts=1,
            transport=httpx.WSGITransport(app=simulator),
        )

    return make


@pytest.fixture
def healthy(app, db_session, distributor, world, smtp_server):
    """A connected, subscribed Page per world Page, a delivery a minute ago, Meta configured."""
    for page in world.pages():
        world.subscribe(page.id, ["leadgen"])
        db_session.add(
            PageConnection(
                distributor_id=distributor.id,
                page_id=page.id,
                page_name=page.name,
                token_encrypted=crypto.encrypt(page.access_token),
                subscribed=True,
            )
        )
    db_session.add(
        WebhookEvent(
            leadgen_id="1290384756102938",
            page_id=world.pages()[0].id,
            change={"leadgen_id": "1290384756102938"},
            status=InboxStatus.DONE,
            received_at=utcnow() - timedelta(minutes=1),
        )
    )
    db_session.commit()
    return {
        **app.config,
        "META_APP_ID": world.app_id,
        "META_APP_SECRET": world.app_secret,
        "META_VERIFY_TOKEN": "verify-me",
        "REDIS_URL": REDIS_URL,
        "SMTP_URL": smtp_server,
    }


def by_name(checks):
    return {check.name: check for check in checks}


def test_a_healthy_installation_passes_every_check(db_session, healthy, graph_factory, world):
    checks = list(doctor.run(db_session, healthy, graph_factory=graph_factory))
    assert len(checks) >= 10
    assert [c for c in checks if not c.ok] == []
    found = by_name(checks)
    for name in ("secrets", "database", "migrations", "redis", "smtp", "meta app", "disk"):
        assert found[name].ok and not found[name].skipped, found[name]
    for page in world.pages():
        assert found[f"page {page.name}"].detail == "token valid, subscribed to leadgen"
    assert found["webhooks"].ok and found["failed deliveries"].ok


def test_each_failure_says_how_to_fix_it(db_session, healthy, graph_factory, world):
    first, second = world.pages()
    world.expire_token(first.id)
    world.unsubscribe(second.id)
    db_session.execute(
        text("UPDATE webhook_event SET received_at = :old"),
        {"old": utcnow() - timedelta(days=3)},
    )
    db_session.add(
        WebhookEvent(
            leadgen_id="1290384756102999",
            page_id=first.id,
            change={},
            status=InboxStatus.FAILED,
            last_error="no phone or email",
            received_at=utcnow() - timedelta(days=2),
        )
    )
    db_session.commit()
    config = {
        **healthy,
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "SMTP_URL": CLOSED_PORT_URL,
        "META_VERIFY_TOKEN": None,
        "LEADHUB_ENCRYPTION_KEY": "not-a-fernet-key",
    }
    found = by_name(doctor.run(db_session, config, graph_factory=graph_factory))
    failing = {name for name, check in found.items() if not check.ok}
    assert failing == {
        "secrets",
        "redis",
        "smtp",
        "meta app",
        f"page {first.name}",
        f"page {second.name}",
        "webhooks",
        "failed deliveries",
    }
    assert all(found[name].fix for name in failing)
    assert "not subscribed" in found[f"page {second.name}"].detail
    assert "verify token" in found["meta app"].detail
    assert found["failed deliveries"].detail == "1 waiting"


def test_an_unmigrated_database_fails_with_the_upgrade_command(tmp_path):
    from sqlalchemy.orm import Session

    from leadhub.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with Session(engine) as session:
        check = doctor.check_migrations(session)
    engine.dispose()
    assert not check.ok and check.fix == "leadhub db upgrade"


@pytest.fixture
def cli_env(app, tmp_path, monkeypatch, db_session):
    """A fresh SQLite installation, as on a new machine; the shared engine is put back after."""
    monkeypatch.setenv("LEADHUB_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'doctor.db'}")
    for name in ("REDIS_URL", "SMTP_URL", "LEADHUB_ENV"):
        monkeypatch.delenv(name, raising=False)
    previous = db.engine
    yield monkeypatch
    cli_engine, db.engine = db.engine, previous
    db.session.remove()
    db.session.configure(bind=previous)
    if cli_engine is not previous:
        cli_engine.dispose()
    limiter.init_app(app)  # the command's app pointed the shared limiter at its own Redis


def test_the_command_exits_zero_when_all_pass_and_one_when_any_fails(cli_env):
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    cli_env.setenv("META_APP_ID", "1234567890")
    cli_env.setenv("META_APP_SECRET", "app-secret")
    cli_env.setenv("META_VERIFY_TOKEN", "verify-me")
    result = runner.invoke(main, ["doctor"])
    assert result.exit_code == 0, result.output
    assert "PASS  database" in result.output and "All checks passed." in result.output

    cli_env.delenv("META_APP_SECRET")
    cli_env.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    result = runner.invoke(main, ["doctor"])
    assert result.exit_code == 1
    assert "FAIL  meta app" in result.output and "FAIL  redis" in result.output
    assert "fix: start Redis or correct REDIS_URL" in result.output
