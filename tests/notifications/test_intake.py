"""From Meta's webhook to the managers' bell and outbox: the whole path, jobs run at once."""

from __future__ import annotations

from sqlalchemy import select

from leadhub.notifications.models import Kind, Notification, OutboxMessage
from tests.meta.conftest import lead_payload
from tests.meta.test_webhook import SAMPLE_BODY, post


def test_a_lead_from_a_webhook_reaches_the_managers(
    client, meta_app, page, graph, db_session, users
):
    for leadgen_id in ("1290384756102938", "1290384756102939"):
        graph.leads[leadgen_id] = lead_payload(leadgen_id)
    assert post(client, SAMPLE_BODY).status_code == 200
    notes = list(
        db_session.scalars(select(Notification).where(Notification.user_id == users["manager"].id))
    )
    assert {n.kind for n in notes} == {Kind.HOT_LEAD} and len(notes) == 2
    mails = list(
        db_session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient_id == users["manager"].id)
        )
    )
    assert len(mails) == 2


def test_events_wait_for_the_real_commit_not_a_savepoint(db_session):
    """A lead stored inside a SAVEPOINT (as intake does) is announced only once the whole
    transaction commits; earlier, another connection could not even read it."""
    from leadhub import events

    heard: list[object] = []
    events.subscribe(events.LeadCreated, heard.append)
    try:
        with db_session.begin_nested():
            events.emit(db_session, events.LeadCreated(1, 1))
        assert heard == []
        db_session.commit()
        assert heard == [events.LeadCreated(1, 1)]
    finally:
        events._subscribers[events.LeadCreated].remove(heard.append)


def test_a_burst_of_events_is_handled_as_one_batch_off_the_callers_thread(app, monkeypatch):
    import threading

    from leadhub import events
    from leadhub.notifications import triggers

    batches: list[list[object]] = []
    done = threading.Event()

    def record(batch: list[object]) -> None:
        batches.append(batch)
        done.set()

    monkeypatch.setattr(triggers, "handle_lead_events", record)
    batcher = triggers.Batcher(app, wait=0.5, inline=False)
    burst = [events.LeadCreated(n, 1) for n in range(5)]
    for domain_event in burst:
        batcher.submit(domain_event)
    assert done.wait(10)
    assert batches == [burst]
