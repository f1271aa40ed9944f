"""Rescoring many leads: keyset batches with one bulk UPDATE each, and the set-based freshness pass.

Nothing here commits: a job or command commits after each batch, so progress is visible and a
run cut off midway goes on from `last_lead_id`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    literal_column,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from leadhub.db import utcnow
from leadhub.errors import N_
from leadhub.interactions.models import Interaction
from leadhub.leads.models import Lead, ScoreLevel
from leadhub.scoring import engine
from leadhub.scoring.engine import BOUNDARY_HOURS, Engagement, LeadFacts, Rules
from leadhub.scoring.models import RunKind, RunStatus, ScoringRun
from leadhub.scoring.service import (
    ENGAGING,
    NO_ENGAGEMENT,
    active_rules,
    engagement_columns,
    engagement_of,
)

BATCH_SIZE = 5000
FRESHNESS_INTERVAL = timedelta(minutes=10)  # the schedule in queue.SCHEDULE
KEEP_FRESHNESS_RUNS = timedelta(days=2)
LEAD = Lead.__table__
FACT_COLUMNS = (
    LEAD.c.id,
    LEAD.c.full_name,
    LEAD.c.email,
    LEAD.c.phone,
    LEAD.c.treatment,
    LEAD.c.answers,
    LEAD.c.created_time,
    LEAD.c.score,
    LEAD.c.score_version,
)
# Straight to the driver, no object per lead, no optimistic-lock bump (a rescore is nobody's
# edit), updated_at kept as it was, and the JSON written as text made once per distinct
# breakdown. PostgreSQL takes the batch as arrays in one statement (a join on the primary key:
# a third of the time of one UPDATE per lead), sent in binary (%b): as text, every quote of every
# breakdown would be escaped by a regular expression, most of a rescore's CPU. SQLite, in
# process, runs one UPDATE per lead.
WRITE_SCORE = {
    "sqlite": "UPDATE lead SET score = ?, score_level = ?, score_breakdown = ?, score_version = ? "
    "WHERE id = ?",
    "postgresql": "UPDATE lead SET score = v.score, score_level = v.level, "
    "score_breakdown = CAST(v.breakdown AS jsonb), score_version = %s "
    "FROM unnest(%b::integer[], %b::integer[], %b::varchar[], %b::text[]) "
    "AS v(id, score, level, breakdown) WHERE lead.id = v.id",
}
_breakdown_texts: dict[tuple[Any, ...], str] = {}
KEEP_TEXTS = 100_000


def breakdown_text(result: engine.Score) -> str:
    """The stored JSON of a breakdown; many leads share one, so each is written out once."""
    key = (result.version, *((p.reason, p.points, *p.params.values()) for p in result.parts))
    text = _breakdown_texts.get(key)
    if text is None:
        if len(_breakdown_texts) >= KEEP_TEXTS:
            _breakdown_texts.clear()
        text = _breakdown_texts[key] = json.dumps(result.breakdown())
    return text


def write_scores(session: Session, rows: list[tuple[int, int, str, str]], version: int) -> None:
    """Store (id, score, level, breakdown JSON) of many leads, scored by `version`."""
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect == "postgresql":
        ids, scores, levels, texts = (list(column) for column in zip(*rows, strict=True))
        connection.exec_driver_sql(WRITE_SCORE[dialect], (version, ids, scores, levels, texts))
        return
    params = [(score, level, text, version, lead_id) for lead_id, score, level, text in rows]
    connection.exec_driver_sql(WRITE_SCORE[dialect], params)


def _in_scope(stmt: Any, run: ScoringRun) -> Any:
    if run.distributor_id is not None:
        stmt = stmt.where(LEAD.c.distributor_id == run.distributor_id)
    if not run.everything:
        version = LEAD.c.score_version
        stmt = stmt.where(or_(version.is_(None), version != run.rule_set_version))
    return stmt


def _engagement_in_range(session: Session, low: int, high: int) -> dict[int, Engagement]:
    """Engagement of the leads with ids in [low, high]: one ranged GROUP BY on the lead index."""
    stmt = (
        select(Interaction.lead_id, *engagement_columns())
        .where(Interaction.lead_id.between(low, high), ENGAGING)
        .group_by(Interaction.lead_id)
    )
    return {
        lead_id: Engagement(int(calls or 0), int(replies or 0), int(meetings or 0))
        for lead_id, calls, replies, meetings in session.execute(stmt)
    }


def begin(session: Session, *, run: ScoringRun) -> None:
    """Mark a queued run as running and count what it will do."""
    if run.status is not RunStatus.QUEUED:
        return
    run.status = RunStatus.RUNNING
    run.started_at = utcnow()
    counted = _in_scope(select(func.count()).select_from(LEAD), run)
    run.total = session.scalar(counted.where(LEAD.c.id > run.last_lead_id)) or 0


def superseded(session: Session, *, run: ScoringRun) -> bool:
    """A newer version became active: this run stops, the newer one's run rescores instead."""
    active = active_rules(session).version
    if active == run.rule_set_version:
        return False
    finish(
        session,
        run=run,
        error=N_("Stopped: version %(version)s is now in force.") % {"version": active},
    )
    return True


