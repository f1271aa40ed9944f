"""The analytics panels: each is a few SQL aggregations over a period's leads, in scope.

Every panel counts the leads created in the period (a cohort: what became of them), except the
interactions (those that happened in the period) and "open now". Each is computed for the period
and the one before it, so the page can show the change.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Integer, and_, case, func, literal, select, union
from sqlalchemy.orm import Session, aliased

from leadhub.analytics import stats
from leadhub.analytics.periods import Period, buckets
from leadhub.analytics.scope import Scope
from leadhub.analytics.stages import ASSIGNED, CONTACTED, CONVERTED
from leadhub.auth.models import User
from leadhub.distributors.models import Distributor
from leadhub.errors import N_, InvalidInput
from leadhub.interactions.models import Interaction, Kind
from leadhub.leads.models import (
    OPEN_STATUSES,
    PIPELINE,
    Lead,
    LeadStatusCount,
    Platform,
    ScoreLevel,
    Status,
)

DEFAULT_SLA_MINUTES = 15
GROUPINGS = {
    "campaign": (Lead.campaign_id, Lead.campaign_name),
    "adset": (Lead.adset_id, Lead.adset_name),
    "ad": (Lead.ad_id, Lead.ad_name),
    "form": (Lead.form_id, Lead.form_name),
    "platform": (Lead.platform, Lead.platform),
}
DISTRIBUTOR_SORTS = ("leads", "contact_rate", "conversion_rate", "median_seconds", "duplicates")
MAX_GROUPS = 200


def _where(scope: Scope, period: Period) -> list[Any]:
    start, end = period.bounds()
    return [
        Lead.deleted_at.is_(None),
        Lead.created_time >= start,
        Lead.created_time < end,
        *scope.conditions,
    ]


def _count_if(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _response(session: Session) -> Any:
    return stats.seconds_between(session, Lead.first_contacted_at, Lead.created_time)


# -- funnel -------------------------------------------------------------------------------


def _funnel_once(session: Session, scope: Scope, period: Period) -> dict[str, Any]:
    where = _where(scope, period)
    stage = Lead.pipeline_stage
    row = session.execute(
        select(
            func.count(),
            _count_if(stage >= ASSIGNED),
            _count_if(stage >= CONTACTED),
            _count_if(stage >= CONVERTED),
            _count_if(Lead.status == Status.LOST),
            _count_if(Lead.status == Status.INVALID),
        ).where(*where)
    ).one()
    counts = [int(n) for n in row]
    total = counts[0]
    stages = []
    for index, status in enumerate(PIPELINE):
        before = counts[index - 1] if index else total
        stages.append(
            {
                "status": status.value,
                "count": counts[index],
                "rate": _rate(counts[index], total),
                "step_rate": _rate(counts[index], before),
            }
        )
    reasons: dict[str, list[dict[str, Any]]] = {Status.LOST.value: [], Status.INVALID.value: []}
    n = func.count().label("n")
    stmt = (
        select(Lead.status, Lead.lost_reason, n)
        .where(*where, Lead.status.in_((Status.LOST, Status.INVALID)))
        .group_by(Lead.status, Lead.lost_reason)
        .order_by(n.desc(), Lead.lost_reason)
    )
    for status, reason, count in session.execute(stmt):
        reasons[Status(status).value].append({"reason": reason, "count": int(count)})
    closed = [
        {
            "status": status.value,
            "count": counts[4 + index],
            "rate": _rate(counts[4 + index], total),
            "reasons": reasons[status.value],
        }
        for index, status in enumerate((Status.LOST, Status.INVALID))
    ]
    return {"total": total, "stages": stages, "closed": closed}


def funnel(session: Session, *, scope: Scope, period: Period) -> dict[str, Any]:
    """new → assigned → contacted → converted: every lead of the period that reached each stage."""
    now = _funnel_once(session, scope, period)
    return {
        **now,
        "period": period.as_dict(),
        "previous": _funnel_once(session, scope, period.previous()),
    }


# -- speed to lead ------------------------------------------------------------------------


def _speed_groups(
    session: Session, scope: Scope, period: Period, group: Any, sla_seconds: int
) -> dict[Any, dict[str, Any]]:
    """Leads, contacted, within the SLA, median and p90 seconds per value of `group`."""
    where = _where(scope, period)
    response = _response(session)
    keys = [group.label("g")] if group is not None else [literal(0, Integer).label("g")]
    counts = select(
        *keys,
        func.count(),
        _count_if(Lead.first_contacted_at.is_not(None)),
        _count_if(and_(Lead.first_contacted_at.is_not(None), response <= sla_seconds)),
    ).where(*where)
    if group is not None:
        counts = counts.group_by(group)
    source = (
        select(*keys, response.label("seconds"))
        .where(*where, Lead.first_contacted_at.is_not(None))
        .subquery()
    )
    found = stats.percentiles(session, source, value="seconds", group=["g"])
    rows: dict[Any, dict[str, Any]] = {}
    for key, leads, contacted, within in session.execute(counts):
        median, p90 = found.get((key,), [None, None])
        rows[key] = {
            "leads": int(leads),
            "contacted": int(contacted),
            "within_sla": int(within),
            "sla_share": _rate(int(within), int(leads)),
            "median_seconds": median,
            "p90_seconds": p90,
        }
    return rows


def speed(
    session: Session, *, scope: Scope, period: Period, sla_minutes: int = DEFAULT_SLA_MINUTES
) -> dict[str, Any]:
    """Time from the lead's creation at Meta to its first contact: median, p90, share in SLA."""
    sla = sla_minutes * 60
    empty = {"leads": 0, "contacted": 0, "within_sla": 0, "sla_share": 0.0}
    empty |= {"median_seconds": None, "p90_seconds": None}
    overall = _speed_groups(session, scope, period, None, sla).get(0, empty)
    previous = _speed_groups(session, scope, period.previous(), None, sla).get(0, empty)
    by_distributor = _speed_groups(session, scope, period, Lead.distributor_id, sla)
    by_staff = _speed_groups(session, scope, period, Lead.assignee_id, sla)
    names = _distributor_names(session, by_distributor)
    staff_names = _user_names(session, by_staff)
    return {
        **overall,
        "sla_minutes": sla_minutes,
        "period": period.as_dict(),
        "previous": previous,
        "by_distributor": [
            {"distributor_id": key, "name": names.get(key), **row}
            for key, row in sorted(by_distributor.items(), key=lambda kv: -kv[1]["leads"])
        ],
        "by_staff": [
            {"user_id": key, "name": staff_names.get(key), **row}
            for key, row in sorted(by_staff.items(), key=lambda kv: -kv[1]["leads"])
            if key is not None
        ],
    }


