"""Turning alerts into rows: in-app notifications and outbox emails, batched, with storm control.

Nothing here sends. Rows are inserted with ON CONFLICT DO NOTHING on their event key, so an
event that is seen twice (a job run again, a periodic check that finds the same breach) makes
one email and one in-app notification per person, ever.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from leadhub.auth.models import User
from leadhub.db import utcnow
from leadhub.notifications.models import (
    Delivery,
    DistributorNotificationSetting,
    Kind,
    Notification,
    NotificationPref,
    OutboxMessage,
    OutboxStatus,
)

STORM_LIMIT = 20  # alerts to one person within STORM_WINDOW before the rest fold into a digest
STORM_WINDOW = timedelta(minutes=10)
# Kinds that are already one message about many things: never counted or folded.
NOT_FOLDED = frozenset({Kind.DIGEST, Kind.DAILY_SUMMARY, Kind.REPORT})
# Kinds that live in the mailbox only: the bell is for things to act on.
EMAIL_ONLY = frozenset({Kind.DIGEST, Kind.DAILY_SUMMARY, Kind.REPORT})


@dataclass(frozen=True)
class Alert:
    """Tell one user about one thing; `key` names the event, the same key is delivered once."""

    kind: Kind
    user_id: int
    key: str
    lead_id: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    template: str | None = None  # defaults to the kind's name


@dataclass
class Queued:
    """What a delivery inserted: the bell counts to push, and whether emails wait to be sent."""

    notified_users: set[int] = field(default_factory=set)
    emails: int = 0


def upsert_ignoring(session: Session, model: type, rows: list[dict[str, Any]]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING, in one statement, on SQLite and PostgreSQL."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(make(model).on_conflict_do_nothing(), rows)


def delivery_for(
    kind: Kind, chosen: dict[str, Any] | None, defaults: dict[str, Any] | None
) -> Delivery:
    """A person's own choice, else their distributor's default, else instant."""
    if kind is Kind.DIGEST:
        return Delivery.INSTANT
    for source in (chosen or {}, defaults or {}):
        value = source.get(kind.value)
        if value in Delivery._value2member_map_:
            return Delivery(value)
    return Delivery.INSTANT


@dataclass(frozen=True)
class Recipient:
    user_id: int
    email: str
    language: str
    kinds: dict[str, Any]
    defaults: dict[str, Any]
    wants_email: bool
    wants_in_app: bool


def recipients(session: Session, user_ids: Iterable[int]) -> dict[int, Recipient]:
    """Active users with their choices and their distributor's defaults, in one query."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    stmt = (
        select(
            User.id,
            User.email,
            User.language,
            NotificationPref.kinds,
            NotificationPref.email.label("pref_email"),
            NotificationPref.in_app,
            DistributorNotificationSetting.default_kinds,
        )
        .outerjoin(NotificationPref, NotificationPref.user_id == User.id)
        .outerjoin(
            DistributorNotificationSetting,
            DistributorNotificationSetting.distributor_id == User.distributor_id,
        )
        .where(User.id.in_(ids), User.active.is_(True))
    )
    return {
        row.id: Recipient(
            user_id=row.id,
            email=row.email,
            language=row.language or "en",
            kinds=row.kinds or {},
            defaults=row.default_kinds or {},
            wants_email=row.pref_email if row.pref_email is not None else True,
            wants_in_app=row.in_app if row.in_app is not None else True,
        )
        for row in session.execute(stmt)
    }


def _recent_counts(session: Session, user_ids: set[int], since: datetime) -> Counter[int]:
    """Alert emails per recipient since `since` (one grouped query on the recipient index)."""
    if not user_ids:
        return Counter()
    stmt = (
        select(OutboxMessage.recipient_id, func.count())
        .where(
            OutboxMessage.recipient_id.in_(sorted(user_ids)),
            OutboxMessage.created_at >= since,
            OutboxMessage.kind.not_in(list(NOT_FOLDED)),
        )
        .group_by(OutboxMessage.recipient_id)
    )
    return Counter({user_id: n for user_id, n in session.execute(stmt)})


def _window(now: datetime) -> tuple[int, datetime]:
    """The storm window `now` falls in: its number and the moment its digest goes out."""
    seconds = int(STORM_WINDOW.total_seconds())
    number = int(now.timestamp()) // seconds
    return number, datetime.fromtimestamp((number + 1) * seconds, tz=now.tzinfo)