def finish(session: Session, *, run: ScoringRun, error: str | None = None) -> None:
    run.status = RunStatus.FAILED if error else RunStatus.DONE
    run.error = error
    run.finished_at = utcnow()
    if not error:
        run.done = max(run.done, run.total)


@dataclass(frozen=True)
class Fetched:
    """One batch of a run's leads as read: their facts and engagement."""

    after: int  # read after this lead id
    rows: list[Any]  # FACT_COLUMNS
    engagement: dict[int, Engagement]

    @property
    def high(self) -> int:
        """The last lead id read: the next batch starts after it."""
        return int(self.rows[-1].id)


@dataclass(frozen=True)
class Scored:
    """One batch of a run's leads, scored and not yet written."""

    rows: list[tuple[int, int, str, str]]  # (id, score, level, breakdown JSON)
    after: int  # the batch holds the run's leads after this id ...
    high: int  # ... up to this one
    changed: int  # leads whose score differs from the stored one (or had none)


def fetch_next(
    session: Session, *, run: ScoringRun, after: int, batch_size: int = BATCH_SIZE
) -> Fetched | None:
    """The run's next `batch_size` leads after id `after`; None when none are left."""
    stmt = select(*FACT_COLUMNS).where(LEAD.c.id > after)
    rows = session.execute(_in_scope(stmt, run).order_by(LEAD.c.id).limit(batch_size)).all()
    if not rows:
        return None
    low, high = rows[0].id, rows[-1].id
    if high - low < 2 * len(rows):
        engagement = _engagement_in_range(session, low, high)
    else:  # a sparse batch (one distributor, or only stale leads): ask for its ids only
        engagement = engagement_of(session, [row.id for row in rows])
    return Fetched(after=after, rows=list(rows), engagement=engagement)


def score_fetched(fetched: Fetched, rules: Rules) -> Scored:
    """Score a fetched batch: Python only, so it can run while the database stores another."""
    now = utcnow()
    score = engine.score
    engagement = fetched.engagement
    changed = 0
    scored = []
    for lead_id, name, email, phone, treatment, answers, created, old, old_version in fetched.rows:
        facts = LeadFacts(name, email, phone, treatment, answers or {}, created)
        result = score(facts, engagement.get(lead_id, NO_ENGAGEMENT), rules, now)
        changed += result.total != old or old_version is None
        scored.append((lead_id, result.total, result.level.value, breakdown_text(result)))
    return Scored(rows=scored, after=fetched.after, high=fetched.high, changed=changed)


def record(run: ScoringRun, scored: Scored) -> None:
    """Move the run's progress past a written batch (committed with the batch's writes)."""
    run.last_lead_id = scored.high
    run.done += len(scored.rows)
    run.changed += scored.changed


# -- freshness ------------------------------------------------------------------------------------