def _distributor_names(session: Session, ids: Any) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    stmt = select(Distributor.id, Distributor.name).where(Distributor.id.in_(wanted))
    return {key: name for key, name in session.execute(stmt)}


def _user_names(session: Session, ids: Any) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    return {
        key: name
        for key, name in session.execute(select(User.id, User.name).where(User.id.in_(wanted)))
    }


# -- by distributor -----------------------------------------------------------------------


def _shared_duplicates(session: Session, scope: Scope, period: Period) -> dict[int, int]:
    """Leads of the period that are, or have, a duplicate at another distributor.

    The duplicate side of each link says `duplicate_of_id IS NOT NULL` although the join implies
    it: SQLite reads a partial index only when the query states its condition, and PostgreSQL
    then knows how few rows that side holds (analytics/models.py, LEAD_DUPLICATES).
    """
    other = aliased(Lead)
    where = _where(scope, period)
    live_other = other.deleted_at.is_(None)
    duplicate_of_other = (
        select(Lead.id, Lead.distributor_id)
        .join(other, Lead.duplicate_of_id == other.id)
        .where(*where, Lead.duplicate_of_id.is_not(None), live_other)
        .where(other.distributor_id != Lead.distributor_id)
    )
    duplicated_by_other = (
        select(Lead.id, Lead.distributor_id)
        .join(other, other.duplicate_of_id == Lead.id)
        .where(*where, other.duplicate_of_id.is_not(None), live_other)
        .where(other.distributor_id != Lead.distributor_id)
    )
    shared = union(duplicate_of_other, duplicated_by_other).subquery()
    stmt = select(shared.c.distributor_id, func.count()).group_by(shared.c.distributor_id)
    return {key: int(n) for key, n in session.execute(stmt)}


def _distributor_rows(session: Session, scope: Scope, period: Period) -> dict[int, dict[str, Any]]:
    stmt = (
        select(
            Lead.distributor_id,
            func.count(),
            _count_if(Lead.pipeline_stage >= CONTACTED),
            _count_if(Lead.pipeline_stage >= CONVERTED),
        )
        .where(*_where(scope, period))
        .group_by(Lead.distributor_id)
    )
    rows = {}
    for key, leads, contacted, converted in session.execute(stmt):
        rows[key] = {
            "leads": int(leads),
            "contacted": int(contacted),
            "converted": int(converted),
            "contact_rate": _rate(int(contacted), int(leads)),
            "conversion_rate": _rate(int(converted), int(leads)),
        }
    return rows


