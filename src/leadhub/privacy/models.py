"""Consent per purpose, access records, erasure requests, erased Meta ids, retention runs."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from leadhub.db import Base, JSONType, utcnow


class Purpose(enum.StrEnum):
    """What a person may be contacted for; a contact channel or marketing."""

    PHONE = "phone"
    WHATSAPP = "whatsapp"
    EMAIL = "email"
    MARKETING = "marketing"


class ConsentSource(enum.StrEnum):
    """Where a consent (or its refusal) came from."""

    LEAD_FORM = "lead_form"
    PHONE_CALL = "phone_call"
    EMAIL = "email"
    WHATSAPP = "whatsapp"
    IN_PERSON = "in_person"
    WRITTEN = "written"


class LeadConsent(Base):
    """Whether a person agreed to be contacted for one purpose, with its source and time."""

    __tablename__ = "lead_consent"

    lead_id: Mapped[int] = mapped_column(
        ForeignKey("lead.id", ondelete="CASCADE"), primary_key=True
    )
    purpose: Mapped[Purpose] = mapped_column(primary_key=True)
    granted: Mapped[bool]
    source: Mapped[ConsentSource]
    given_at: Mapped[datetime]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_by_name: Mapped[str | None] = mapped_column(String(120))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class AccessKind(enum.StrEnum):
    VIEW = "view"  # the lead page
    API_READ = "api_read"  # GET /api/v1/leads/<id>
    EXPORT = "export"  # a desk export (CSV, JSON Lines, XLSX)
    PERSON_EXPORT = "person_export"  # a person's data downloaded (JSON or PDF)


class AccessRecord(Base):
    """One reading of lead data: who, when, from where; the leads are in access_record_lead."""

    __tablename__ = "access_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[AccessKind]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_name: Mapped[str | None] = mapped_column(String(120))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    lead_count: Mapped[int] = mapped_column(default=0)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_access_record_at", "at"),)


class AccessRecordLead(Base):
    """A lead read by an access record; keyed lead first, so 'who saw this lead' is one range.

    No foreign keys, like audit_event.object_id: an access log is append-only and outlives what
    it names, and a key check per row more than doubled an export's time (benchmarks/privacy.py).
    """

    __tablename__ = "access_record_lead"

    lead_id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(primary_key=True)


class ErasureStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    REJECTED = "rejected"


class ErasureRequest(Base):
    """An admin asks to erase a person's leads; a superadmin (not the same person) decides."""

    __tablename__ = "erasure_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[ErasureStatus] = mapped_column(default=ErasureStatus.PENDING)
    reason: Mapped[str] = mapped_column(Text)
    lead_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    lead_count: Mapped[int] = mapped_column(default=0)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    requested_by_name: Mapped[str | None] = mapped_column(String(120))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_by_name: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_erasure_request_status", "status", "requested_at"),)


class ErasedMetaLead(Base):
    """The Meta lead id of an erased lead, as an HMAC only: intake refuses to bring it back."""

    __tablename__ = "erased_meta_lead"

    lead_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("lead.id", ondelete="SET NULL"))
    erased_at: Mapped[datetime] = mapped_column(default=utcnow)


class AnonymisedCause(enum.StrEnum):
    ERASURE = "erasure"
    RETENTION = "retention"


class AnonymisedLead(Base):
    """A lead whose personal data is gone; the row stays so counts and analytics stay true."""

    __tablename__ = "anonymised_lead"

    lead_id: Mapped[int] = mapped_column(
        ForeignKey("lead.id", ondelete="CASCADE"), primary_key=True
    )
    cause: Mapped[AnonymisedCause]
    erasure_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("erasure_request.id", ondelete="SET NULL")
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)


class RetentionRun(Base):
    """One daily retention pass over a distributor: how many leads it anonymised."""

    __tablename__ = "retention_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    distributor_id: Mapped[int] = mapped_column(ForeignKey("distributor.id", ondelete="CASCADE"))
    months: Mapped[int]
    cutoff: Mapped[datetime]
    anonymised: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_retention_run_distributor", "distributor_id", "started_at"),)
