"""Notifications for people: the bell's list, preferences, distributor settings, watching, the
admin outbox. Services take the session first and never commit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from leadhub.audit import service as audit
from leadhub.auth.models import CLINIC_ROLES, Role, User
from leadhub.auth.permissions import ensure_distributor
from leadhub.db import decode_cursor, encode_cursor, utcnow
from leadhub.errors import N_, Forbidden, InvalidInput, NotFound
from leadhub.leads.models import Lead
from leadhub.notifications import messages
from leadhub.notifications.models import (
    Delivery,
    DistributorNotificationSetting,
    Kind,
    LeadWatcher,
    Notification,
    NotificationPref,
    OutboxMessage,
    OutboxStatus,
)
from leadhub.notifications.schemas import DistributorSettings, NotificationPrefs
from leadhub.notifications.triggers import DEFAULT_SCORE_THRESHOLD, DEFAULT_SPEED_TO_LEAD_MINUTES

PREF_FIELDS = ("kinds", "email", "in_app", "summary_hour")
SETTING_FIELDS = ("speed_to_lead_minutes", "score_threshold", "default_kinds")


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None


# --- the bell ---------------------------------------------------------------------------------


def unread_count(session: Session, *, user: User) -> int:
    stmt = (
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )
    return session.scalar(stmt) or 0


def list_for(
    session: Session,
    *,
    user: User,
    limit: int = 50,
    cursor: str | None = None,
    unread: bool = False,
) -> Page:
    """A user's notifications, newest first, by cursor (the id of the last one shown)."""
    stmt = select(Notification).where(Notification.user_id == user.id)
    if unread:
        stmt = stmt.where(Notification.read_at.is_(None))
    if cursor:
        (last_id,) = decode_cursor(cursor, [int])
        stmt = stmt.where(Notification.id < last_id)
    rows = list(session.scalars(stmt.order_by(Notification.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor([rows[-1].id]) if more else None)


def describe(notification: Notification) -> dict[str, Any]:
    """The line and the link of a notification, in the current language."""
    template = notification.params.get("template") or notification.kind.value
    return {
        "id": notification.id,
        "kind": notification.kind,
        "lead_id": notification.lead_id,
        "text": messages.subject(template, notification.params),
        "link": messages.link_path(template, notification.params, notification.lead_id),
        "params": notification.params,
        "read_at": notification.read_at,
        "created_at": notification.created_at,
    }


def mark_read(
    session: Session, *, user: User, ids: list[int] | None = None, everything: bool = False
) -> int:
    """Mark some (or all) of a user's own notifications read; returns how many changed."""
    if not everything and not ids:
        raise InvalidInput(N_("Say which notifications to mark read, or all of them."))
    stmt = update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if not everything:
        stmt = stmt.where(Notification.id.in_(ids or []))
    return session.execute(stmt.values(read_at=utcnow())).rowcount or 0


# --- preferences --------------------------------------------------------------------------------


def get_prefs(session: Session, *, user: User) -> NotificationPrefs:
    pref = session.get(NotificationPref, user.id)
    if pref is None:
        return NotificationPrefs()
    return NotificationPrefs(
        kinds=pref.kinds, email=pref.email, in_app=pref.in_app, summary_hour=pref.summary_hour
    )


def update_prefs(session: Session, *, user: User, data: NotificationPrefs) -> NotificationPref:
    """A user's own choices (language and time zone stay on the account page)."""
    pref = session.get(NotificationPref, user.id)
    if pref is None:
        pref = NotificationPref(user_id=user.id, kinds={}, email=True, in_app=True, summary_hour=8)
        session.add(pref)
    before = audit.jsonable(audit.snapshot(pref, PREF_FIELDS))
    pref.kinds = {kind.value: delivery.value for kind, delivery in data.kinds.items()}
    pref.email, pref.in_app, pref.summary_hour = data.email, data.in_app, data.summary_hour
    audit.record_changes(
        session,
        actor=user,
        action="notifications.preferences",
        object_type="user",
        object_id=user.id,
        before=before,
        after=audit.jsonable(audit.snapshot(pref, PREF_FIELDS)),
    )
    return pref


# --- unsubscribing from an email's footer, without signing in ------------------------------------

UNSUBSCRIBE_SALT = "leadhub.notifications.unsubscribe"
UNSUBSCRIBE_MAX_AGE = 90 * 24 * 3600  # seconds a footer link keeps working


def unsubscribe_token(secret_key: str, *, user_id: int, kind: Kind) -> str:
    """A signed link parameter that switches one kind of email off for one person."""
    serializer = URLSafeTimedSerializer(secret_key, salt=UNSUBSCRIBE_SALT)
    return serializer.dumps({"u": user_id, "k": kind.value})


def read_unsubscribe_token(secret_key: str, token: str) -> tuple[int, Kind]:
    serializer = URLSafeTimedSerializer(secret_key, salt=UNSUBSCRIBE_SALT)
    try:
        data = serializer.loads(token, max_age=UNSUBSCRIBE_MAX_AGE)
        return int(data["u"]), Kind(data["k"])
    except (BadSignature, KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(
            N_("This link is not valid or has expired. Sign in to change your preferences.")
        ) from exc


def unsubscribe(session: Session, *, user_id: int, kind: Kind) -> User:
    """Switch one kind of notification off for the person a signed link names."""
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise InvalidInput(
            N_("This link is not valid or has expired. Sign in to change your preferences.")
        )
    pref = session.get(NotificationPref, user.id)
    if pref is None:
        pref = NotificationPref(user_id=user.id, kinds={}, email=True, in_app=True, summary_hour=8)
        session.add(pref)
    before = audit.jsonable(audit.snapshot(pref, PREF_FIELDS))
    pref.kinds = {**(pref.kinds or {}), kind.value: Delivery.OFF.value}
    audit.record_changes(
        session,
        actor=None,
        action="notifications.unsubscribe",
        object_type="user",
        object_id=user.id,
        before=before,
        after=audit.jsonable(audit.snapshot(pref, PREF_FIELDS)),
    )
    return user


# --- distributor settings -----------------------------------------------------------------------

SETTING_EDITORS = (Role.SUPERADMIN, Role.ADMIN, Role.MANAGER)


def get_settings(session: Session, *, distributor_id: int, user: User) -> DistributorSettings:
    ensure_distributor(user, distributor_id)
    row = session.get(DistributorNotificationSetting, distributor_id)
    if row is None:
        return DistributorSettings(
            speed_to_lead_minutes=DEFAULT_SPEED_TO_LEAD_MINUTES,
            score_threshold=DEFAULT_SCORE_THRESHOLD,
        )
    return DistributorSettings(
        speed_to_lead_minutes=row.speed_to_lead_minutes,
        score_threshold=row.score_threshold,
        default_kinds=row.default_kinds,
    )


def update_settings(
    session: Session, *, distributor_id: int, data: DistributorSettings, actor: User
) -> DistributorNotificationSetting:
    """Thresholds and defaults of a distributor: its managers, or the clinic's admins."""
    if actor.role not in SETTING_EDITORS:
        raise Forbidden(N_("Only managers and admins set a distributor's notifications."))
    ensure_distributor(actor, distributor_id)
    from leadhub.distributors.models import Distributor

    if session.get(Distributor, distributor_id) is None:
        raise NotFound(N_("No such distributor."))
    row = session.get(DistributorNotificationSetting, distributor_id)
    if row is None:
        row = DistributorNotificationSetting(distributor_id=distributor_id, default_kinds={})
        session.add(row)
    before = audit.jsonable(audit.snapshot(row, SETTING_FIELDS))
    row.speed_to_lead_minutes = data.speed_to_lead_minutes
    row.score_threshold = data.score_threshold
    row.default_kinds = {k.value: v.value for k, v in data.default_kinds.items()}
    audit.record_changes(
        session,
        actor=actor,
        action="notifications.distributor_settings",
        object_type="distributor",
        object_id=distributor_id,
        before=before,
        after=audit.jsonable(audit.snapshot(row, SETTING_FIELDS)),
    )
    return row


# --- watching -----------------------------------------------------------------------------------


def is_watching(session: Session, *, lead_id: int, user: User) -> bool:
    return session.get(LeadWatcher, (lead_id, user.id)) is not None


def watch(session: Session, *, lead: Lead, user: User, on: bool) -> bool:
    """Follow (or stop following) a lead's status changes; the caller checked its scope."""
    row = session.get(LeadWatcher, (lead.id, user.id))
    if on and row is None:
        session.add(LeadWatcher(lead_id=lead.id, user_id=user.id))
    elif not on and row is not None:
        session.delete(row)
    return on


# --- the admin outbox ---------------------------------------------------------------------------


def ensure_admin(user: User) -> None:
    if user.role not in CLINIC_ROLES:
        raise Forbidden()


def list_outbox(
    session: Session,
    *,
    user: User,
    status: OutboxStatus | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    """Outbox messages, newest first, optionally of one status (admins only)."""
    ensure_admin(user)
    stmt = select(OutboxMessage)
    if status is not None:
        stmt = stmt.where(OutboxMessage.status == status)
    if cursor:
        (last_id,) = decode_cursor(cursor, [int])
        stmt = stmt.where(OutboxMessage.id < last_id)
    rows = list(session.scalars(stmt.order_by(OutboxMessage.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor([rows[-1].id]) if more else None)


def outbox_counts(session: Session, *, user: User) -> dict[str, int]:
    ensure_admin(user)
    stmt = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    found = {status.value: n for status, n in session.execute(stmt)}
    return {status.value: found.get(status.value, 0) for status in OutboxStatus}


def get_message(session: Session, *, message_id: int, user: User) -> OutboxMessage:
    ensure_admin(user)
    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(N_("No such message."))
    return message


def retry_message(session: Session, *, message_id: int, actor: User) -> OutboxMessage:
    from leadhub.notifications import delivery

    ensure_admin(actor)
    message = delivery.retry(session, message_id=message_id)
    audit.record(
        session,
        actor=actor,
        action="notifications.retry",
        object_type="notification_outbox",
        object_id=message.id,
    )
    return message