def distributors(
    session: Session,
    *,
    scope: Scope,
    period: Period,
    sort: str = "leads",
    descending: bool = True,
) -> dict[str, Any]:
    """Leads, contact and conversion rates, median response and shared duplicates, ranked."""
    if sort not in DISTRIBUTOR_SORTS:
        raise InvalidInput(N_("Sort by one of: %(choices)s."), choices=", ".join(DISTRIBUTOR_SORTS))
    rows = _distributor_rows(session, scope, period)
    previous = _distributor_rows(session, scope, period.previous())
    where = _where(scope, period)
    source = (
        select(Lead.distributor_id.label("g"), _response(session).label("seconds"))
        .where(*where, Lead.first_contacted_at.is_not(None))
        .subquery()
    )
    medians = stats.percentiles(session, source, value="seconds", group=["g"], fractions=(0.5,))
    shared = _shared_duplicates(session, scope, period)
    names = _distributor_names(session, rows)
    items = []
    for key, row in rows.items():
        before = previous.get(key, {})
        items.append(
            {
                "distributor_id": key,
                "name": names.get(key),
                **row,
                "median_seconds": medians.get((key,), [None])[0],
                "duplicates": shared.get(key, 0),
                "previous_leads": before.get("leads", 0),
                "previous_conversion_rate": before.get("conversion_rate", 0.0),
            }
        )

    def order(item: dict[str, Any]) -> tuple[Any, ...]:
        value = item[sort]
        missing = value is None
        # Unknown values (no contact yet) go last whichever way the list is sorted.
        return (missing, -(value or 0) if descending else (value or 0), item["name"] or "")

    items.sort(key=order)
    for rank, item in enumerate(items, 1):
        item["rank"] = rank
    return {"period": period.as_dict(), "sort": sort, "descending": descending, "items": items}


# -- by staff member ----------------------------------------------------------------------


def _open_now(session: Session, scope: Scope) -> dict[int, int]:
    """Open leads per assignee now (whatever their period), from the maintained counts."""
    if scope.campaign_id is not None:
        stmt = (
            select(Lead.assignee_id, func.count())
            .where(
                Lead.deleted_at.is_(None),
                Lead.assignee_id.is_not(None),
                Lead.status.in_(OPEN_STATUSES),
                *scope.conditions,
            )
            .group_by(Lead.assignee_id)
        )
        return {key: int(n) for key, n in session.execute(stmt)}
    counts = LeadStatusCount
    stmt = (
        select(counts.assignee_key, func.sum(counts.n))
        .where(counts.assignee_key != 0, counts.status.in_(OPEN_STATUSES))
        .group_by(counts.assignee_key)
    )
    if scope.agent_id is not None:
        stmt = stmt.where(counts.assignee_key == scope.agent_id)
    if scope.distributor_id is not None:
        stmt = stmt.where(counts.distributor_id == scope.distributor_id)
    elif scope.user_distributor_ids is not None:
        stmt = stmt.where(counts.distributor_id.in_(scope.user_distributor_ids))
    return {key: int(n) for key, n in session.execute(stmt) if n}


def interactions_query(scope: Scope, period: Period, *columns: Any) -> Any:
    """A select of `columns` over the interactions that happened in the period, in scope."""
    start, end = period.bounds()
    stmt = select(*columns).where(Interaction.occurred_at >= start, Interaction.occurred_at < end)
    if not scope.clinic_wide:
        stmt = stmt.join(Lead, Lead.id == Interaction.lead_id).where(
            Lead.deleted_at.is_(None), *scope.conditions
        )
    return stmt


def staff(session: Session, *, scope: Scope, period: Period) -> dict[str, Any]:
    """Per staff member: assigned, contacted, converted, median response, open now, work done."""
    where = _where(scope, period)
    stmt = (
        select(
            Lead.assignee_id,
            func.count(),
            _count_if(Lead.pipeline_stage >= CONTACTED),
            _count_if(Lead.pipeline_stage >= CONVERTED),
        )
        .where(*where, Lead.assignee_id.is_not(None))
        .group_by(Lead.assignee_id)
    )
    rows: dict[int, dict[str, Any]] = {}
    for key, assigned, contacted, converted in session.execute(stmt):
        rows[key] = {
            "assigned": int(assigned),
            "contacted": int(contacted),
            "converted": int(converted),
            "conversion_rate": _rate(int(converted), int(assigned)),
        }
    source = (
        select(Lead.assignee_id.label("g"), _response(session).label("seconds"))
        .where(*where, Lead.assignee_id.is_not(None), Lead.first_contacted_at.is_not(None))
        .subquery()
    )
    medians = stats.percentiles(session, source, value="seconds", group=["g"], fractions=(0.5,))
    open_now = _open_now(session, scope)
    kinds: dict[int, dict[str, int]] = {}
    by_kind = interactions_query(
        scope, period, Interaction.actor_id, Interaction.kind, func.count()
    ).where(
        Interaction.actor_id.is_not(None),
        Interaction.kind.notin_((Kind.STATUS_CHANGE, Kind.ASSIGNMENT)),
    )
    by_kind = by_kind.group_by(Interaction.actor_id, Interaction.kind)
    for actor_id, kind, n in session.execute(by_kind):
        kinds.setdefault(actor_id, {})[Kind(kind).value] = int(n)
    people = set(rows) | set(open_now) | set(kinds)
    if scope.agent_id is not None:
        people &= {scope.agent_id}
    names = _user_names(session, people)
    blank = {"assigned": 0, "contacted": 0, "converted": 0, "conversion_rate": 0.0}
    items = [
        {
            "user_id": key,
            "name": names.get(key),
            **rows.get(key, blank),
            "median_seconds": medians.get((key,), [None])[0],
            "open_now": open_now.get(key, 0),
            "interactions": kinds.get(key, {}),
        }
        for key in people
    ]
    items.sort(key=lambda item: (-item["assigned"], -item["open_now"], item["name"] or ""))
    return {"period": period.as_dict(), "items": items}


