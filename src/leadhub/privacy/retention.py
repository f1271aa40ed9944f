"""Retention: a distributor's leads never converted are anonymised N months after last activity.

Last activity is the later of the lead's creation and its newest interaction (calls, emails,
notes, status changes and assignments are all interactions). Score refreshes and other
automatic updates do not count: they are not work with the person.
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from leadhub.audit import service as audit
from leadhub.db import utcnow
from leadhub.distributors.models import Distributor
from leadhub.interactions.models import Interaction
from leadhub.leads.models import Lead, Status
from leadhub.privacy import anonymise
from leadhub.privacy.models import AnonymisedCause, AnonymisedLead, RetentionRun

__all__ = ["RetentionRun", "due", "finish_run", "recent_runs", "run_batch", "start_run"]

log = logging.getLogger(__name__)

BATCH_SIZE = 500
RUNS_SHOWN = 5


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the month's last day if shorter)."""
    total = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(total, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def due(
    session: Session, *, distributor_id: int, cutoff: datetime, after_id: int = 0, limit: int
) -> list[int]:
    """Ids of the distributor's leads due for anonymisation, by keyset on the id."""
    recent_work = exists().where(Interaction.lead_id == Lead.id, Interaction.occurred_at >= cutoff)
    done = exists().where(AnonymisedLead.lead_id == Lead.id)
    stmt = (
        select(Lead.id)
        .where(
            Lead.distributor_id == distributor_id,
            Lead.id > after_id,
            Lead.status != Status.CONVERTED,
            Lead.converted_at.is_(None),
            Lead.created_time < cutoff,
            ~recent_work,
            ~done,
        )
        .order_by(Lead.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def distributors_with_retention(session: Session) -> list[int]:
    stmt = select(Distributor.id).where(Distributor.retention_months.is_not(None))
    return list(session.scalars(stmt.order_by(Distributor.id)))


def start_run(
    session: Session, *, distributor: Distributor, now: datetime | None = None
) -> RetentionRun:
    months = distributor.retention_months or 0
    run = RetentionRun(
        distributor_id=distributor.id,
        months=months,
        cutoff=months_before(now or utcnow(), months),
        started_at=utcnow(),
    )
    session.add(run)
    session.flush()
    return run


def run_batch(
    session: Session, *, run: RetentionRun, after_id: int, batch_size: int = BATCH_SIZE
) -> tuple[int, int]:
    """Anonymise one batch of the run; (leads anonymised, last id) — zero when the run is done."""
    ids = due(
        session,
        distributor_id=run.distributor_id,
        cutoff=run.cutoff,
        after_id=after_id,
        limit=batch_size,
    )
    if not ids:
        return 0, after_id
    anonymise.anonymise(session, lead_ids=ids, cause=AnonymisedCause.RETENTION)
    run = session.get(RetentionRun, run.id)
    run.anonymised += len(ids)
    return len(ids), ids[-1]


def finish_run(session: Session, *, run: RetentionRun) -> None:
    """Close the run: an audit event and a log line say how many leads it anonymised."""
    run.finished_at = utcnow()
    audit.record(
        session,
        actor=None,
        action="privacy.retention",
        object_type="distributor",
        object_id=run.distributor_id,
        after={"months": run.months, "cutoff": run.cutoff, "anonymised": run.anonymised},
    )
    log.info(
        "retention: distributor %s, %s months: %s leads anonymised",
        run.distributor_id,
        run.months,
        run.anonymised,
    )


@dataclass(frozen=True)
class RunView:
    started_at: datetime
    finished_at: datetime | None
    months: int
    anonymised: int


def recent_runs(session: Session, *, distributor_id: int, limit: int = RUNS_SHOWN) -> list[RunView]:
    stmt = (
        select(RetentionRun)
        .where(RetentionRun.distributor_id == distributor_id)
        .order_by(RetentionRun.started_at.desc(), RetentionRun.id.desc())
        .limit(limit)
    )
    return [
        RunView(r.started_at, r.finished_at, r.months, r.anonymised) for r in session.scalars(stmt)
    ]
