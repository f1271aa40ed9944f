"""The background job that works a bulk operation, in batches committed one after another."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import partial
from typing import TypeVar

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from leadhub.bulk import batches
from leadhub.bulk.actions import round_robin
from leadhub.bulk.batches import Pending
from leadhub.bulk.models import BulkOperation
from leadhub.bulk.rows import Batch
from leadhub.db import db
from leadhub.errors import N_
from leadhub.queue import huey
from leadhub.writers import OrderedWriters, Stop

log = logging.getLogger(__name__)

LOCK_RETRIES = 5
LOCK_PAUSE = 0.5  # seconds, times the attempt
T = TypeVar("T")


class _TurnsMoved(Exception):
    """The round robin's turns before the batch were not those passed on: work it again."""


class _Writers(OrderedWriters):
    """Works batches in operation order (leadhub.writers): locks a batch's leads and writes what
    only it touches (leads, audit, timeline, items) beside the other writer, then, at its turn
    and holding the operation's row, adds to the shared rows (status counts, progress).

    A round robin's batch takes its turns from the batch before as soon as that one has locked
    its leads (and so knows which take a turn), and passes its own on in the same way.
    A batch commits only while the operation is unfinished, its progress is where this batch
    starts and its turns are those the batch before committed. An operation that may create a
    tag has one writer: two batches creating it would each wait for the other to commit.
    """

    def __init__(self, operation: BulkOperation, *, side_by_side: bool) -> None:
        self.operation_id = operation.id
        super().__init__(f"bulk-{operation.id}", side_by_side=side_by_side)
        self.passed[0] = dict(operation.state.get("turns", {}))  # the first batch's: as found

    def write(self, seq: int, pending: Pending) -> None:
        """Commit batch `seq`; a round robin's batch whose turns proved wrong (the batch before
        was worked again on leads changed meanwhile) rolled back whole and is worked again at
        its turn, on the turns the batch before committed.
        """
        try:
            _retrying(self.operation_id, partial(self._commit, seq, pending))
        except _TurnsMoved:
            _retrying(self.operation_id, partial(self._commit, seq, pending, again=True))

    def _commit(self, seq: int, pending: Pending, *, again: bool = False) -> None:
        """Work batch `seq`, wait for the one before to commit, record it and commit."""
        with self.database, db.transaction() as session:
            operation = batches.get(session, operation_id=self.operation_id)
            batch = None
            if pending.items:
                batch = batches.lock_batch(session, operation=operation, pending=pending)
                before, after = self._take_turns(session, seq, batch, again=again)
                batches.work_batch(session, batch=batch, ids=pending.ids)
            self.wait_for_turn(seq)
            operation = batches.get(session, operation_id=self.operation_id, lock=True)
            if operation.finished or operation.last_lead_id != pending.after:
                raise Stop
            if batch is None:
                batches.finish(session, operation=operation)
                _log_done(operation)
                return
            committed = operation.state.get("turns", {})
            if round_robin(operation) and committed != before:
                # Most likely the next batch has not taken its turns yet: correct them at once,
                # or it too would be worked again, and so on to the operation's end.
                self.pass_on(seq, _moved(committed, by=after, since=before))
                raise _TurnsMoved
            batches.record(session, operation=operation, batch=batch, last=pending.ids[-1])

    def _take_turns(
        self, session: Session, seq: int, batch: Batch, *, again: bool
    ) -> tuple[dict[str, int], dict[str, int]]:
        """Start locked batch `seq` from the round robin's turns the batch before passed on
        (`again`: those it committed) and pass on the turns after it; both.
        """
        turns = dict(batch.operation.state.get("turns", {}))  # as committed when read
        if not round_robin(batch.operation):
            batch.turns = dict(turns)
            return turns, turns
        if not again:
            turns = dict(self.passed_on(seq))
        batch.turns = dict(turns)  # the assignment advances these
        after = batches.turns_after(session, batch=batch)
        self.pass_on(seq, after)
        return turns, after


def _moved(turns: dict[str, int], *, by: dict[str, int], since: dict[str, int]) -> dict[str, int]:
    """`turns` moved on as much as `since` moved to `by`."""
    moved = {key: turns.get(key, 0) + by.get(key, 0) - since.get(key, 0) for key in {*turns, *by}}
    return {key: turn for key, turn in moved.items() if turn}


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
    """Read the pending items in lead order and hand them out in batches to the writers."""
    writers = _Writers(operation, side_by_side=batches.side_by_side(operation))

    def next_batch(after: int) -> Pending:
        with writers.database, db.transaction() as session:
            items = batches.next_pending(
                session, operation_id=operation.id, after=after, batch_size=batch_size
            )
            return Pending(items=items, after=after)

    try:
        seq = 0
        pending = _retrying(operation.id, partial(next_batch, operation.last_lead_id))
        while writers.hand(seq, pending) and pending.items:
            pending = _retrying(operation.id, partial(next_batch, pending.ids[-1]))
            seq += 1
    finally:  # a failure here still lets the batches already handed out be written
        error = writers.close()
    if error is not None:
        raise error


@huey.task(name="bulk.run")
def run(operation_id: int) -> None:
    """Work one bulk operation in the background; the desk polls its progress."""
    run_operation(operation_id)