# -- by campaign, ad set, ad, form, platform ----------------------------------------------


def _campaign_rows(session: Session, scope: Scope, period: Period, by: str) -> list[dict[str, Any]]:
    key, name = GROUPINGS[by]
    converted = _count_if(Lead.pipeline_stage >= CONVERTED)
    n = func.count().label("n")
    stmt = (
        select(key, func.max(name), n, func.avg(Lead.score), converted)
        .where(*_where(scope, period))
        .group_by(key)
        .order_by(n.desc(), key)
        .limit(MAX_GROUPS)
    )
    rows = []
    for value, label, leads, average, won in session.execute(stmt):
        if isinstance(value, Platform):
            value = label = value.value
        rows.append(
            {
                "key": value,
                "name": label,
                "leads": int(leads),
                "average_score": round(float(average or 0), 1),
                "converted": int(won),
                "conversion_rate": _rate(int(won), int(leads)),
            }
        )
    return rows


def campaigns(
    session: Session, *, scope: Scope, period: Period, by: str = "campaign"
) -> dict[str, Any]:
    """Leads, average score and conversion rate per campaign, ad set, ad, form or platform."""
    if by not in GROUPINGS:
        raise InvalidInput(N_("Group by one of: %(choices)s."), choices=", ".join(GROUPINGS))
    items = _campaign_rows(session, scope, period, by)
    previous = {row["key"]: row for row in _campaign_rows(session, scope, period.previous(), by)}
    for item in items:
        before = previous.get(item["key"], {})
        item["previous_leads"] = before.get("leads", 0)
        item["previous_conversion_rate"] = before.get("conversion_rate", 0.0)
    return {"period": period.as_dict(), "by": by, "items": items, "limit": MAX_GROUPS}


# -- trends -------------------------------------------------------------------------------


def _bucket_of(column: Any, period: Period, starts: list[date]) -> Any:
    """The index of the bucket holding `column`'s time (rows are inside the period already)."""
    edges = [period.local_midnight(day) for day in starts[1:]]
    if not edges:
        return literal(0, Integer)
    return case(*((column < edge, index) for index, edge in enumerate(edges)), else_=len(edges))


def trends(
    session: Session, *, scope: Scope, period: Period, bucket: str = "day"
) -> dict[str, Any]:
    """Leads per day, week or month by level and by status; interactions by kind."""
    starts = buckets(period, bucket)
    size = len(starts)
    index = _bucket_of(Lead.created_time, period, starts).label("b")
    stmt = (
        select(index, Lead.score_level, Lead.status, func.count())
        .where(*_where(scope, period))
        .group_by(index, Lead.score_level, Lead.status)
    )
    leads = [0] * size
    by_level = {level.value: [0] * size for level in ScoreLevel}
    by_status = {status.value: [0] * size for status in Status}
    for b, level, status, n in session.execute(stmt):
        leads[b] += n
        by_level[ScoreLevel(level).value][b] += n
        by_status[Status(status).value][b] += n
    at = _bucket_of(Interaction.occurred_at, period, starts).label("b")
    by_kind = {kind.value: [0] * size for kind in Kind}
    stmt = interactions_query(scope, period, at, Interaction.kind, func.count()).group_by(
        at, Interaction.kind
    )
    for b, kind, n in session.execute(stmt):
        by_kind[Kind(kind).value][b] += n
    previous = session.scalar(select(func.count()).where(*_where(scope, period.previous()))) or 0
    return {
        "period": period.as_dict(),
        "bucket": bucket,
        "labels": [day.isoformat() for day in starts],
        "leads": leads,
        "total": sum(leads),
        "previous_total": int(previous),
        "by_level": by_level,
        "by_status": by_status,
        "interactions": by_kind,
        "interactions_total": {kind: sum(values) for kind, values in by_kind.items()},
    }
