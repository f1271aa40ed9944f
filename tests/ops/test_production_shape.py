"""The production shape on this machine: two gunicorn web processes (deploy/gunicorn.conf.py) and
two `leadhub worker` processes on PostgreSQL and Redis, with LEADHUB_ENV=production.

This test process plays Meta (signed webhooks to both web processes, the Graph simulator on a
real port) and the clinic's staff (API calls to both web processes, Socket.IO clients on both).
One worker is killed with SIGKILL mid-run. In the end every lead is there exactly once and every
connected client saw every lead arrive. PostgreSQL only: the processes need a database server.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, func, select

from leadhub import queue
from leadhub.app import create_app
from leadhub.auth import service as accounts
from leadhub.auth.models import Role, User
from leadhub.db import db
from leadhub.distributors.models import Distributor
from leadhub.leads.models import Lead
from leadhub.meta import jobs
from leadhub.meta import service as meta
from leadhub.meta.models import InboxStatus, WebhookEvent
from leadhub.queue import huey
from leadhub.simulator import Faults, World, build_payload, sign
from leadhub.simulator import create_app as create_simulator
from tests.conftest import postgresql_database
from tests.meta.processes import Gate, Worker, serve, wait_for
from tests.realtime.conftest import Listener

ROOT = Path(__file__).resolve().parents[2]
GUNICORN_CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
VERSION = "v27.0"
WEBHOOK_LEADS = 60
API_LEADS = 10
RECONCILE_AFTER = 1  # seconds; two minutes by default
# A Redis database of this test's own: the queue's keys are named after the app, not the test.
REDIS_URL = os.environ.get("LEADHUB_OPS_REDIS_URL", "redis://127.0.0.1:6379/11")
METRICS_TOKEN = "ops-shape-metrics-token"

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
    reason="the production shape needs PostgreSQL: run with DATABASE_URL=postgresql+psycopg://...",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class WebProcess(Worker):
    """`gunicorn -c deploy/gunicorn.conf.py` on a port of its own."""

    def __init__(self, env: dict[str, str], log_path: Path, port: int) -> None:
        self.log_path = log_path
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONFIG)],
            env={**env, "LEADHUB_BIND": f"127.0.0.1:{port}", "LEADHUB_THREADS": "40"},
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.running:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._reap()


@dataclass
class Shape:
    world: World
    faults: Faults
    gate: Gate
    reader: Any
    env: dict[str, str]
    folder: Path
    api_key: str
    distributor_id: int
    webs: list[WebProcess] = field(default_factory=list)
    workers: list[Worker] = field(default_factory=list)

    def start_web(self) -> WebProcess:
        n = len(self.webs) + 1
        web = WebProcess(self.env, self.folder / f"web-{n}.log", free_port())
        self.webs.append(web)
        return web

    def start_worker(self) -> Worker:
        log = self.folder / f"worker-{len(self.workers) + 1}.log"
        worker = Worker(self.env, log, "--workers", "4", "--no-periodic")
        self.workers.append(worker)
        return worker

    @property
    def processes(self) -> list[Worker]:
        return [*self.webs, *self.workers]

    def inbox(self) -> dict[str, int]:
        stmt = select(WebhookEvent.status, func.count()).group_by(WebhookEvent.status)
        with self.reader.connect() as conn:
            return {str(status): n for status, n in conn.execute(stmt)}

    def done(self) -> int:
        return self.inbox().get(InboxStatus.DONE.value, 0)


def _forget_redis_keys(client: redis.Redis) -> None:
    for pattern in ("huey.*", "LIMITS*", "leadhub*"):
        for key in client.scan_iter(pattern):
            client.delete(key)


@pytest.fixture
def shape(app, database_url, db_session, tmp_path) -> Iterator[Shape]:
    """PostgreSQL and Redis with a connected Page, the Graph simulator on a port; no process yet."""
    store = redis.Redis.from_url(REDIS_URL)
    try:
        store.ping()
    except redis.ConnectionError:
        pytest.fail(f"Redis is not running at {REDIS_URL}")
    _forget_redis_keys(store)
    world = World.seed_default(pages=1, forms_per_page=2, seed=23)
    faults = Faults(world, seed=23)
    gate = Gate(create_simulator(world, version=VERSION, faults=faults))
    previous_engine = db.engine
    previous_queue = (huey.storage_class, huey.storage_kwargs)
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    shape_ = None
    databases = postgresql_database(database_url, "leadhub_ops")
    url = next(databases)
    reader = create_engine(url)
    try:
        with serve(gate) as graph_url:
            secrets = {
                "SECRET_KEY": f"ops-{uuid.uuid4().hex}{uuid.uuid4().hex}",
                "LEADHUB_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            }
            setup_app = create_app(
                {
                    "DATABASE_URL": url,
                    "TESTING": True,
                    "INSTANCE_PATH": str(tmp_path / "instance"),
                    "REDIS_URL": REDIS_URL,
                    "META_APP_ID": world.app_id,
                    "META_APP_SECRET": world.app_secret,
                    "META_GRAPH_URL": graph_url,
                    "META_GRAPH_VERSION": VERSION,
                    "RATELIMIT_STORAGE_URI": "memory://",
                    **secrets,
                }
            )
            from leadhub import crypto

            crypto.configure(secrets["LEADHUB_ENCRYPTION_KEY"])
            # This process queues the reconciler's jobs on the workers' Redis queue.
            queue.configure({**setup_app.config, "TESTING": False})
            with setup_app.app_context(), db.transaction() as session:
                distributor = Distributor(name="Istanbul Smile", country="TR")
                session.add(distributor)
                session.flush()
                page = world.pages()[0]
                graph = meta.graph_client(session, setup_app.config)
                try:
                    meta.connect_page(
                        session,
                        distributor=distributor,
                        page_id=page.id,
                        token=page.access_token,
                        actor=None,
                        graph=graph,
                    )
                finally:
                    graph.close()
                admin = User(
                    email="ops-admin@example.com",
                    name="Ops Admin",
                    role=Role.ADMIN,
                    password_hash=None,  # works through its API key only
                )
                session.add(admin)
                session.flush()
                api_key = accounts.create_api_key(session, user=admin, name="ops", actor=None)
                distributor_id = distributor.id
            env = {
                **{
                    name: value
                    for name, value in os.environ.items()
                    if not name.startswith(
                        ("LEADHUB_", "META_", "DATABASE_URL", "REDIS_URL", "PROMETHEUS_")
                    )
                },
                "LEADHUB_ENV": "production",
                "LEADHUB_INSTANCE_PATH": str(tmp_path / "instance"),
                "LEADHUB_REALTIME_CHANNEL": f"leadhub-ops-{uuid.uuid4().hex}",
                "DATABASE_URL": url,
                "REDIS_URL": REDIS_URL,
                **secrets,
                "META_APP_ID": world.app_id,
                "META_APP_SECRET": world.app_secret,
                "META_VERIFY_TOKEN": "ops-verify-token",
                "META_GRAPH_URL": graph_url,
                "META_GRAPH_VERSION": VERSION,
                "META_RECONCILE_AFTER": str(RECONCILE_AFTER),
                "METRICS_TOKEN": METRICS_TOKEN,
                "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
                "PYTHONUNBUFFERED": "1",
            }
            shape_ = Shape(world, faults, gate, reader, env, tmp_path, api_key, distributor_id)
            try:
                yield shape_
            finally:
                for process in shape_.processes:
                    process.kill()
                gate.open()
    finally:
        if not huey.immediate:
            huey.storage.close()
        huey.immediate = True
        huey.storage_class, huey.storage_kwargs = previous_queue
        shape_engine, db.engine = db.engine, previous_engine
        db.session.remove()
        db.session.configure(bind=previous_engine)
        if shape_engine is not previous_engine:
            shape_engine.dispose()
        reader.dispose()
        for _ in databases:  # drops the database
            pass
        _forget_redis_keys(store)
        store.close()
        shutil.rmtree(metrics_dir, ignore_errors=True)


def deliver(web: WebProcess, lead: Any, app_secret: str) -> None:
    body = build_payload([lead])
    response = httpx.post(
        f"{web.url}/api/v1/meta/webhook",
        content=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, app_secret)},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"received": 1, "queued": 1}


def create_by_api(web: WebProcess, shape: Shape, n: int) -> int:
    response = httpx.post(
        f"{web.url}/api/v1/leads",
        json={
            "distributor_id": shape.distributor_id,
            "full_name": f"Walk In {n}",
            "phone": f"+90532111{n:04d}",
            "country": "TR",
        },
        headers={"Authorization": f"Bearer {shape.api_key}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_two_web_processes_and_two_workers_lose_nothing_when_a_worker_dies(shape):
    first_web, second_web = shape.start_web(), shape.start_web()
    first_worker, second_worker = shape.start_worker(), shape.start_worker()
    wait_for(
        lambda: first_web.ready() and second_web.ready(),
        what="both web processes to be ready",
        timeout=90,  # the machine's cores are shared: starting can be slow
        workers=shape.processes,
    )
    # Two live desks on each web process, one over WebSocket and one over long-polling.
    listeners = [
        Listener(web.url).connect(token=shape.api_key, transports=transports)
        for web in (first_web, second_web)
        for transports in (["websocket"], ["polling"])
    ]
    try:
        webs = (first_web, second_web)
        leads = shape.world.add_leads(WEBHOOK_LEADS)
        first, held, rest = leads[:10], leads[10 : WEBHOOK_LEADS // 2], leads[WEBHOOK_LEADS // 2 :]
        for n, lead in enumerate(first):
            deliver(webs[n % 2], lead, shape.world.app_secret)
        api_ids = [create_by_api(webs[n % 2], shape, n) for n in range(API_LEADS // 2)]
        wait_for(lambda: shape.done() >= 5, what="the first leads", workers=shape.processes)

        # Graph calls are held at the door: the next jobs are in flight, none can commit. Once
        # every client has seen every lead committed so far, the first worker dies mid-job.
        shape.gate.close()
        for n, lead in enumerate(held):
            deliver(webs[n % 2], lead, shape.world.app_secret)
        wait_for(lambda: shape.gate.held >= 2, what="jobs in flight", workers=shape.processes)
        wait_for(
            lambda: all(
                len(listener.received("lead_created")) >= shape.done() + len(api_ids)
                for listener in listeners
            ),
            what="the clients to see the leads committed so far",
            workers=shape.processes,
        )
        first_worker.kill()
        shape.workers.remove(first_worker)
        shape.gate.open()

        for n, lead in enumerate(rest):
            deliver(webs[n % 2], lead, shape.world.app_secret)
        api_ids += [create_by_api(webs[n % 2], shape, n) for n in range(API_LEADS // 2, API_LEADS)]
        remaining = []
        for web in webs:  # reading the desk through either process
            listed = httpx.get(
                f"{web.url}/api/v1/leads?limit=5",
                headers={"Authorization": f"Bearer {shape.api_key}"},
                timeout=10,
            )
            assert listed.status_code == 200 and listed.json()["items"]
            remaining.append(int(listed.headers["X-RateLimit-Remaining"]))
        # one allowance per API key across both processes: the limiter counts in Redis
        assert remaining[1] == remaining[0] - 1

        # The surviving worker empties the queue; what the dead one held is reconciled.
        def all_done() -> bool:
            if shape.done() == WEBHOOK_LEADS:
                return True
            if huey.pending_count() == 0:
                jobs.reconcile_inbox()  # as the schedule would, every minute
                time.sleep(RECONCILE_AFTER)
            return False

        wait_for(all_done, what="every lead", timeout=45, workers=shape.processes)
        with shape.reader.connect() as conn:
            per_leadgen_id = dict(
                conn.execute(
                    select(Lead.meta_lead_id, func.count())
                    .where(Lead.meta_lead_id.is_not(None))
                    .group_by(Lead.meta_lead_id)
                ).all()
            )
            webhook_ids = set(
                conn.scalars(select(Lead.id).where(Lead.meta_lead_id.is_not(None))).all()
            )
            total = conn.scalar(select(func.count()).select_from(Lead))
        assert per_leadgen_id == {lead.id: 1 for lead in leads}  # exactly once each
        assert total == WEBHOOK_LEADS + API_LEADS
        assert shape.inbox() == {"done": WEBHOOK_LEADS}

        expected = webhook_ids | set(api_ids)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(
            {e["id"] for e in listener.received("lead_created")} < expected
            for listener in listeners
        ):
            time.sleep(0.1)
        for n, listener in enumerate(listeners):
            seen = [e["id"] for e in listener.received("lead_created")]
            missing = sorted(expected - set(seen))
            assert not missing, f"client {n} missed {len(missing)} leads: {missing}"
            assert sorted(seen) == sorted(expected)  # each once

        # /metrics adds up both web processes (prometheus-client's multiprocess mode).
        scraped = httpx.get(
            f"{first_web.url}/metrics",
            headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
            timeout=10,
        ).text
        assert f"leadhub_webhooks_received_total {float(WEBHOOK_LEADS)}" in scraped
        assert "leadhub_socketio_connections 4.0" in scraped
        assert httpx.get(f"{second_web.url}/metrics", timeout=10).status_code == 403
    finally:
        for listener in listeners:
            listener.close()
        second_worker.stop()
        for web in (first_web, second_web):
            web.stop()

    # Production logs: one JSON object a line, and no person's name, email or phone in them.
    personal = {
        value
        for lead in leads
        for value in (lead.answer("full_name"), lead.answer("email"), lead.answer("phone_number"))
        if value
    }
    for process in (first_web, second_web, second_worker):
        lines = [line for line in process.output().splitlines() if line.strip()]
        assert lines and all(json.loads(line)["level"] for line in lines), process.summary()
        assert not [v for v in personal if v in process.output()], process.log_path.name
