"""Background jobs for scoring: rescore in batches with progress, and keep freshness true."""

from __future__ import annotations

import logging
from collections.abc import Callable

from leadhub.db import db
from leadhub.queue import huey, periodic
from leadhub.scoring import batch, service
from leadhub.scoring.batch import Scored
from leadhub.writers import OrderedWriters, Stop

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (done, total)


class _Superseded(Stop):
    """The batch must not be committed: a newer rule-set version is in force."""


class _Writers(OrderedWriters):
    """Stores scored batches in run order (leadhub.writers), with the run's progress.

    A batch is committed only while the run is unfinished, its version still in force and its
    progress where this batch starts (no other worker went on).
    """

    def __init__(self, run_id: int, version: int, progress: Progress | None) -> None:
        self.run_id, self.version, self.progress = run_id, version, progress
        super().__init__(f"rescore-{run_id}")

    def write(self, seq: int, scored: Scored | None) -> None:
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
        if scored is None:
            log.info("rescore %s done: %s leads, %s changed", self.run_id, done, changed)

    def _commit(self, seq: int, scored: Scored | None) -> tuple[int, int, int]:
        """Write batch `seq`, wait for the one before to commit, record progress and commit."""
        with db.transaction() as session:
            if scored is not None:
                batch.write_scores(session, scored.rows, self.version)
            self.wait_for_turn(seq)
            run = service.get_run(session, run_id=self.run_id, lock=True)
            if run.finished or (scored is not None and run.last_lead_id != scored.after):
                raise Stop
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