def deliver(session: Session, alerts: list[Alert], *, now: datetime | None = None) -> Queued:
    """Insert the in-app notifications and emails these alerts call for (no commit)."""
    now = now or utcnow()
    people = recipients(session, (a.user_id for a in alerts))
    in_app_rows: list[dict[str, Any]] = []
    email_rows: list[dict[str, Any]] = []
    queued = Queued()
    for alert in alerts:
        person = people.get(alert.user_id)
        if person is None:
            continue
        delivery = delivery_for(alert.kind, person.kinds, person.defaults)
        if delivery is Delivery.OFF:
            continue
        key = f"{alert.key}:u{person.user_id}"
        if person.wants_in_app and alert.kind not in EMAIL_ONLY:
            in_app_rows.append(
                {
                    "event_key": key,
                    "user_id": person.user_id,
                    "kind": alert.kind,
                    "lead_id": alert.lead_id,
                    "params": {**alert.params, "template": alert.template}
                    if alert.template
                    else alert.params,
                    "created_at": now,
                }
            )
            queued.notified_users.add(person.user_id)
        if person.wants_email and person.email and delivery is Delivery.INSTANT:
            email_rows.append(
                {
                    "event_key": key,
                    "recipient_id": person.user_id,
                    "to_address": person.email,
                    "kind": alert.kind,
                    "template": alert.template or alert.kind.value,
                    "language": person.language,
                    "lead_id": alert.lead_id,
                    "params": alert.params,
                    "status": OutboxStatus.PENDING,
                    "attempts": 0,
                    "subject": "",
                    "next_attempt_at": now,
                    "created_at": now,
                }
            )
    upsert_ignoring(session, Notification, in_app_rows)
    folded = _fold_storms(session, email_rows, now)
    upsert_ignoring(session, OutboxMessage, email_rows)
    queued.emails = len(email_rows)
    _link_folded(session, folded)
    return queued


def _fold_storms(
    session: Session, rows: list[dict[str, Any]], now: datetime
) -> dict[str, list[str]]:
    """Past STORM_LIMIT alerts to one person in STORM_WINDOW, the rest wait for one digest.

    Returns the event keys folded into each digest (by the digest's key).
    """
    counted = {r["recipient_id"] for r in rows if r["kind"] not in NOT_FOLDED}
    recent = _recent_counts(session, counted, now - STORM_WINDOW)
    number, digest_at = _window(now)
    digests: dict[int, dict[str, Any]] = {}
    folded: dict[str, list[str]] = {}
    for row in rows:
        if row["kind"] in NOT_FOLDED:
            continue
        user_id = row["recipient_id"]
        recent[user_id] += 1
        if recent[user_id] <= STORM_LIMIT:
            continue
        row["status"] = OutboxStatus.FOLDED
        digest_key = f"digest:{number}:u{user_id}"
        folded.setdefault(digest_key, []).append(row["event_key"])
        digests.setdefault(
            user_id,
            {
                **row,
                "event_key": digest_key,
                "kind": Kind.DIGEST,
                "template": Kind.DIGEST.value,
                "lead_id": None,
                "params": {"window": number},
                "status": OutboxStatus.PENDING,
                "next_attempt_at": digest_at,
            },
        )
    upsert_ignoring(session, OutboxMessage, list(digests.values()))
    return folded


def _link_folded(session: Session, by_digest: dict[str, list[str]]) -> None:
    """Point each folded email at its digest, so the digest lists what it stands for."""
    if not by_digest:
        return
    ids = dict(
        session.execute(
            select(OutboxMessage.event_key, OutboxMessage.id).where(
                OutboxMessage.event_key.in_(list(by_digest))
            )
        ).all()
    )
    for digest_key, keys in by_digest.items():
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.event_key.in_(keys), OutboxMessage.digest_id.is_(None))
            .values(digest_id=ids[digest_key])
        )


def unread_counts(session: Session, user_ids: Iterable[int]) -> dict[int, int]:
    """Unread in-app notifications per user, in one grouped query."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    stmt = (
        select(Notification.user_id, func.count())
        .where(Notification.user_id.in_(ids), Notification.read_at.is_(None))
        .group_by(Notification.user_id)
    )
    counts = dict.fromkeys(ids, 0)
    counts.update({user_id: n for user_id, n in session.execute(stmt)})
    return counts


class SendKick:
    """Ask for a send run at most once a second per process; a burst shares one run."""

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self._due = 0.0
        self._lock = threading.Lock()

    def due(self) -> bool:
        with self._lock:
            now = time.monotonic()
            if now < self._due:
                return False
            self._due = now + self.interval
            return True
