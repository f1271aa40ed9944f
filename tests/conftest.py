"""Test fixtures: one migrated database per run, one rolled-back transaction per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from leadhub import crypto
from leadhub.app import create_app
from leadhub.auth import service as accounts
from leadhub.auth.models import Role, User
from leadhub.db import Base, db
from leadhub.extensions import limiter
from leadhub.migrate import upgrade
from leadhub.privacy import anonymise
from leadhub.queue import huey
from tests.factories import PASSWORD, DistributorFactory, LeadFactory, UserFactory


def _database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


def _reset_schema(url: str) -> None:
    """Start from nothing, then migrate: proves the migrations build the schema."""
    if not url.startswith("postgresql"):
        return
    from leadhub.db import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = _database_url(tmp_path_factory)
    _reset_schema(url)
    upgrade(url)
    return url


def postgresql_database(base_url: str, prefix: str) -> Iterator[str]:
    """A migrated database of its own on the PostgreSQL server of `base_url`, dropped after."""
    base = make_url(base_url)
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def live_database(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of its own, migrated once: the live server's requests commit for real."""
    if database_url.startswith("postgresql"):
        yield from postgresql_database(database_url, "leadhub_live")
        return
    url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'live.db'}"
    upgrade(url)
    yield url


@pytest.fixture
def committed(live_database: str, db_session: Any) -> Iterator[str]:
    """The test's own work commits for real, in the live database, on connections of its own.

    For code that uses several connections at once (the test transaction is one connection).
    Rows stay behind: tests using this make their own, under names of their own.
    """
    previous = db.engine
    rolled_back = db.session.session_factory.kw.get("bind")
    db.engine = None
    db.configure(live_database)
    try:
        yield live_database
    finally:
        live_engine, db.engine = db.engine, previous
        db.session.remove()
        db.session.configure(bind=rolled_back)
        live_engine.dispose()


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    os.environ.setdefault("LEADHUB_INSTANCE_PATH", str(tmp_path_factory.mktemp("instance")))
    application = create_app(
        {
            "DATABASE_URL": database_url,
            "TESTING": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "SERVER_NAME": None,
        }
    )
    return application


@pytest.fixture(autouse=True)
def db_session(app: Any) -> Iterator[Any]:
    """Every test runs inside a transaction that is rolled back at its end."""
    connection = db.engine.connect()
    transaction = connection.begin()
    db.session.remove()
    db.session.configure(bind=connection, join_transaction_mode="create_savepoint")
    limiter.reset()
    huey.immediate = True  # jobs run in the test; a command's own app may have switched it off
    # Keys are process-wide: a test that built an app of its own (a command, another key) may
    # have changed them; every test starts with the session app's.
    crypto.configure(app.config["LEADHUB_ENCRYPTION_KEY"])
    anonymise.configure(app.config["LEADHUB_ENCRYPTION_KEY"])
    # No app context is held here: each request gets its own, so `g` never leaks between them.
    yield db.session
    db.session.remove()
    transaction.rollback()
    connection.close()
    db.session.configure(bind=db.engine)


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def distributor() -> Any:
    return DistributorFactory(name="Istanbul Smile")


@pytest.fixture
def other_distributor() -> Any:
    return DistributorFactory(name="Dubai Care", country="AE", language="ar")


@pytest.fixture
def users(distributor: Any, other_distributor: Any) -> dict[str, User]:
    """One user per role, plus a manager and an agent of another distributor."""
    return {
        "superadmin": UserFactory(role=Role.SUPERADMIN, name="Sema Super"),
        "admin": UserFactory(role=Role.ADMIN, name="Ali Admin"),
        "manager": UserFactory(role=Role.MANAGER, distributor=distributor, name="Mert Manager"),
        "agent": UserFactory(role=Role.AGENT, distributor=distributor, name="Ayse Agent"),
        "viewer": UserFactory(role=Role.VIEWER, distributor=distributor, name="Veli Viewer"),
        "manager_other": UserFactory(
            role=Role.MANAGER, distributor=other_distributor, name="Omar Other"
        ),
        "agent_other": UserFactory(
            role=Role.AGENT, distributor=other_distributor, name="Huda Other"
        ),
    }


@pytest.fixture
def login_as(client: Any, users: dict[str, User]) -> Callable[[str | User], User]:
    """Sign in through the real sign-in form."""

    def sign_in(who: str | User) -> User:
        user = users[who] if isinstance(who, str) else who
        client.get("/login")
        response = client.post(
            "/login",
            data={
                "email": user.email,
                "password": PASSWORD,
                "csrf_token": csrf_token(client),
            },
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return sign_in


def csrf_token(client: Any) -> str:
    """The CSRF token of the client's session, as a page would embed it."""
    import re

    page = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def post_form(client: Any, url: str, **data: Any) -> Any:
    """Submit a form as the page would, with the session's CSRF token."""
    return client.post(url, data={**data, "csrf_token": csrf_token(client)})


@pytest.fixture
def api_as(users: dict[str, User]) -> Callable[[str | User], dict[str, str]]:
    """Authorization headers with a fresh API key of that user."""

    def headers(who: str | User) -> dict[str, str]:
        user = users[who] if isinstance(who, str) else who
        key = accounts.create_api_key(db.session, user=user, name="test", actor=None)
        db.session.commit()
        return {"Authorization": f"Bearer {key}"}

    return headers


@pytest.fixture
def lead_factory(distributor: Any) -> Callable[..., Any]:
    def make(**kwargs: Any) -> Any:
        kwargs.setdefault("distributor_id", distributor.id)
        return LeadFactory(**kwargs)

    return make
