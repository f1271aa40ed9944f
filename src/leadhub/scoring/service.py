"""Scoring's verbs: score a lead, read and change the rules, recommend, summarize, rescore."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, inspect, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, scoped_session

from leadhub.audit import service as audit
from leadhub.auth.models import Role, User
from leadhub.auth.scope import scope_parts, visible_leads
from leadhub.db import db, utcnow
from leadhub.errors import N_, Conflict, Forbidden, InvalidInput, NotFound
from leadhub.interactions.models import CONTACT_KINDS, Interaction, Kind, Outcome
from leadhub.leads.models import OPEN_STATUSES, Lead, ScoreLevel, Status
from leadhub.scoring import engine
from leadhub.scoring.engine import Engagement, LeadFacts, Rules, Score
from leadhub.scoring.models import RunKind, RunStatus, ScoringRuleSet, ScoringRun
from leadhub.scoring.schemas import RuleSetInput

NO_ENGAGEMENT = Engagement()

HIGH_UNASSIGNED, ABANDONED, LOW_BUSY = "high_unassigned", "abandoned", "low_busy"
RECOMMENDATIONS = (HIGH_UNASSIGNED, ABANDONED, LOW_BUSY)
RECOMMENDATION_NAMES = {
    HIGH_UNASSIGNED: N_("High-quality leads nobody has yet"),
    ABANDONED: N_("Abandoned: assigned, no contact for %(hours)s hours"),
    LOW_BUSY: N_(
        "Low quality taking time: score under %(score)s, contacted %(times)s times or more "
        "in %(days)s days"
    ),
}
LOW_SCORE = 30  # "low quality": a score under this ...
REPEATED_CONTACTS = 3  # ... yet contacted at least this many times
BUSY_WINDOW = timedelta(days=30)  # ... lately: it is taking time now
LOW_SCORES_FOR_GROUPING = 2000  # see _many_low_scores
# Contact, or an assignment, restarts the clock of an abandoned lead.
TOUCH_KINDS = (*sorted(CONTACT_KINDS), Kind.ASSIGNMENT)
COUNT_CAP = 1_000  # the dashboard says "1000+" past this, instead of counting on
LEVEL_COUNT_CAP = 100_000  # a level count past this is the total less the other levels
TOP = 20
STALLED_AFTER = timedelta(minutes=15)

# Rule sets never change once written: each is read from the database once. The key holds the
# creation time too, so a version number that a rolled-back transaction had used is not mixed up.
_rules_by_version: dict[tuple[int, datetime], Rules] = {}
_rules_lock = threading.Lock()
_ACTIVE_KEY = "leadhub.scoring.active_rules"  # session.info: (transaction, Rules)


# -- rules ----------------------------------------------------------------------------------------


def rules_of(rule_set: ScoringRuleSet) -> Rules:
    """The engine's view of a stored rule set, cached by version."""
    key = (rule_set.version, rule_set.created_at)
    cached = _rules_by_version.get(key)
    if cached is not None:
        return cached
    rules = Rules(
        version=rule_set.version,
        weights=dict(rule_set.weights),
        treatment_values=dict(rule_set.treatment_values),
        age_ranges={t: (int(r[0]), int(r[1])) for t, r in rule_set.age_ranges.items()},
        thresholds=dict(rule_set.level_thresholds),
        abandoned_hours=rule_set.abandoned_hours,
    )
    with _rules_lock:
        _rules_by_version[key] = rules
    return rules


def active_rule_set(session: Session) -> ScoringRuleSet:
    rule_set = session.scalar(select(ScoringRuleSet).where(ScoringRuleSet.active.is_(True)))
    if rule_set is None:
        raise NotFound(N_("No scoring rule set is active; run `leadhub db upgrade`."))
    return rule_set


def active_rules(session: Session) -> Rules:
    """The rules in force: one small indexed read per transaction, then the cached version.

    A backfill scores thousands of leads in one transaction: they all read the rules once.
    """
    if isinstance(session, scoped_session):  # views and jobs pass the thread's registry
        session = session()
    transaction = session.get_transaction()
    held = session.info.get(_ACTIVE_KEY)
    if held is not None and transaction is not None and held[0] is transaction:
        return held[1]
    key = session.execute(
        select(ScoringRuleSet.version, ScoringRuleSet.created_at).where(
            ScoringRuleSet.active.is_(True)
        )
    ).first()
    rules = _rules_by_version.get(tuple(key)) if key is not None else None
    rules = rules or rules_of(active_rule_set(session))
    if transaction is not None:
        session.info[_ACTIVE_KEY] = (transaction, rules)
    return rules


