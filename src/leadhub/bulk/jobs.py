"""The background job that works a bulk operation, in batches committed one after another."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import TypeVar

from sqlalchemy.exc import OperationalError

from leadhub.bulk import batches
from leadhub.bulk.batches import Pending
from leadhub.bulk.models import BulkOperation
from leadhub.db import db
from leadhub.errors import N_
from leadhub.queue import huey
from leadhub.writers import OrderedWriters, Stop

log = logging.getLogger(__name__)

LOCK_RETRIES = 5
LOCK_PAUSE = 0.5  # seconds, times the attempt
T = TypeVar("T")


class _Unforeseen(Exception):
    """The round robin's turns before the batch were not those foreseen: work it again."""


class _Writers(OrderedWriters):
    """Works batches in operation order (leadhub.writers): locks a batch's leads and writes what
    only it touches (leads, audit, timeline, items) beside the other writer, then, at its turn
    and holding the operation's row, adds to the shared rows (status counts, progress).

    A batch commits only while the operation is unfinished and its progress is where this batch
    starts. An operation that may create a tag has one writer: two batches creating it would
    each wait for the other to commit.
    """

    def __init__(self, operation_id: int, *, side_by_side: bool) -> None:
        self.operation_id = operation_id
        super().__init__(f"bulk-{operation_id}", side_by_side=side_by_side)

    def write(self, seq: int, pending: Pending) -> None:
        """Commit batch `seq`; a batch whose round-robin turns were foreseen wrongly rolled
        back whole and is worked again at its turn, on the turns the batch before committed.
        """
        try:
            _retrying(self.operation_id, partial(self._commit, seq, pending))
        except _Unforeseen:
            _retrying(self.operation_id, partial(self._commit, seq, replace(pending, turns=None)))

    def _commit(self, seq: int, pending: Pending) -> None:
        """Work batch `seq`, wait for the one before to commit, record it and commit."""
        with self.database, db.transaction() as session:
            operation = batches.get(session, operation_id=self.operation_id)
            if pending.turns is None:
                pending = replace(pending, turns=dict(operation.state.get("turns", {})))
            batch = None
            if pending.items:
                batch = batches.work_batch(session, operation=operation, pending=pending)
            self.wait_for_turn(seq)
            operation = batches.get(session, operation_id=self.operation_id, lock=True)
            if operation.finished or operation.last_lead_id != pending.after:
                raise Stop
            if batch is None:
                batches.finish(session, operation=operation)
                _log_done(operation)
                return
            if batches.round_robin(operation) and operation.state.get("turns", {}) != pending.turns:
                raise _Unforeseen
            batches.record(session, operation=operation, batch=batch, last=pending.ids[-1])


def _retrying(operation_id: int, work: Callable[[], T]) -> T:
    """Run `work` (one transaction), again after a pause when it met a busy database.

    SQLite's write lock held past its timeout, or a deadlock on PostgreSQL, rolled the
    transaction back whole, so it is simply tried again.
    """
    for attempt in range(1, LOCK_RETRIES):
        try:
            return work()
        except OperationalError:
            log.warning("bulk %s: database busy, tried again (%s)", operation_id, attempt)
            time.sleep(attempt * LOCK_PAUSE)
    return work()


def _log_done(operation: BulkOperation) -> None:
    log.info(
        "bulk %s done: %s changed, %s skipped, %s failed",
        operation.id,
        operation.done,
        operation.skipped,
        operation.failed,
    )


def run_operation(operation_id: int, *, batch_size: int = batches.BATCH_SIZE) -> None:
    """Work an operation to its end (safe to run twice: a finished one is left alone).

    Each batch commits on its own, so its progress shows at once; the events go out after the
    last. An unexpected error ends the operation as failed, its unworked leads counted as failed.
    """
    with db.transaction() as session:
        operation = batches.get(session, operation_id=operation_id, lock=True)
        if operation.finished:
            return
        batches.begin(session, operation=operation)
    try:
        _hand_out(operation, batch_size)
    except Exception:
        log.exception("bulk operation %s failed", operation_id)
        with db.transaction() as session:
            operation = batches.get(session, operation_id=operation_id, lock=True)
            if not operation.finished:
                batches.finish(
                    session,
                    operation=operation,
                    error=N_("An unexpected error stopped the operation."),
                )


def _hand_out(operation: BulkOperation, batch_size: int) -> None:
    """Read the pending items in lead order and hand them out in batches to the writers.

    This thread also foresees each batch's round-robin turns from the leads before it, so a
    batch is worked before the one ahead of it has committed its turns.
    """
    writers = _Writers(operation.id, side_by_side=batches.side_by_side(operation))

    def next_batch(after: int, turns: dict[str, int]) -> Pending:
        with writers.database, db.transaction() as session:
            items = batches.next_pending(
                session, operation_id=operation.id, after=after, batch_size=batch_size
            )
            pending = Pending(items=items, after=after, turns=turns)
            if items:
                following = batches.turns_after(session, operation=operation, pending=pending)
                pending = replace(pending, following=following)
            return pending

    try:
        seq = 0
        first = partial(next_batch, operation.last_lead_id, dict(operation.state.get("turns", {})))
        pending = _retrying(operation.id, first)
        while writers.hand(seq, pending) and pending.items:
            pending = _retrying(
                operation.id, partial(next_batch, pending.ids[-1], pending.following)
            )
            seq += 1
    finally:  # a failure here still lets the batches already handed out be written
        error = writers.close()
    if error is not None:
        raise error


@huey.task(name="bulk.run")
def run(operation_id: int) -> None:
    """Work one bulk operation in the background; the desk polls its progress."""
    run_operation(operation_id)
