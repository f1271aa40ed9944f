"""Work done on a lead: calls, emails, WhatsApp messages, meetings, notes; why leads close."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from leadhub.db import Base, TimestampMixin, utcnow


class Kind(enum.StrEnum):
    CALL = "call"
    EMAIL = "email"
    WHATSAPP = "whatsapp"
    MEETING = "meeting"
    NOTE = "note"
    STATUS_CHANGE = "status_change"
    ASSIGNMENT = "assignment"


CONTACT_KINDS = frozenset({Kind.CALL, Kind.EMAIL, Kind.WHATSAPP, Kind.MEETING})
# What reaches the person and so sets the lead's first contact time (a meeting comes after one).
FIRST_CONTACT_KINDS = frozenset({Kind.CALL, Kind.EMAIL, Kind.WHATSAPP})
USER_KINDS = (Kind.CALL, Kind.EMAIL, Kind.WHATSAPP, Kind.MEETING, Kind.NOTE)


class Outcome(enum.StrEnum):
    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    WRONG_NUMBER = "wrong_number"
    SENT = "sent"
    REPLIED = "replied"


class Interaction(Base, TimestampMixin):
    __tablename__ = "interaction"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"))
    kind: Mapped[Kind]
    outcome: Mapped[Outcome | None]
    body: Mapped[str | None] = mapped_column(Text)
    duration_seconds: Mapped[int | None]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_name: Mapped[str | None] = mapped_column(String(120))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_interaction_lead_occurred", "lead_id", "occurred_at", "id"),)


class InvalidReason(enum.StrEnum):
    """Why a lead is not a real enquiry: a fixed list."""

    SPAM = "spam"
    TEST = "test"
    WRONG_NUMBER = "wrong_number"
    DUPLICATE = "duplicate"


class LostReason(Base):
    """Why a real lead was lost: a list the admin keeps (Settings → Lost reasons)."""

    __tablename__ = "lost_reason"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
