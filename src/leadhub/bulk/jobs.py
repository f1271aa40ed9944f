"""The background job that works a bulk operation, one committed batch at a time."""

from __future__ import annotations

import logging
import time

from sqlalchemy.exc import OperationalError

from leadhub.bulk import batches
from leadhub.db import db
from leadhub.errors import N_
from leadhub.queue import huey

log = logging.getLogger(__name__)

LOCK_RETRIES = 5
LOCK_PAUSE = 0.5  # seconds, times the attempt


def run_operation(operation_id: int, *, batch_size: int = batches.BATCH_SIZE) -> None:
    """Work an operation to its end (safe to run twice: a finished one is left alone).

    Each batch commits on its own, so its progress shows at once and its events go out; an
    unexpected error ends the operation as failed, its unworked leads counted as failed.
    """
    with db.transaction() as session:
        operation = batches.get(session, operation_id=operation_id, lock=True)
        if operation.finished:
            return
        batches.begin(session, operation=operation)
    try:
        while _next_batch(operation_id, batch_size):
            pass
    except Exception:
        log.exception("bulk operation %s failed", operation_id)
        with db.transaction() as session:
            operation = batches.get(session, operation_id=operation_id, lock=True)
            batches.finish(
                session,
                operation=operation,
                error=N_("An unexpected error stopped the operation."),
            )


def _next_batch(operation_id: int, batch_size: int) -> bool:
    """Work and commit one batch; False when the operation is over.

    A batch that meets a busy database (SQLite's write lock held past its timeout, a deadlock
    on PostgreSQL) rolled back whole, so it is simply tried again after a pause.
    """
    for attempt in range(1, LOCK_RETRIES + 1):
        try:
            with db.transaction() as session:
                operation = batches.get(session, operation_id=operation_id, lock=True)
                if operation.finished:
                    return False
                worked = batches.work_batch(session, operation=operation, batch_size=batch_size)
                if not worked:
                    batches.finish(session, operation=operation)
                    log.info(
                        "bulk %s done: %s changed, %s skipped, %s failed",
                        operation_id,
                        operation.done,
                        operation.skipped,
                        operation.failed,
                    )
                return bool(worked)
        except OperationalError:
            if attempt == LOCK_RETRIES:
                raise
            log.warning("bulk %s: database busy, batch tried again (%s)", operation_id, attempt)
            time.sleep(attempt * LOCK_PAUSE)
    return False


@huey.task(name="bulk.run")
def run(operation_id: int) -> None:
    """Work one bulk operation in the background; the desk polls its progress."""
    run_operation(operation_id)