def _with_freshness(session: Session) -> Any:
    """score_breakdown with its freshness entry replaced by the `entry` parameter (JSON text)."""
    entry = bindparam("entry", type_=String)
    if session.get_bind().dialect.name == "postgresql":
        path = literal_column("'{freshness}'")
        return func.jsonb_set(LEAD.c.score_breakdown, path, cast(entry, JSONB))
    return func.json_set(LEAD.c.score_breakdown, "$.freshness", func.json(entry))


def _level_of(total: Any, rules: Rules) -> Any:
    return case(
        *((total >= rules.thresholds[level.value], level.value) for level in engine.LEVELS),
        else_=ScoreLevel.COLD.value,
    )


def refresh_freshness(
    session: Session,
    *,
    rules: Rules,
    since: datetime,
    until: datetime,
    batch_size: int = BATCH_SIZE,
) -> int:
    """Move leads that passed a freshness boundary in (since, until] to their new bracket.

    Only those leads can have a different score now: for each boundary, the leads created in
    the matching window are read by the created-time index, and one UPDATE per batch swaps
    their stored freshness points for the new ones, in SQL. Leads already in the bracket, or
    scored by another version (a rescore is on its way), are left alone. Returns leads changed.
    """
    stored_points = LEAD.c.score_breakdown[("freshness", "points")].as_integer()
    stored_bracket = LEAD.c.score_breakdown[("freshness", "params", "bracket")].as_integer()
    breakdown = _with_freshness(session)
    changed = 0
    # The oldest boundary first: a lead that passed several since the last pass moves once, to
    # its bracket now, and no longer matches the younger boundaries' `stored < target`.
    for bracket, hours in reversed(list(enumerate(BOUNDARY_HOURS))):
        target = bracket + 1
        entry = engine.freshness_entry(target, rules)
        total = LEAD.c.score - stored_points + entry.points
        low, high = since - timedelta(hours=hours), until - timedelta(hours=hours)
        key = tuple_(LEAD.c.created_time, LEAD.c.id)
        after: tuple[datetime, int] = (low, 0)
        while True:
            found = session.execute(
                select(LEAD.c.created_time, LEAD.c.id)
                .where(LEAD.c.created_time > low, LEAD.c.created_time <= high, key > after)
                .order_by(LEAD.c.created_time, LEAD.c.id)
                .limit(batch_size)
            ).all()
            if not found:
                break
            stmt = (
                update(LEAD)
                .where(
                    LEAD.c.id.in_([lead_id for _, lead_id in found]),
                    LEAD.c.score_version == rules.version,
                    and_(stored_bracket.is_not(None), stored_bracket < target),
                )
                .values(
                    score=total,
                    score_level=_level_of(total, rules),
                    score_breakdown=breakdown,
                    updated_at=LEAD.c.updated_at,
                )
            )
            result = session.execute(stmt, {"entry": json.dumps(entry.as_json())})
            changed += result.rowcount or 0
            after = found[-1]
            if len(found) < batch_size:
                break
    return changed


def freshness_since(session: Session, *, until: datetime) -> datetime:
    """Where the last freshness pass stopped (one interval back for the very first one)."""
    last = session.scalar(
        select(func.max(ScoringRun.window_end)).where(
            ScoringRun.kind == RunKind.FRESHNESS, ScoringRun.status == RunStatus.DONE
        )
    )
    return min(last, until) if last is not None else until - FRESHNESS_INTERVAL


def freshness_pass(session: Session, *, until: datetime | None = None) -> ScoringRun:
    """One periodic pass, recorded as a run (its window end is where the next one starts)."""
    until = until or utcnow()
    rules = active_rules(session)
    since = freshness_since(session, until=until)
    run = ScoringRun(
        kind=RunKind.FRESHNESS,
        rule_set_version=rules.version,
        status=RunStatus.RUNNING,
        started_at=utcnow(),
        window_end=until,
    )
    session.add(run)
    run.changed = refresh_freshness(session, rules=rules, since=since, until=until)
    run.done = run.total = run.changed
    finish(session, run=run)
    session.execute(
        delete(ScoringRun).where(
            ScoringRun.kind == RunKind.FRESHNESS,
            ScoringRun.created_at < until - KEEP_FRESHNESS_RUNS,
        )
    )
    return run
