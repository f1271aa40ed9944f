"""Notifications: the email outbox, in-app notifications, preferences, and who watches a lead."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from leadhub.db import Base, utcnow


class Kind(enum.StrEnum):
    """What a notification is about; preferences are chosen per kind."""

    HOT_LEAD = "hot_lead"  # a new lead at or above the distributor's score threshold
    ASSIGNED = "assigned"  # a lead was given to you
    STATUS_CHANGED = "status_changed"  # a lead you own or watch moved
    SPEED_TO_LEAD = "speed_to_lead"  # a new lead not contacted in time (and its escalation)
    META_REAUTH = "meta_reauth"  # a Page connection needs a new token (admins)
    WEBHOOK_FAILURES = "webhook_failures"  # failed deliveries piling up (admins)
    DAILY_SUMMARY = "daily_summary"
    REPORT = "report"  # weekly and monthly reports
    DIGEST = "digest"  # many alerts folded into one message (storm control)


# Kinds a user chooses about; a digest follows the alerts it folds.
CHOSEN_KINDS = (
    Kind.HOT_LEAD,
    Kind.ASSIGNED,
    Kind.STATUS_CHANGED,
    Kind.SPEED_TO_LEAD,
    Kind.META_REAUTH,
    Kind.WEBHOOK_FAILURES,
    Kind.DAILY_SUMMARY,
    Kind.REPORT,
)
# Kinds that can wait for the daily summary instead of coming at once.
SUMMARISABLE = frozenset({Kind.HOT_LEAD, Kind.ASSIGNED, Kind.STATUS_CHANGED})


class Delivery(enum.StrEnum):
    INSTANT = "instant"
    SUMMARY = "summary"  # listed in the daily summary only
    OFF = "off"


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for the send job (or for its next try)
    SENDING = "sending"  # claimed by one send job
    SENT = "sent"
    FAILED = "failed"  # gave up after the last try
    HELD = "held"  # no SMTP_URL: kept here for admins to read
    FOLDED = "folded"  # part of a digest, not sent on its own


class OutboxMessage(Base):
    """One email: rendered and sent by a job, never twice for the same event."""

    __tablename__ = "notification_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_key: Mapped[str] = mapped_column(String(200), unique=True)
    recipient_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    to_address: Mapped[str] = mapped_column(String(254))
    kind: Mapped[Kind]
    template: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(5), default="en")
    # Kept so an erase request finds every message about a person.
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("lead.id", ondelete="CASCADE"), index=True
    )
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    subject: Mapped[str] = mapped_column(String(255), default="")
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    status: Mapped[OutboxStatus] = mapped_column(default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    digest_id: Mapped[int | None] = mapped_column(
        ForeignKey("notification_outbox.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_notification_outbox_due", "status", "next_attempt_at"),
        Index("ix_notification_outbox_recipient_created", "recipient_id", "created_at"),
        Index("ix_notification_outbox_status_id", "status", "id"),
    )


class Notification(Base):
    """One in-app notification: the bell counts the unread ones."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_key: Mapped[str] = mapped_column(String(200), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[Kind]
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("lead.id", ondelete="CASCADE"), index=True
    )
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    read_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_notification_user_id", "user_id", "id"),
        Index("ix_notification_user_unread", "user_id", "read_at", "id"),
    )


class NotificationPref(Base):
    """A user's choices; language and time zone stay on the user (auth's preferences)."""

    __tablename__ = "notification_pref"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    kinds: Mapped[dict[str, Any]] = mapped_column(default=dict)  # kind -> Delivery value
    email: Mapped[bool] = mapped_column(default=True)
    in_app: Mapped[bool] = mapped_column(default=True)
    summary_hour: Mapped[int] = mapped_column(default=8)  # local hour of the daily summary
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DistributorNotificationSetting(Base):
    """A distributor's alert thresholds and the defaults its managers chose for its people."""

    __tablename__ = "notification_distributor_setting"

    distributor_id: Mapped[int] = mapped_column(
        ForeignKey("distributor.id", ondelete="CASCADE"), primary_key=True
    )
    speed_to_lead_minutes: Mapped[int] = mapped_column(default=15)
    score_threshold: Mapped[int] = mapped_column(default=30)
    default_kinds: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LeadWatcher(Base):
    """Someone who wants to hear about a lead's status changes without owning it."""

    __tablename__ = "lead_watcher"

    lead_id: Mapped[int] = mapped_column(
        ForeignKey("lead.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