def get_rule_set(session: Session, *, version: int) -> ScoringRuleSet:
    rule_set = session.scalar(select(ScoringRuleSet).where(ScoringRuleSet.version == version))
    if rule_set is None:
        raise NotFound(N_("No such rule set version."))
    return rule_set


def list_rule_sets(session: Session) -> list[ScoringRuleSet]:
    """Every version, newest first."""
    return list(session.scalars(select(ScoringRuleSet).order_by(ScoringRuleSet.version.desc())))


def _ensure_superadmin(actor: User | None) -> None:
    if actor is not None and actor.role is not Role.SUPERADMIN:
        raise Forbidden(N_("Only a superadmin may change the scoring rules."))


def change_rules(
    session: Session, *, data: RuleSetInput, actor: User | None
) -> tuple[ScoringRuleSet, ScoringRun]:
    """Save the rules as a new active version and queue a rescore of every lead with it.

    The caller commits, then hands the run to jobs.rescore (see views.save_rules).
    """
    _ensure_superadmin(actor)
    current = session.scalar(
        select(ScoringRuleSet).where(ScoringRuleSet.active.is_(True)).with_for_update()
    )
    values = data.stored()
    if current is not None:
        before = {name: getattr(current, name) for name in values}
        old, new = audit.changes(audit.jsonable(before), audit.jsonable(values))
        if not new:
            raise InvalidInput(N_("Nothing changed: the rules are as they were."))
        current.active = False
        session.flush()  # one active version at a time (a unique index says so)
    else:
        old, new = {}, audit.jsonable(values)
    session.info.pop(_ACTIVE_KEY, None)  # this transaction's rules are the new ones from now on
    latest = session.scalar(select(func.max(ScoringRuleSet.version))) or 0
    rule_set = ScoringRuleSet(
        version=latest + 1,
        active=True,
        created_by_id=actor.id if actor else None,
        created_by_name=actor.name if actor else None,
        **values,
    )
    session.add(rule_set)
    try:
        session.flush()
    except IntegrityError as exc:  # another superadmin saved the same version at the same moment
        raise Conflict(
            N_("Someone else changed the rules just now; reload and try again.")
        ) from exc
    audit.record(
        session,
        actor=actor,
        action="scoring.rule_set",
        object_type="scoring_rule_set",
        object_id=rule_set.id,
        before={"version": current.version if current else None, **old},
        after={"version": rule_set.version, **new},
    )
    run = start_run(session, version=rule_set.version, everything=True, actor=actor)
    return rule_set, run


# -- one lead -------------------------------------------------------------------------------------


def facts_of(lead: Lead) -> LeadFacts:
    return LeadFacts(
        full_name=lead.full_name,
        email=lead.email,
        phone=lead.phone,
        treatment=lead.treatment,
        answers=lead.answers or {},
        created_time=lead.created_time or utcnow(),
    )


def engagement_columns() -> tuple[Any, ...]:
    answered = and_(Interaction.kind == Kind.CALL, Interaction.outcome == Outcome.ANSWERED)
    return (
        func.sum(case((answered, 1), else_=0)),
        func.sum(case((Interaction.outcome == Outcome.REPLIED, 1), else_=0)),
        func.sum(case((Interaction.kind == Kind.MEETING, 1), else_=0)),
    )


ENGAGING = or_(
    Interaction.kind == Kind.MEETING,
    Interaction.outcome.in_((Outcome.ANSWERED, Outcome.REPLIED)),
)


