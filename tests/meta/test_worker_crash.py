"""The worker killed with `kill -9` in the middle of a batch, then restarted: nothing lost, nothing
doubled.

Real processes: `leadhub worker` works the job queue in instance/jobs.db (the SQLite queue of a
setup without REDIS_URL; Redis would lose a dequeued job the same way) against a database of its
own, and fetches the leads from the Meta simulator served on a real port. This test process plays
Meta: it delivers signed webhooks to the real endpoint, which stores the inbox rows and queues one
job each, and it serves the simulator.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, func, select

from leadhub import queue
from leadhub.app import create_app
from leadhub.db import db, utcnow
from leadhub.distributors.models import Distributor
from leadhub.leads.models import Lead
from leadhub.meta import jobs
from leadhub.meta import service as meta
from leadhub.meta.models import InboxStatus, WebhookEvent
from leadhub.migrate import upgrade
from leadhub.queue import huey
from leadhub.simulator import Faults, World, build_payload, sign
from leadhub.simulator import create_app as create_simulator
from tests.meta.processes import Gate, Worker, fresh_database, serve, wait_for

VERSION = "v27.0"
BATCH = 100
RECONCILE_AFTER = 1  # seconds (META_RECONCILE_AFTER); two minutes by default


@dataclass
class Site:
    """LeadHub's side (app, database, queue) and Meta's (world, faults, gate) for one test."""

    app: Any
    world: World
    faults: Faults
    gate: Gate
    reader: Engine
    worker_env: dict[str, str]
    folder: Path
    workers: list[Worker] = field(default_factory=list)

    def start_worker(self) -> Worker:
        log = self.folder / f"worker-{len(self.workers) + 1}.log"
        worker = Worker(self.worker_env, log, "--workers", "4", "--no-periodic")
        self.workers.append(worker)
        return worker

    def inbox(self) -> dict[str, int]:
        """Inbox rows per status, read from outside the worker as an operator would."""
        stmt = select(WebhookEvent.status, func.count()).group_by(WebhookEvent.status)
        with self.reader.connect() as conn:
            return {str(status): n for status, n in conn.execute(stmt)}

    def done(self) -> int:
        return self.inbox().get(InboxStatus.DONE.value, 0)

    def newest_pending(self) -> Any:
        stmt = select(func.max(WebhookEvent.received_at)).where(
            WebhookEvent.status == InboxStatus.PENDING
        )
        with self.reader.connect() as conn:
            return conn.scalar(stmt)


@pytest.fixture
def site(app, database_url, db_session, tmp_path):
    """A database of its own with a connected Page, a live simulator, jobs in a queue file."""
    url = fresh_database(database_url, tmp_path, "leadhub_crash")
    upgrade(url)
    world = World.seed_default(pages=1, forms_per_page=2, seed=11)
    faults = Faults(world, seed=11)
    gate = Gate(create_simulator(world, version=VERSION, faults=faults))
    previous_engine = db.engine
    previous_queue = (huey.storage_class, huey.storage_kwargs)
    reader = create_engine(url)
    workers: list[Worker] = []
    try:
        with serve(gate) as graph_url:
            crash_app = create_app(
                {
                    "DATABASE_URL": url,
                    "TESTING": True,
                    "INSTANCE_PATH": str(tmp_path / "instance"),
                    "META_APP_ID": world.app_id,
                    "META_APP_SECRET": world.app_secret,
                    "META_GRAPH_URL": graph_url,
                    "META_GRAPH_VERSION": VERSION,
                    "RATELIMIT_STORAGE_URI": "memory://",
                }
            )
            # As in production: the webhook only queues; a `leadhub worker` does the jobs.
            queue.configure({**crash_app.config, "TESTING": False})
            with crash_app.app_context(), db.transaction() as session:
                distributor = Distributor(name="Istanbul Smile", country="TR")
                session.add(distributor)
                session.flush()
                page = world.pages()[0]
                graph = meta.graph_client(session, crash_app.config)
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
            worker_env = {
                **{
                    name: value
                    for name, value in os.environ.items()
                    if not name.startswith(("LEADHUB_", "META_", "DATABASE_URL", "REDIS_URL"))
                },
                "LEADHUB_INSTANCE_PATH": crash_app.config["INSTANCE_PATH"],
                "DATABASE_URL": url,
                "SECRET_KEY": crash_app.config["SECRET_KEY"],
                "LEADHUB_ENCRYPTION_KEY": crash_app.config["LEADHUB_ENCRYPTION_KEY"],
                "META_APP_ID": world.app_id,
                "META_APP_SECRET": world.app_secret,
                "META_GRAPH_URL": graph_url,
                "META_GRAPH_VERSION": VERSION,
                "META_RECONCILE_AFTER": str(RECONCILE_AFTER),
                "PYTHONUNBUFFERED": "1",
            }
            site = Site(crash_app, world, faults, gate, reader, worker_env, tmp_path, workers)
            try:
                yield site
            finally:
                for worker in workers:
                    worker.kill()
                gate.open()
    finally:
        if not huey.immediate:
            huey.storage.close()
        huey.immediate = True
        huey.storage_class, huey.storage_kwargs = previous_queue
        crash_engine, db.engine = db.engine, previous_engine
        db.session.remove()
        db.session.configure(bind=previous_engine)
        if crash_engine is not previous_engine:
            crash_engine.dispose()
        reader.dispose()


def deliver(site: Site, leads: list[Any]) -> None:
    """One signed webhook per lead, to the real endpoint: inbox rows stored, jobs queued."""
    client = site.app.test_client()
    for lead in leads:
        body = build_payload([lead])
        response = client.post(
            "/api/v1/meta/webhook",
            data=body,
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": sign(body, site.world.app_secret),
            },
        )
        assert response.status_code == 200 and response.json == {"received": 1, "queued": 1}
    assert queue.flush_enqueued()  # the endpoint hands its jobs to the queue in the background


def test_a_worker_killed_mid_batch_loses_nothing_and_doubles_nothing(site):
    leads = site.world.add_leads(BATCH)
    deliver(site, leads)
    assert huey.pending_count() == BATCH
    assert site.inbox() == {"pending": BATCH}

    # A slow Meta keeps the first worker mid-batch. Once some leads are in, the Graph calls
    # that follow are held at the door, so jobs are surely in flight when the worker dies.
    site.faults.latency_ms = 40
    first = site.start_worker()
    wait_for(lambda: site.done() >= 10, what="the first worker's first leads", workers=[first])
    site.gate.close()
    wait_for(lambda: site.gate.held >= 1, what="a Graph call in flight", workers=[first])
    first.kill()
    site.gate.open()
    site.faults.latency_ms = 0

    done_at_kill = site.done()
    in_flight = BATCH - done_at_kill - huey.pending_count() - huey.scheduled_count()
    assert 0 < done_at_kill < BATCH
    assert in_flight >= 1  # taken off the queue by the dead worker, never finished
    assert site.inbox() == {"done": done_at_kill, "pending": BATCH - done_at_kill}

    # The new worker does what is still queued; the jobs the dead one held died with it.
    second = site.start_worker()
    wait_for(
        lambda: huey.pending_count() == 0 and site.done() == BATCH - in_flight,
        what="the second worker to empty the queue",
        workers=[second],
    )
    assert site.inbox() == {"done": BATCH - in_flight, "pending": in_flight}

    # The reconciler, as the schedule runs it, queues again the rows pending for too long.
    wait_until = site.newest_pending() + timedelta(seconds=RECONCILE_AFTER)
    time.sleep(max(0.0, (wait_until - utcnow()).total_seconds()) + 0.1)
    jobs.reconcile_inbox()  # queued for the worker: this process's queue is not immediate
    wait_for(lambda: site.done() == BATCH, what="the reconciled rows' leads", workers=[second])
    second.stop()

    with site.reader.connect() as conn:
        per_leadgen_id = dict(
            conn.execute(select(Lead.meta_lead_id, func.count()).group_by(Lead.meta_lead_id)).all()
        )
        leadgen_id_of_lead = dict(conn.execute(select(Lead.id, Lead.meta_lead_id)).all())
        events = conn.execute(
            select(
                WebhookEvent.leadgen_id,
                WebhookEvent.status,
                WebhookEvent.lead_id,
                WebhookEvent.attempts,
            )
        ).all()
    # every leadgen id became exactly one lead, and no lead is doubled
    assert per_leadgen_id == {lead.id: 1 for lead in leads}
    # every inbox row is done and points at the lead of its own leadgen id
    assert len(events) == BATCH
    assert {event.status for event in events} == {InboxStatus.DONE}
    assert all(leadgen_id_of_lead[event.lead_id] == event.leadgen_id for event in events)
    # no lead without its inbox row
    assert sorted(event.lead_id for event in events) == sorted(leadgen_id_of_lead)
    # the killed tries left nothing behind: each row counts the one try that finished
    assert {event.attempts for event in events} == {1}
    assert "Traceback" not in second.output(), second.summary()
