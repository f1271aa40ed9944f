"""Rotating LEADHUB_ENCRYPTION_KEY: NEW,OLD, then `leadhub rotate-key`, then NEW alone."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy import select

from leadhub import crypto
from leadhub.cli import main
from leadhub.db import db
from leadhub.extensions import limiter
from leadhub.meta.models import MetaApp, PageConnection
from leadhub.ops import rotate


@pytest.fixture
def keys(app):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    crypto.configure(old)
    yield old, new
    crypto.configure(app.config["LEADHUB_ENCRYPTION_KEY"])


def test_every_secret_is_readable_with_the_new_key_alone_after_rotation(
    db_session, distributor, keys
):
    old, new = keys
    db_session.add(
        PageConnection(
            distributor_id=distributor.id,
            page_id="104857392011234",
            page_name="Istanbul Smile Clinic",
            token_encrypted=crypto.encrypt("page-token-1"),
        )
    )
    db_session.add(
        MetaApp(
            id=1,
            app_id="1234567890",
            app_secret_encrypted=crypto.encrypt("app-secret"),
            verify_token_encrypted=None,
        )
    )
    db_session.commit()

    crypto.configure(f"{new},{old}")  # step 1: both keys, the new one first
    report = {(r.table, r.column): r.values for r in rotate.rotate_all(db_session)}
    assert report[("page_connection", "token_encrypted")] == 1
    assert report[("meta_app", "app_secret_encrypted")] == 1
    assert report[("meta_app", "verify_token_encrypted")] == 0  # nothing stored: left alone

    crypto.configure(new)  # step 3: the old key is gone
    db_session.expire_all()
    token = db_session.scalar(select(PageConnection.token_encrypted))
    secret = db_session.scalar(select(MetaApp.app_secret_encrypted))
    assert crypto.decrypt(token) == "page-token-1" and crypto.decrypt(secret) == "app-secret"
    # rotating again is harmless
    assert rotate.rotate_all(db_session)


def test_without_the_old_key_the_command_says_what_to_set(
    app, tmp_path, monkeypatch, db_session, keys
):
    old, new = keys
    monkeypatch.setenv("LEADHUB_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'rotate.db'}")
    monkeypatch.setenv("LEADHUB_ENCRYPTION_KEY", old)
    previous = db.engine
    try:
        runner = CliRunner()
        assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
        assert runner.invoke(main, ["create-distributor", "Istanbul Smile"]).exit_code == 0
        with db.transaction() as session:
            session.add(
                PageConnection(
                    distributor_id=1,
                    page_id="104857392011234",
                    token_encrypted=crypto.encrypt("page-token-1"),
                )
            )
        monkeypatch.setenv("LEADHUB_ENCRYPTION_KEY", new)
        refused = runner.invoke(main, ["rotate-key"])
        assert refused.exit_code == 1 and "LEADHUB_ENCRYPTION_KEY=NEW,OLD" in refused.output

        monkeypatch.setenv("LEADHUB_ENCRYPTION_KEY", f"{new},{old}")
        result = runner.invoke(main, ["rotate-key"])
        assert result.exit_code == 0, result.output
        assert "page_connection.token_encrypted: 1 re-encrypted" in result.output
        crypto.configure(new)
        with db.transaction() as session:
            stored = session.scalar(select(PageConnection.token_encrypted))
        assert crypto.decrypt(stored) == "page-token-1"
    finally:
        cli_engine, db.engine = db.engine, previous
        db.session.remove()
        db.session.configure(bind=previous)
        if cli_engine is not previous:
            cli_engine.dispose()
        limiter.init_app(app)