def engagement_of(session: Session, lead_ids: Iterable[int]) -> dict[int, Engagement]:
    """Answered calls, replies and meetings of each lead, in one GROUP BY."""
    ids = list(lead_ids)
    if not ids:
        return {}
    stmt = (
        select(Interaction.lead_id, *engagement_columns())
        .where(Interaction.lead_id.in_(ids), ENGAGING)
        .group_by(Interaction.lead_id)
    )
    return {
        lead_id: Engagement(int(calls or 0), int(replies or 0), int(meetings or 0))
        for lead_id, calls, replies, meetings in session.execute(stmt)
    }


def score_lead(session: Session, *, lead: Lead, actor: User | None = None) -> Score:
    """Score `lead` in the caller's transaction; a changed score goes on the lead's timeline.

    Nothing is written when the score and its reasons are what the lead already holds.
    """
    rules = active_rules(session)
    known = inspect(lead).has_identity  # stored: a new lead may know its id already (intake)
    engagement = engagement_of(session, [lead.id]).get(lead.id) if known else None
    result = engine.score(facts_of(lead), engagement or NO_ENGAGEMENT, rules, utcnow())
    breakdown = result.breakdown()
    if (
        lead.score_version == result.version
        and lead.score == result.total
        and lead.score_breakdown == breakdown
    ):
        return result
    scored_before = lead.score_version is not None
    before = {"score": lead.score, "score_level": lead.score_level}
    lead.score, lead.score_level = result.total, result.level
    lead.score_breakdown, lead.score_version = breakdown, result.version
    after = {"score": result.total, "score_level": result.level}
    if known and scored_before and before != after:
        audit.record(
            session,
            actor=actor,
            action="lead.update",
            object_type="lead",
            object_id=lead.id,
            before=before,
            after=after,
        )
    return result


def rescore_on_change(session: Session, *, lead: Lead, actor: User | None = None) -> Score:
    """After an edit: score the lead again, so a change of a field that counts shows at once.

    The edit may have been flushed already (so attribute history is gone): the new score is
    compared with the stored one instead, and written only if it differs.
    """
    return score_lead(session, lead=lead, actor=actor)


# -- recommendations ------------------------------------------------------------------------------


def recommendation_clause(  # noqa: ANN201 - a SQL condition
    name: str, *, rules: Rules | None = None, now: datetime | None = None, grouped: bool = True
):
    """The WHERE condition of one recommended list, for the desk's filter and the dashboard.

    `grouped` (LOW_BUSY only): first match the leads against the window's busy leads, grouped
    once; without it each low-score open lead's contacts are counted through the index alone,
    the better plan when such leads are few (recommendation_count decides).
    """
    if rules is None:
        rules = active_rules(db.session)
    now = now or utcnow()
    if name == HIGH_UNASSIGNED:
        return and_(
            Lead.assignee_id.is_(None),
            Lead.score >= rules.thresholds[ScoreLevel.WARM.value],
            Lead.status.in_(sorted(OPEN_STATUSES)),
        )
    if name == ABANDONED:
        cutoff = now - timedelta(hours=rules.abandoned_hours)
        touched = exists().where(
            Interaction.lead_id == Lead.id,
            Interaction.kind.in_(TOUCH_KINDS),
            Interaction.occurred_at >= cutoff,
        )
        return and_(
            Lead.assignee_id.is_not(None),
            Lead.status.in_((Status.ASSIGNED, Status.CONTACTED)),
            Lead.received_at < cutoff,
            ~touched,
        )
    if name == LOW_BUSY:
        # Leads with enough recent interactions of any kind, read as a range of the covering
        # (occurred_at, …, lead_id) index; then the exact count of contacts for those few. The
        # group is `lead_id + 0`, not the column: on the column SQLite walks the whole
        # (lead_id, occurred_at) index in lead order to save a sort, every interaction ever
        # made instead of the window's (twice the time at three million interactions).
        since = now - BUSY_WINDOW
        lead_id = Interaction.lead_id + 0
        worked = (
            select(lead_id)
            .where(Interaction.occurred_at >= since)
            .group_by(lead_id)
            .having(func.count() >= REPEATED_CONTACTS)
        )
        contacts = (
            select(func.count())
            .where(
                Interaction.lead_id == Lead.id,
                Interaction.occurred_at >= since,
                Interaction.kind.in_(sorted(CONTACT_KINDS)),
            )
            .scalar_subquery()
        )
        conditions = [
            Lead.score < LOW_SCORE,
            Lead.status.in_(sorted(OPEN_STATUSES)),
            contacts >= REPEATED_CONTACTS,
        ]
        return and_(*conditions, Lead.id.in_(worked)) if grouped else and_(*conditions)
    raise InvalidInput(N_("No such recommendation."))


