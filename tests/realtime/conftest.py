"""A live LeadHub with Socket.IO on its own committed database, and real Socket.IO clients."""

from __future__ import annotations

import os
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import socketio
from werkzeug.serving import make_server

from leadhub import realtime
from leadhub.app import create_app
from leadhub.auth import service as accounts
from leadhub.auth.models import Role, User
from leadhub.db import db
from leadhub.extensions import limiter
from leadhub.realtime.rooms import NAMESPACE
from tests.factories import PASSWORD, DistributorFactory, UserFactory
from tests.meta.conftest import APP_SECRET

WAIT = 15.0  # seconds a test waits for an event before it fails; events come in milliseconds
USER_AGENT = "leadhub-realtime-tests"
EVENTS = (
    "ready",
    "lead_created",
    "lead_updated",
    "lead_removed",
    "stats_updated",
    "presence",
    "error",
    "access_changed",
    "disconnect",
)
REDIS_URL = os.environ.get("LEADHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@dataclass
class Live:
    url: str
    app: Any
    database_url: str
    channel: str | None = None
    clients: list[Listener] = field(default_factory=list)

    def listener(self, **kwargs: Any) -> Listener:
        listener = Listener(self.url, **kwargs)
        self.clients.append(listener)
        return listener

    def api_key(self, user: User) -> str:
        key = accounts.create_api_key(db.session, user=user, name="realtime test", actor=None)
        db.session.commit()
        return key

    def session_cookie(self, user: User) -> str:
        """Sign in through the real form; the Cookie header a browser would send afterwards."""
        with httpx.Client(base_url=self.url, headers={"User-Agent": USER_AGENT}) as client:
            page = client.get("/login").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', page)
            assert token, "no CSRF token on the sign-in page"
            response = client.post(
                "/login",
                data={"email": user.email, "password": PASSWORD, "csrf_token": token.group(1)},
            )
            assert response.status_code == 302, response.text
            return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def _serve(config: dict[str, Any], database_url: str) -> Iterator[Live]:
    previous = db.engine
    limiting = limiter.enabled  # init_app below switches it off for every app: put it back after
    live_app = create_app(
        {
            "DATABASE_URL": database_url,
            "TESTING": True,
            "REALTIME": True,
            "RATELIMIT_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
            "META_APP_SECRET": APP_SECRET,
            **config,
        }
    )
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    live = Live(
        url=f"http://127.0.0.1:{server.server_port}",
        app=live_app,
        database_url=database_url,
        channel=config.get("REALTIME_CHANNEL"),
    )
    try:
        yield live
    finally:
        # A WebSocket client waits up to 3 s for the closing handshake: close them side by side.
        closing = [threading.Thread(target=listener.close) for listener in live.clients]
        for closer in closing:
            closer.start()
        for closer in closing:
            closer.join(WAIT)
        realtime.shutdown()
        server.shutdown()
        server.server_close()
        thread.join(5)
        limiter.enabled = limiting
        live_engine, db.engine = db.engine, previous
        db.session.remove()
        db.session.configure(bind=previous)
        if live_engine is not previous:
            live_engine.dispose()


@pytest.fixture
def live(app: Any, live_database: str, db_session: Any) -> Iterator[Live]:
    """LeadHub with Socket.IO served by Werkzeug's threaded server (as `leadhub serve` does)."""
    yield from _serve({}, live_database)


@pytest.fixture
def redis_channel() -> Iterator[str]:
    """A Socket.IO channel of this test alone, on the machine's Redis."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail(f"Redis is not running at {REDIS_URL}")
    channel = f"leadhub-test-{uuid.uuid4().hex}"
    yield channel
    for key in client.scan_iter(f"{channel}:*"):
        client.delete(key)
    client.close()


@pytest.fixture
def live_redis(app: Any, live_database: str, db_session: Any, redis_channel: str) -> Iterator[Live]:
    """The live server with Redis as Socket.IO's message queue."""
    yield from _serve({"REDIS_URL": REDIS_URL, "REALTIME_CHANNEL": redis_channel}, live_database)


@dataclass
class People:
    """Two distributors and their staff, committed to the live database."""

    distributor: Any
    other_distributor: Any
    users: dict[str, User]

    def __getitem__(self, who: str) -> User:
        return self.users[who]


@pytest.fixture
def people(live: Live) -> People:
    return _people()


@pytest.fixture
def people_redis(live_redis: Live) -> People:
    return _people()


def _people() -> People:
    tag = uuid.uuid4().hex[:6]
    distributor = DistributorFactory(name=f"Istanbul Smile {tag}")
    other = DistributorFactory(name=f"Dubai Care {tag}", country="AE", language="ar")
    users = {
        "admin": UserFactory(role=Role.ADMIN, name="Ali Admin"),
        "manager": UserFactory(role=Role.MANAGER, distributor=distributor, name="Mert Manager"),
        "agent": UserFactory(role=Role.AGENT, distributor=distributor, name="Ayse Agent"),
        "agent_two": UserFactory(role=Role.AGENT, distributor=distributor, name="Aylin Agent"),
        "viewer": UserFactory(role=Role.VIEWER, distributor=distributor, name="Veli Viewer"),
        "manager_other": UserFactory(role=Role.MANAGER, distributor=other, name="Omar Other"),
    }
    return People(distributor=distributor, other_distributor=other, users=users)


class Listener:
    """A python-socketio client on `/facebook-leads` that records every event it receives."""

    def __init__(self, url: str, **connect: Any) -> None:
        self.url = url
        self.events: list[tuple[str, Any]] = []
        self._changed = threading.Condition()
        self.client = socketio.Client(reconnection=False)
        for name in EVENTS:
            self.client.on(name, self._recorder(name), namespace=NAMESPACE)

    def _recorder(self, name: str) -> Callable[[Any], None]:
        def record(data: Any = None) -> None:
            with self._changed:
                self.events.append((name, data))
                self._changed.notify_all()

        return record

    def connect(
        self,
        *,
        token: str | None = None,
        cookie: str | None = None,
        transports: list[str] | None = None,
    ) -> Listener:
        headers = {"User-Agent": USER_AGENT}
        if cookie:
            headers["Cookie"] = cookie
        self.client.connect(
            self.url,
            namespaces=[NAMESPACE],
            auth={"token": token} if token else None,
            headers=headers,
            transports=transports or ["websocket"],
            wait_timeout=WAIT,
        )
        self.wait_for("ready")
        return self

    def emit(self, event: str, data: Any) -> None:
        self.client.emit(event, data, namespace=NAMESPACE)

    def received(self, name: str) -> list[Any]:
        with self._changed:
            return [data for event, data in self.events if event == name]

    def wait_for(
        self, name: str, where: Callable[[Any], bool] = lambda data: True, timeout: float = WAIT
    ) -> Any:
        """The first `name` event matching `where`, waiting for it up to `timeout` seconds."""
        found: list[Any] = []

        def arrived() -> bool:
            found[:] = [data for event, data in self.events if event == name and where(data)]
            return bool(found)

        with self._changed:
            if not self._changed.wait_for(arrived, timeout):
                raise AssertionError(f"no {name} event arrived; got {self.events!r}")
        return found[0]

    def close(self) -> None:
        if self.client.connected:
            self.client.disconnect()
