"""Background jobs for Meta: process an inbox row, and re-queue rows left behind."""

from __future__ import annotations

import logging

from flask import current_app
from huey.exceptions import RetryTask

from leadhub.db import db
from leadhub.meta import service
from leadhub.queue import huey, periodic

log = logging.getLogger(__name__)


@huey.task(retries=6, retry_delay=15, name="meta.process_event")
def process_event(event_id: int) -> None:
    """Fetch and ingest the lead of one inbox row (safe to run twice)."""
    from leadhub.meta.graph import RateLimited

    with db.transaction() as session:
        graph = service.graph_client(session, current_app.config)
        try:
            service.process_event(session, event_id=event_id, graph=graph)
        except RateLimited as exc:
            # calling again while Meta blocks us makes the block longer: come back when told
            raise RetryTask(delay=max(exc.retry_after or 60, 1)) from exc
        finally:
            graph.close()


@periodic("meta.reconcile_inbox")
def reconcile_inbox() -> None:
    """Queue again the inbox rows that are still pending after two minutes."""
    with db.transaction() as session:
        stale = service.stale_pending(session)
    for event_id in stale:
        process_event(event_id)
    if stale:
        log.info("re-queued %s pending inbox rows", len(stale))
