"""Background jobs for Meta: process an inbox row, and re-queue rows left behind."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from huey.exceptions import RetryTask

from leadhub.db import db
from leadhub.meta import service
from leadhub.queue import huey, periodic

log = logging.getLogger(__name__)


@huey.task(retries=6, retry_delay=15, name="meta.process_event")
def process_event(event_id: int) -> None:
    """Fetch and ingest the lead of one inbox row (safe to run twice).

    Meta is asked between two short transactions: a slow Graph API holds no database lock
    (on SQLite that would be the one write lock every other writer waits for).
    """
    from leadhub.meta.graph import RateLimited

    with db.transaction() as session:
        fetch = service.lead_fetch(session, event_id=event_id)
        graph = service.graph_client(session, current_app.config) if fetch else None
    if fetch is None or graph is None:
        return
    try:
        fetched = service.fetch_lead(graph, fetch)
    except RateLimited as exc:
        # calling again while Meta blocks us makes the block longer: come back when told
        raise RetryTask(delay=max(exc.retry_after or 60, 1)) from exc
    finally:
        graph.close()
    with db.transaction() as session:
        service.settle(session, fetch=fetch, fetched=fetched)


@huey.task(retries=3, retry_delay=60, name="meta.poll_form")
def poll_form(form_id: int) -> None:
    """Read one form's recent leads from Meta and ingest the ones not here yet."""
    from leadhub.meta.graph import RateLimited, TokenInvalid
    from leadhub.meta.models import LeadForm

    with db.transaction() as session:
        form = session.get(LeadForm, form_id)
        if form is None:
            return
        graph = service.graph_client(session, current_app.config)
        try:
            result = service.sync_form(
                session, form=form, graph=graph, since=service.poll_since(form)
            )
        except TokenInvalid as exc:
            service.mark_needs_reauth(session, connection=form.page_connection, reason=str(exc))
            return
        except RateLimited as exc:
            raise RetryTask(delay=max(exc.retry_after or 60, 1)) from exc
        finally:
            graph.close()
    if result.created:
        log.info(
            "poll of form %s found %s leads the webhooks had not brought", form_id, result.created
        )


@periodic("meta.poll_forms")
def poll_forms() -> None:
    """Queue a poll of every active form."""
    with db.transaction() as session:
        form_ids = [form.id for form in service.active_forms(session)]
    for form_id in form_ids:
        poll_form(form_id)


@periodic("meta.reconcile_inbox")
def reconcile_inbox() -> None:
    """Queue again the inbox rows still pending after META_RECONCILE_AFTER (two minutes)."""
    older_than = timedelta(seconds=current_app.config["META_RECONCILE_AFTER"])
    with db.transaction() as session:
        stale = service.stale_pending(session, older_than=older_than)
    for event_id in stale:
        process_event(event_id)
    if stale:
        log.info("re-queued %s pending inbox rows", len(stale))
