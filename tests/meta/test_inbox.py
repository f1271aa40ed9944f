"""Group commit of the webhook inbox, and jobs handed to the queue together."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from leadhub import queue
from leadhub.meta import inbox
from leadhub.meta import service as meta
from leadhub.meta.models import InboxStatus, WebhookEvent
from tests.meta.conftest import PAGE_ID


def change(leadgen_id: str, page_id: str = PAGE_ID) -> dict[str, str | None]:
    return {"leadgen_id": leadgen_id, "page_id": page_id, "form_id": None, "ad_id": None}


def test_deliveries_arriving_together_store_each_lead_once(db_session, page):
    writer = inbox.InboxWriter()
    start = threading.Barrier(12)
    # 12 deliveries at once: leads 1-10, lead 5 a second time, and one for an unknown Page
    deliveries = [[change(str(n))] for n in range(1, 11)]
    deliveries += [[change("5")], [change("99", page_id="1")]]

    def deliver(changes):
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


def test_a_delivery_with_several_changes_gets_the_ids_of_its_new_rows(db_session, page):
    writer = inbox.InboxWriter()
    ids = writer.record([change("7"), change("8"), change("7")])
    stored = db_session.scalars(select(WebhookEvent.id).order_by(WebhookEvent.leadgen_id)).all()
    assert sorted(ids) == sorted(stored) and len(ids) == 2
    assert writer.record([change("8")]) == []  # Meta delivering it again queues nothing


def test_a_failed_write_fails_its_deliveries_and_the_writer_goes_on(db_session, page, monkeypatch):
    writer = inbox.InboxWriter()
    real = meta.record_new

    def broken(session, changes, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(meta, "record_new", broken)
    with pytest.raises(RuntimeError, match="went away"):
        writer.record([change("11")])
    monkeypatch.setattr(meta, "record_new", real)
    assert len(writer.record([change("11")])) == 1


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