def recommendation_title(name: str, rules: Rules) -> tuple[str, dict[str, Any]]:
    """The (untranslated) title of a recommendation and its values."""
    params = {
        "hours": rules.abandoned_hours,
        "score": LOW_SCORE,
        "times": REPEATED_CONTACTS,
        "days": BUSY_WINDOW.days,
    }
    return RECOMMENDATION_NAMES[name], params


# -- the dashboard --------------------------------------------------------------------------------


@dataclass
class Summary:
    rule_set_version: int
    levels: dict[ScoreLevel, int]
    recommendations: dict[str, int]
    capped: dict[str, bool]
    top: list[Lead]
    rules: Rules


def level_ranges(rules: Rules) -> list[tuple[ScoreLevel, int | None, int | None]]:
    """Each level's scores as [low, high): hot from its threshold up, cold below cool's."""
    thresholds = [rules.thresholds[level.value] for level in engine.LEVELS]
    lows: list[int | None] = [*thresholds, None]
    highs: list[int | None] = [None, *thresholds]
    return list(zip([*engine.LEVELS, ScoreLevel.COLD], lows, highs, strict=True))


def level_counts(session: Session, *, user: User, rules: Rules) -> dict[ScoreLevel, int]:
    """Live leads per level in scope, by the score ranges of the rules in force.

    Range counts on a scope part's (scope, score) index of live leads, in one statement: they
    read index entries only, where a GROUP BY of a CASE over the score would evaluate it for
    every row (five times slower on SQLite at a million leads). Each count stops at
    LEVEL_COUNT_CAP: most leads sit in one level, and that one is the scope's total (the
    maintained status counts) less the other levels, so a million leads cost the entries of the
    smaller levels, not a million. Levels past the cap beside it are counted in full.
    """
    ranges = level_ranges(rules)
    counts = _range_counts(session, user=user, ranges=ranges, cap=LEVEL_COUNT_CAP)
    large = [level for level, n in counts.items() if n >= LEVEL_COUNT_CAP]
    if not large:
        return counts
    rest = [(level, low, high) for level, low, high in ranges if level in large[1:]]
    counts.update(_range_counts(session, user=user, ranges=rest, cap=None))
    from leadhub.leads import service as leads  # which imports this module

    total = sum(leads.count_by_status(session, user=user).values())
    others = sum(n for level, n in counts.items() if level is not large[0])
    # The two reads are moments apart: a lead changed between them cannot make a count negative.
    counts[large[0]] = max(total - others, 0)
    return counts


def _range_counts(
    session: Session,
    *,
    user: User,
    ranges: list[tuple[ScoreLevel, int | None, int | None]],
    cap: int | None,
) -> dict[ScoreLevel, int]:
    """Live leads in scope per score range, each count stopping at `cap` (None: all)."""
    counts = {level: 0 for level, _, _ in ranges}
    if not ranges:
        return counts
    for index in range(len(scope_parts(user))):
        part = visible_leads(user, part=index)
        columns = []
        for level, low, high in ranges:
            stmt = part
            if low is not None:
                stmt = stmt.where(Lead.score >= low)
            if high is not None:
                stmt = stmt.where(Lead.score < high)
            if cap is None:
                counted = stmt.with_only_columns(func.count())
            else:
                limited = stmt.with_only_columns(Lead.id).limit(cap).subquery()
                counted = select(func.count()).select_from(limited)
            columns.append(counted.scalar_subquery().label(level.value))
        row = session.execute(select(*columns)).one()
        for (level, _, _), n in zip(ranges, row, strict=True):
            counts[level] += int(n or 0)
    if cap is not None:
        return {level: min(n, cap) for level, n in counts.items()}
    return counts


