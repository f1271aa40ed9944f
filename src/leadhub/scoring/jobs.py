"""Background jobs for scoring: rescore in batches with progress, and keep freshness true."""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy.engine import Connection

from leadhub.db import db
from leadhub.queue import huey, periodic
from leadhub.scoring import batch, service
from leadhub.scoring.batch import Scored

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (done, total)
# Threads writing batches on PostgreSQL, each on a connection of its own: the database's work
# (every index of every updated lead) is most of a rescore, and it spreads over cores.
# SQLite has one writer at a time, so one thread writes there.
POSTGRESQL_WRITERS = 2
STOP = object()  # tells a writer thread to end


class _Stop(Exception):
    """The batch must not be committed: the run ended, or another worker took it further."""


class _Superseded(_Stop):
    """The batch must not be committed: a newer rule-set version is in force."""


class _Writers:
    """Writes scored batches on writer threads, each in a transaction of its own, in run order.

    The job's own thread reads and scores the next batch meanwhile (pure Python). The lead
    updates of several batches run at once; each batch then waits for the one before it to
    commit, and only then records its progress on the run (holding the run's row) and commits.
    So progress always covers a gapless prefix of the run, and a run cut off midway goes on
    after its last committed batch. A batch is committed only while the run is unfinished, its
    version still in force and its progress where this batch starts (no other worker went on).
    When the session is bound to one connection (an enclosing transaction), there is one writer
    and the two threads take turns on that connection (`database`).
    """

    def __init__(self, run_id: int, version: int, progress: Progress | None) -> None:
        bind = db.session().get_bind()
        shared = isinstance(bind, Connection)
        self.count = 1 if shared or bind.dialect.name != "postgresql" else POSTGRESQL_WRITERS
        self.database: Any = threading.Lock() if shared else contextlib.nullcontext()
        self.run_id, self.version, self.progress = run_id, version, progress
        self.batches: queue.Queue[Any] = queue.Queue(maxsize=self.count)
        self.turn = 0  # the sequence number of the next batch to commit
        self.in_order = threading.Condition()
        self.stopped = threading.Event()
        self.error: BaseException | None = None
        self.app = current_app._get_current_object() if has_app_context() else None
        self.threads = [
            threading.Thread(target=self._work, name=f"rescore-{run_id}-writer-{n}", daemon=True)
            for n in range(self.count)
        ]
        for thread in self.threads:
            thread.start()

    def hand(self, seq: int, scored: Scored | None) -> bool:
        """Queue batch `seq` (None: the run's end); False once writing has stopped."""
        while not self.stopped.is_set():
            try:
                self.batches.put((seq, scored), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def close(self) -> BaseException | None:
        """Let the writers store what was handed to them and end; a writer's error, if any."""
        for _ in self.threads:
            self.batches.put(STOP)
        for thread in self.threads:
            thread.join()
        return self.error

    def _stop(self) -> None:
        self.stopped.set()
        with self.in_order:
            self.in_order.notify_all()

    def _work(self) -> None:
        context = self.app.app_context() if self.app is not None else contextlib.nullcontext()
        with context:
            while (handed := self.batches.get()) is not STOP:
                if self.stopped.is_set():
                    continue  # drained without writing: the run no longer goes on here
                try:
                    self._write(*handed)
                except _Stop:
                    self._stop()
                except BaseException as error:  # handed to the job's thread, which raises it
                    self.error = self.error or error
                    self._stop()

    def _write(self, seq: int, scored: Scored | None) -> None:
        with self.database:
            try:
                done, total, changed = self._commit(seq, scored)
            except _Superseded:  # the batch's writes were rolled back; the run says why
                with db.transaction() as session:
                    run = service.get_run(session, run_id=self.run_id, lock=True)
                    batch.superseded(session, run=run)
                raise
        if self.progress:
            self.progress(done, total)
        with self.in_order:
            self.turn = seq + 1
            self.in_order.notify_all()
        if scored is None:
            log.info("rescore %s done: %s leads, %s changed", self.run_id, done, changed)

    def _commit(self, seq: int, scored: Scored | None) -> tuple[int, int, int]:
        """Write batch `seq`, wait for the one before to commit, record progress and commit."""
        with db.transaction() as session:
            if scored is not None:
                batch.write_scores(session, scored.rows, self.version)
            with self.in_order:
                self.in_order.wait_for(lambda: self.turn == seq or self.stopped.is_set())
            if self.stopped.is_set():
                raise _Stop
            run = service.get_run(session, run_id=self.run_id, lock=True)
            if run.finished or (scored is not None and run.last_lead_id != scored.after):
                raise _Stop
            if service.active_rules(session).version != run.rule_set_version:
                raise _Superseded
            if scored is None:
                batch.finish(session, run=run)
            else:
                batch.record(run, scored)
            return run.done, max(run.total, run.done), run.changed


def run_rescore(
    run_id: int, *, progress: Progress | None = None, batch_size: int = batch.BATCH_SIZE
) -> None:
    """Work a rescore run to its end, one committed batch at a time (safe to run twice).

    This thread reads and scores; _Writers writes, several batches at once on PostgreSQL.
    """
    with db.transaction() as session:
        run = service.get_run(session, run_id=run_id)
        if run.finished:
            return
        batch.begin(session, run=run)
        rules = service.rules_of(service.get_rule_set(session, version=run.rule_set_version))
        after = run.last_lead_id
    writers = _Writers(run_id, rules.version, progress)

    def fetch(after: int) -> batch.Fetched | None:
        with writers.database, db.transaction() as session:
            return batch.fetch_next(session, run=run, after=after, batch_size=batch_size)

    try:
        seq = 0
        fetched = fetch(after)
        while fetched is not None:
            scored = batch.score_fetched(fetched, rules)
            fetched = fetch(scored.high)
            if not writers.hand(seq, scored):
                break
            seq += 1
        else:
            writers.hand(seq, None)
    finally:  # a failure here still lets the batches already scored be written
        error = writers.close()
    if error is not None:
        raise error


@huey.task(retries=3, retry_delay=30, name="scoring.rescore")
def rescore(run_id: int) -> None:
    """Rescore the leads of one run in the background; the rule-set page shows its progress."""
    try:
        run_rescore(run_id)
    except Exception:
        log.exception("rescore %s failed; a retry goes on from where it stopped", run_id)
        raise


@periodic("scoring.refresh_freshness")
def refresh_freshness() -> None:
    """Rescore leads whose freshness bracket changed since the last pass; resume stalled runs."""
    with db.transaction() as session:
        run = batch.freshness_pass(session)
        stalled = service.stalled_runs(session)
    if run.changed:
        log.info("freshness: %s leads moved to an older bracket", run.changed)
    for run_id in stalled:
        log.warning("rescore %s made no progress for a while: taking it up again", run_id)
        rescore(run_id)
