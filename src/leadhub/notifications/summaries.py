"""The daily summary at each user's local hour, and the weekly and monthly report emails.

Every number is one SQL aggregation over the reader's scope (auth.scope), stored on the outbox
row when it is made, so the email says what was true at its hour.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from leadhub.auth.models import CLINIC_ROLES, Role, User
from leadhub.auth.scope import scope_clause
from leadhub.leads.models import Lead, ScoreLevel, Status
from leadhub.notifications.models import (
    Delivery,
    DistributorNotificationSetting,
    Kind,
    Notification,
    NotificationPref,
)
from leadhub.notifications.outbox import Alert, delivery_for

DEFAULT_SUMMARY_HOUR = 8
REPORT_ROLES = (Role.SUPERADMIN, Role.ADMIN, Role.MANAGER)
WAITING = (Status.NEW, Status.ASSIGNED)


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _count_if(*conditions: Any) -> Any:
    return func.count().filter(and_(*conditions))


def summary_numbers(session: Session, *, user: User, now: datetime) -> dict[str, int]:
    """New leads (24 h), hot leads waiting, open leads not contacted for a day, and yesterday's
    conversions (the reader's yesterday), in one pass over the reader's scope."""
    local = now.astimezone(_zone(user.timezone))
    today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    yesterday = (today - timedelta(days=1)).astimezone(UTC)
    today_utc = today.astimezone(UTC)
    day_ago = now - timedelta(days=1)
    not_contacted = Lead.first_contacted_at.is_(None)
    stmt = select(
        _count_if(Lead.created_time >= day_ago),
        _count_if(Lead.score_level == ScoreLevel.HOT, Lead.status.in_(WAITING), not_contacted),
        _count_if(Lead.status.in_(WAITING), not_contacted, Lead.created_time < day_ago),
        _count_if(Lead.converted_at >= yesterday, Lead.converted_at < today_utc),
    ).where(Lead.deleted_at.is_(None), scope_clause(user))
    new, hot, overdue, converted = session.execute(stmt).one()
    return {
        "new_leads": new,
        "hot_waiting": hot,
        "overdue": overdue,
        "converted_yesterday": converted,
    }


def held_for_summary(
    session: Session,
    *,
    user_id: int,
    kinds: dict[str, Any],
    defaults: dict[str, Any],
    since: datetime,
) -> dict[str, int]:
    """In-app notifications of the last day whose kinds the reader asked to see in the summary."""
    waiting = [kind for kind in Kind if delivery_for(kind, kinds, defaults) is Delivery.SUMMARY]
    if not waiting:
        return {}
    stmt = (
        select(Notification.kind, func.count())
        .where(
            Notification.user_id == user_id,
            Notification.created_at >= since,
            Notification.kind.in_(waiting),
        )
        .group_by(Notification.kind)
    )
    return {kind.value: n for kind, n in session.execute(stmt)}


def daily_summary_alerts(session: Session, *, now: datetime) -> list[Alert]:
    """A summary for everyone whose chosen local hour it is now (once per local day)."""
    stmt = (
        select(User, NotificationPref, DistributorNotificationSetting.default_kinds)
        .outerjoin(NotificationPref, NotificationPref.user_id == User.id)
        .outerjoin(
            DistributorNotificationSetting,
            DistributorNotificationSetting.distributor_id == User.distributor_id,
        )
        .where(User.active.is_(True))
    )
    alerts: list[Alert] = []
    # People with the same scope and time zone (the clinic's admins) share one count.
    counted: dict[tuple[Any, ...], dict[str, int]] = {}
    for user, pref, defaults in session.execute(stmt):
        hour = pref.summary_hour if pref is not None else DEFAULT_SUMMARY_HOUR
        kinds = pref.kinds if pref is not None else {}
        if delivery_for(Kind.DAILY_SUMMARY, kinds, defaults) is Delivery.OFF:
            continue
        local = now.astimezone(_zone(user.timezone))
        if local.hour != hour:
            continue
        if user.role in CLINIC_ROLES or user.distributor_id is None:
            scope: tuple[Any, ...] = ("clinic", user.role)
        elif user.role is Role.AGENT:
            scope = ("agent", user.id)
        else:
            scope = ("distributor", user.distributor_id)
        key = (*scope, user.timezone)
        if key not in counted:
            counted[key] = summary_numbers(session, user=user, now=now)
        params: dict[str, Any] = {
            "date": local.date().isoformat(),
            **counted[key],
            "held": held_for_summary(
                session,
                user_id=user.id,
                kinds=kinds,
                defaults=defaults or {},
                since=now - timedelta(days=1),
            ),
        }
        event_key = f"daily:{local.date().isoformat()}"
        alerts.append(Alert(Kind.DAILY_SUMMARY, user.id, event_key, None, params))
    return alerts


def report_numbers(
    session: Session, *, user: User, start: datetime, end: datetime
) -> dict[str, Any]:
    """A period's leads in the reader's scope: two aggregations (totals, then by status)."""
    scope = (Lead.deleted_at.is_(None), scope_clause(user))
    created = and_(Lead.created_time >= start, Lead.created_time < end)
    new, contacted, converted, lost, average = session.execute(
        select(
            _count_if(created),
            _count_if(Lead.first_contacted_at >= start, Lead.first_contacted_at < end),
            _count_if(Lead.converted_at >= start, Lead.converted_at < end),
            _count_if(created, Lead.status == Status.LOST),
            func.avg(Lead.score).filter(created),
        ).where(*scope)
    ).one()
    by_status = {
        status.value: n
        for status, n in session.execute(
            select(Lead.status, func.count()).where(*scope, created).group_by(Lead.status)
        )
    }
    return {
        "new_leads": new,
        "contacted": contacted,
        "converted": converted,
        "lost": lost,
        "average_score": round(float(average)) if average is not None else 0,
        "by_status": by_status,
    }


def report_period(kind: str, now: datetime) -> tuple[datetime, datetime, str]:
    """The last full week (Monday to Sunday) or month before `now`, in UTC, and its label."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if kind == "weekly":
        end = today - timedelta(days=today.weekday())
        start = end - timedelta(days=7)
        label = f"{start.date().isoformat()} – {(end - timedelta(days=1)).date().isoformat()}"
        return start, end, label
    end = today.replace(day=1)
    start = (end - timedelta(days=1)).replace(day=1)
    return start, end, start.strftime("%Y-%m")


def report_alerts(session: Session, *, kind: str, now: datetime) -> list[Alert]:
    """The weekly or monthly report for admins and managers (their own distributor's numbers)."""
    start, end, label = report_period(kind, now)
    people = session.scalars(
        select(User).where(User.active.is_(True), User.role.in_(list(REPORT_ROLES)))
    )
    alerts: list[Alert] = []
    by_scope: dict[int | None, dict[str, Any]] = {}  # admins share one scope: count it once
    for user in people:
        scope = None if user.role in CLINIC_ROLES else user.distributor_id
        if scope not in by_scope:
            by_scope[scope] = report_numbers(session, user=user, start=start, end=end)
        params = {"period": label, "start": start.date().isoformat(), **by_scope[scope]}
        alerts.append(
            Alert(
                Kind.REPORT,
                user.id,
                f"report:{kind}:{start.date().isoformat()}",
                None,
                params,
                template=f"{kind}_report",
            )
        )
    return alerts
