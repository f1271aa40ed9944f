"""Group commit of the webhook inbox, and jobs handed to the queue together."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from sqlalchemy import func, select, text

from leadhub import queue
from leadhub.meta import inbox, jobs
from leadhub.meta import service as meta
from leadhub.meta.models import InboxStatus, WebhookEvent
from tests.meta.conftest import PAGE_ID


def change(leadgen_id: str, page_id: str = PAGE_ID) -> dict[str, str | None]:
    return {"leadgen_id": leadgen_id, "page_id": page_id, "form_id": None, "ad_id": None}


@pytest.fixture
def queued(monkeypatch):
    """The inbox rows whose job was queued (tests run jobs at once: here, noted instead)."""
    noted: list[tuple[int, str]] = []
    monkeypatch.setattr(
        jobs,
        "process_event",
        lambda event_id: noted.append((event_id, threading.current_thread().name)),
    )
    return noted


def test_deliveries_arriving_together_store_each_lead_once(app, db_session, page, queued):
    writer = inbox.InboxWriter()
    start = threading.Barrier(12)
    # 12 deliveries at once: leads 1-10, lead 5 a second time, and one for an unknown Page
    deliveries = [[change(str(n))] for n in range(1, 11)]
    deliveries += [[change("5")], [change("99", page_id="1")]]

    def deliver(changes):
        with app.app_context():
            start.wait()
            return writer.record(changes)

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(deliver, deliveries))
    ids = [event_id for answer in answers for event_id in answer]
    assert len(ids) == len(set(ids)) == 10  # lead 5 queued once; the orphan not at all
    assert answers[-1] == []
    statuses = dict(
        db_session.execute(
            select(WebhookEvent.status, func.count()).group_by(WebhookEvent.status)
        ).all()
    )
    assert statuses == {InboxStatus.PENDING: 10, InboxStatus.ORPHAN: 1}
    # each new row's job queued once, by the writer, before its delivery was answered
    assert sorted(event_id for event_id, _thread in queued) == sorted(ids)
    assert {thread for _event_id, thread in queued} == {"inbox-writer"}


def test_a_delivery_with_several_changes_gets_the_ids_of_its_new_rows(
    app, db_session, page, queued
):
    writer = inbox.InboxWriter()
    with app.app_context():
        ids = writer.record([change("7"), change("8"), change("7")])
        stored = db_session.scalars(select(WebhookEvent.id).order_by(WebhookEvent.leadgen_id)).all()
        assert sorted(ids) == sorted(stored) and len(ids) == 2
        assert writer.record([change("8")]) == []  # Meta delivering it again queues nothing
    assert sorted(event_id for event_id, _thread in queued) == sorted(ids)


def test_a_failed_write_fails_its_deliveries_and_the_writer_goes_on(
    app, db_session, page, monkeypatch, queued
):
    writer = inbox.InboxWriter()
    real = meta.record_new

    def broken(connection, changes, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(meta, "record_new", broken)
    with app.app_context():
        with pytest.raises(RuntimeError, match="went away"):
            writer.record([change("11")])
        assert queued == []
        monkeypatch.setattr(meta, "record_new", real)
        assert len(writer.record([change("11")])) == 1
    assert len(queued) == 1


def test_jobs_that_cannot_be_queued_leave_their_rows_pending_for_the_reconcile(
    app, db_session, page, monkeypatch, caplog
):
    def unreachable(event_id):
        raise ConnectionError("the queue is down")

    monkeypatch.setattr(jobs, "process_event", unreachable)
    with app.app_context():
        ids = inbox.InboxWriter().record([change("21")])
    assert len(ids) == 1  # the delivery is stored and answered all the same
    row = db_session.get(WebhookEvent, ids[0])
    assert row.status is InboxStatus.PENDING
    assert "reconcile will" in caplog.text


REDIS_URL = os.environ.get("LEADHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_huey(monkeypatch):
    """A Huey on Redis under a name of its own, as the production queue runs."""
    import redis
    from huey import RedisHuey

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError:
        pytest.skip("no Redis on this machine")
    on_redis = RedisHuey("leadhub-test-handoff", url=REDIS_URL, results=False)
    on_redis.flush()
    monkeypatch.setattr(queue, "huey", on_redis)
    yield on_redis
    on_redis.flush()


def test_jobs_handed_over_together_reach_redis_in_one_push_in_order(redis_huey):
    seen = []

    @redis_huey.task(name="test.note")
    def note(number):
        seen.append(number)

    queue._push([(note, (n,)) for n in range(1, 6)])
    assert redis_huey.pending_count() == 5
    while (task := redis_huey.dequeue()) is not None:
        redis_huey.execute(task)
    assert seen == [1, 2, 3, 4, 5]  # the order a push per job would have given


def test_the_writer_commits_on_a_connection_of_its_own_and_replaces_a_broken_one(
    app, committed, queued
):
    """As in production, sessions bind to the engine (no test transaction around them): each
    batch is committed as it is written, on the writer's own connection."""
    from leadhub.extensions import db

    leadgen_ids = ["9100000000031", "9100000000032", "9100000000033"]
    writer = inbox.InboxWriter()

    def stored() -> set[str]:
        with db.engine.connect() as other:  # another connection sees only what was committed
            found = other.scalars(
                select(WebhookEvent.leadgen_id).where(WebhookEvent.leadgen_id.in_(leadgen_ids))
            )
            return set(found)

    try:
        with app.app_context():
            assert writer.record([change(leadgen_ids[0], page_id="1")]) == []  # an orphan
            assert stored() == {leadgen_ids[0]}
            writer._connection.invalidate()  # as when SQLAlchemy finds it broken
            writer.record([change(leadgen_ids[1], page_id="1")])
            assert stored() == set(leadgen_ids[:2])
            if db.engine.dialect.name == "postgresql":  # the server ends the writer's session
                backend = writer._connection.connection.driver_connection.info.backend_pid
                with db.engine.connect() as admin:
                    admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
                with pytest.raises(psycopg.OperationalError):
                    writer.record([change(leadgen_ids[2], page_id="1")])  # Meta will retry
                writer.record([change(leadgen_ids[2], page_id="1")])
                assert stored() == set(leadgen_ids)
    finally:
        with db.engine.begin() as cleanup:
            cleanup.execute(
                WebhookEvent.__table__.delete().where(WebhookEvent.leadgen_id.in_(leadgen_ids))
            )
