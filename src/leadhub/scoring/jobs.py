"""Background jobs for scoring: rescore in batches with progress, and keep freshness true."""

from __future__ import annotations

import logging
from collections.abc import Callable

from leadhub.db import db
from leadhub.queue import huey, periodic
from leadhub.scoring import batch, service

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (done, total)


def run_rescore(
    run_id: int, *, progress: Progress | None = None, batch_size: int = batch.BATCH_SIZE
) -> None:
    """Work a rescore run to its end, one committed batch at a time (safe to run twice)."""
    with db.transaction() as session:
        run = service.get_run(session, run_id=run_id)
        if run.finished:
            return
        batch.begin(session, run=run)
    while True:
        with db.transaction() as session:
            run = service.get_run(session, run_id=run_id, lock=True)
            if run.finished:
                return
            if batch.superseded(session, run=run):
                return
            rules = service.rules_of(service.get_rule_set(session, version=run.rule_set_version))
            written = batch.rescore_batch(session, run=run, rules=rules, batch_size=batch_size)
            if not written:
                batch.finish(session, run=run)
            done, total = run.done, max(run.total, run.done)
        if progress:
            progress(done, total)
        if not written:
            log.info("rescore %s done: %s leads, %s changed", run_id, done, run.changed)
            return


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
