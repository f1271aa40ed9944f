"""Meta app settings, Page connections, lead forms, and the webhook inbox."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from leadhub.db import Base, TimestampMixin, utcnow
from leadhub.distributors.models import Distributor


class MetaApp(Base, TimestampMixin):
    """The clinic's Meta app (one row); the environment, when set, wins over it."""

    __tablename__ = "meta_app"

    id: Mapped[int] = mapped_column(primary_key=True)
    app_id: Mapped[str | None] = mapped_column(String(32))
    app_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    verify_token_encrypted: Mapped[str | None] = mapped_column(Text)


class ConnectionStatus(enum.StrEnum):
    ACTIVE = "active"
    NEEDS_REAUTH = "needs_reauth"
    DISABLED = "disabled"


class PageConnection(Base, TimestampMixin):
    """A distributor's Facebook Page whose leads LeadHub reads with a Page access token."""

    __tablename__ = "page_connection"

    id: Mapped[int] = mapped_column(primary_key=True)
    distributor_id: Mapped[int] = mapped_column(ForeignKey("distributor.id"), index=True)
    page_id: Mapped[str] = mapped_column(String(32), unique=True)
    page_name: Mapped[str | None] = mapped_column(String(255))
    token_encrypted: Mapped[str] = mapped_column(Text)
    status: Mapped[ConnectionStatus] = mapped_column(default=ConnectionStatus.ACTIVE)
    subscribed: Mapped[bool] = mapped_column(default=False)
    last_sync_at: Mapped[datetime | None]
    last_lead_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # What debug_token said when the token was last checked (never the token itself).
    token_info: Mapped[dict[str, Any]] = mapped_column(default=dict)
    token_checked_at: Mapped[datetime | None]

    distributor: Mapped[Distributor] = relationship(lazy="joined")
    forms: Mapped[list[LeadForm]] = relationship(
        back_populates="page_connection", order_by="LeadForm.name"
    )


class LeadForm(Base, TimestampMixin):
    """A Page's lead form: its questions, how they map to lead fields, and its treatment."""

    __tablename__ = "lead_form"

    id: Mapped[int] = mapped_column(primary_key=True)
    page_connection_id: Mapped[int] = mapped_column(
        ForeignKey("page_connection.id", ondelete="CASCADE"), index=True
    )
    form_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str | None] = mapped_column(String(16))
    locale: Mapped[str | None] = mapped_column(String(16))
    questions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    field_mapping: Mapped[dict[str, Any]] = mapped_column(default=dict)
    treatment: Mapped[str | None] = mapped_column(String(64))
    privacy_policy_url: Mapped[str | None] = mapped_column(Text)
    last_polled_time: Mapped[int | None]  # Meta's time_created of the newest lead seen
    last_lead_at: Mapped[datetime | None]

    page_connection: Mapped[PageConnection] = relationship(back_populates="forms", lazy="joined")


class InboxStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its job (or for a new Page token)
    DONE = "done"
    FAILED = "failed"  # could not be understood; the reason and the data are kept
    ORPHAN = "orphan"  # for a Page no distributor has connected


class InboxSource(enum.StrEnum):
    WEBHOOK = "webhook"
    POLL = "poll"
    BACKFILL = "backfill"


class WebhookEvent(Base):
    """One lead Meta told us about: the inbox that makes sure nothing is lost or doubled."""

    __tablename__ = "webhook_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    leadgen_id: Mapped[str] = mapped_column(String(32), unique=True)
    page_id: Mapped[str | None] = mapped_column(String(32))
    form_id: Mapped[str | None] = mapped_column(String(32))
    ad_id: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[InboxSource] = mapped_column(default=InboxSource.WEBHOOK)
    change: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the webhook's change, as sent
    payload: Mapped[dict[str, Any] | None]  # the lead as fetched, kept when it fails
    status: Mapped[InboxStatus] = mapped_column(default=InboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("lead.id", ondelete="SET NULL"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_webhook_event_status_received", "status", "received_at"),
        Index("ix_webhook_event_page", "page_id", "received_at"),
    )
