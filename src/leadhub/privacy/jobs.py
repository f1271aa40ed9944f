"""Background jobs for patients' data: the daily retention pass."""

from __future__ import annotations

import logging

from leadhub.db import db
from leadhub.distributors.models import Distributor
from leadhub.privacy import retention
from leadhub.queue import periodic

log = logging.getLogger(__name__)


def run_retention(*, batch_size: int = retention.BATCH_SIZE) -> int:
    """Anonymise due leads of every distributor with a retention setting, one committed batch at a
    time; the number of leads anonymised. Safe to run twice: done leads are never due again."""
    with db.transaction() as session:
        distributor_ids = retention.distributors_with_retention(session)
    total = 0
    for distributor_id in distributor_ids:
        with db.transaction() as session:
            distributor = session.get(Distributor, distributor_id)
            if distributor is None or not distributor.retention_months:
                continue
            run_id = retention.start_run(session, distributor=distributor).id
        after_id = 0
        while True:
            with db.transaction() as session:
                run = session.get(retention.RetentionRun, run_id)
                done, after_id = retention.run_batch(
                    session, run=run, after_id=after_id, batch_size=batch_size
                )
                if not done:
                    retention.finish_run(session, run=run)
            total += done
            if not done:
                break
    return total


@periodic("privacy.retention")
def retention_daily() -> None:
    """Once a day: leads never converted and idle past their distributor's limit lose their
    personal data (the rows stay for counts and analytics)."""
    total = run_retention()
    log.info("retention pass done: %s leads anonymised", total)