def recommendation_count(
    session: Session, *, user: User, name: str, rules: Rules, now: datetime, cap: int = COUNT_CAP
) -> tuple[int, bool]:
    """How many leads in scope are on a recommended list, counted up to `cap`."""
    total = 0
    for index in range(len(scope_parts(user))):
        part = visible_leads(user, part=index)
        grouped = name != LOW_BUSY or _many_low_scores(session, part)
        condition = recommendation_clause(name, rules=rules, now=now, grouped=grouped)
        matching = part.where(condition).with_only_columns(Lead.id)
        total += session.scalar(select(func.count()).select_from(matching.limit(cap).subquery()))
    return min(total, cap), total >= cap


def _many_low_scores(session: Session, part: Any) -> bool:
    """Whether a scope part holds at least LOW_SCORES_FOR_GROUPING low-score open leads.

    A bounded count on the score index: past it, counting each one's contacts costs more than
    grouping the window's interactions once.
    """
    low = part.where(Lead.score < LOW_SCORE, Lead.status.in_(sorted(OPEN_STATUSES)))
    found = low.with_only_columns(Lead.id).limit(LOW_SCORES_FOR_GROUPING).subquery()
    return session.scalar(select(func.count()).select_from(found)) >= LOW_SCORES_FOR_GROUPING


def top_leads(session: Session, *, user: User, limit: int = TOP) -> list[Lead]:
    """The best open leads in scope, read by each scope part's (scope, score) index and merged."""
    rows: list[Lead] = []
    for index in range(len(scope_parts(user))):
        stmt = (
            visible_leads(user, part=index)
            .where(Lead.status.in_(sorted(OPEN_STATUSES)))
            .order_by(Lead.score.desc(), Lead.id.desc())
            .limit(limit)
        )
        rows.extend(session.scalars(stmt))
    rows.sort(key=lambda lead: (lead.score, lead.id), reverse=True)
    return rows[:limit]


def summary(session: Session, *, user: User) -> Summary:
    """Everything the scoring dashboard shows, each number one SQL aggregation in scope."""
    rules = active_rules(session)
    now = utcnow()
    counted = {
        name: recommendation_count(session, user=user, name=name, rules=rules, now=now)
        for name in RECOMMENDATIONS
    }
    return Summary(
        rule_set_version=rules.version,
        levels=level_counts(session, user=user, rules=rules),
        recommendations={name: n for name, (n, _) in counted.items()},
        capped={name: capped for name, (_, capped) in counted.items()},
        top=top_leads(session, user=user),
        rules=rules,
    )


# -- background runs ------------------------------------------------------------------------------


def start_run(
    session: Session,
    *,
    version: int | None = None,
    distributor_id: int | None = None,
    everything: bool = True,
    actor: User | None = None,
) -> ScoringRun:
    """A queued rescore of every lead (or those not on `version` yet), of one distributor or all."""
    _ensure_superadmin(actor)
    version = version if version is not None else active_rules(session).version
    run = ScoringRun(
        kind=RunKind.RESCORE,
        rule_set_version=version,
        distributor_id=distributor_id,
        everything=everything,
        created_by_id=actor.id if actor else None,
    )
    session.add(run)
    session.flush()
    return run


def get_run(session: Session, *, run_id: int, lock: bool = False) -> ScoringRun:
    """A run; `lock` holds its row so two workers never write the same batch at once."""
    run = session.get(ScoringRun, run_id, with_for_update=lock)
    if run is None:
        raise NotFound(N_("No such rescore."))
    return run


def latest_run(session: Session) -> ScoringRun | None:
    """The most recent rescore, for the rule-set page's progress bar."""
    stmt = (
        select(ScoringRun)
        .where(ScoringRun.kind == RunKind.RESCORE)
        .order_by(ScoringRun.created_at.desc(), ScoringRun.id.desc())
        .limit(1)
    )
    return session.scalar(stmt)


def stalled_runs(session: Session, *, now: datetime | None = None) -> list[int]:
    """Rescores that made no progress for a while (a worker died): to be taken up again."""
    quiet_since = (now or utcnow()) - STALLED_AFTER
    stmt = select(ScoringRun.id).where(
        ScoringRun.kind == RunKind.RESCORE,
        ScoringRun.status.in_((RunStatus.QUEUED, RunStatus.RUNNING)),
        ScoringRun.updated_at < quiet_since,
    )
    return list(session.scalars(stmt))
