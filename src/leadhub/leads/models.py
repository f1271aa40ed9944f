"""The lead: one person who filled a lead form (or was entered by hand)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from leadhub.db import Base, SoftDeleteMixin, TimestampMixin, utcnow


class Status(enum.StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    CONTACTED = "contacted"
    CONVERTED = "converted"
    LOST = "lost"
    INVALID = "invalid"


# Treatments offered on forms and in filters; the scoring rule set will own their values.
TREATMENTS = (
    "hair_transplant",
    "dental_implants",
    "teeth_whitening",
    "veneers",
    "rhinoplasty",
    "liposuction",
    "breast_aesthetics",
    "bariatric_surgery",
    "eye_surgery",
    "other",
)

PIPELINE = (Status.NEW, Status.ASSIGNED, Status.CONTACTED, Status.CONVERTED)
OPEN_STATUSES = frozenset({Status.NEW, Status.ASSIGNED, Status.CONTACTED})


class Source(enum.StrEnum):
    META = "meta"
    MANUAL = "manual"
    IMPORT = "import"


class Platform(enum.StrEnum):
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    OTHER = "other"


class ScoreLevel(enum.StrEnum):
    HOT = "hot"
    WARM = "warm"
    MEDIUM = "medium"
    COOL = "cool"
    COLD = "cold"


lead_tag = Table(
    "lead_tag",
    Base.metadata,
    Column("lead_id", ForeignKey("lead.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Tag(Base):
    __tablename__ = "tag"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    color: Mapped[str] = mapped_column(String(7), default="#6c757d")


# Partial-index conditions, the same on SQLite and PostgreSQL. The desk lists live leads only, so
# its indexes hold live leads only: a list reads ids and sort keys from the index alone (no row
# visits to check `deleted_at`), and fetches the one page of rows it shows by primary key.
LIVE = {
    "sqlite_where": text("deleted_at IS NULL"),
    "postgresql_where": text("deleted_at IS NULL"),
}
CREATED_FILTERED = ("created_time", "id", "status", "treatment")
SCORE_FILTERED = ("score", "id", "status", "treatment")
# What the analytics panels read of a period's leads, carried by the created-time indexes so
# a panel is answered from the index alone (no second pair of indexes to write on every change).
ANALYTICS_COVERED = ("assignee_id", "pipeline_stage", "first_contacted_at", "score_level")
UNASSIGNED = {
    "sqlite_where": text("deleted_at IS NULL AND assignee_id IS NULL"),
    "postgresql_where": text("deleted_at IS NULL AND assignee_id IS NULL"),
}
DELETED = {
    "sqlite_where": text("deleted_at IS NOT NULL"),
    "postgresql_where": text("deleted_at IS NOT NULL"),
}
DUPLICATES = {
    "sqlite_where": text("duplicate_of_id IS NOT NULL"),
    "postgresql_where": text("duplicate_of_id IS NOT NULL"),
}


class Lead(Base, TimestampMixin, SoftDeleteMixin):
    __tablename__ = "lead"

    id: Mapped[int] = mapped_column(primary_key=True)
    distributor_id: Mapped[int] = mapped_column(ForeignKey("distributor.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[Status] = mapped_column(default=Status.NEW)
    source: Mapped[Source] = mapped_column(default=Source.MANUAL)

    # Meta: where the lead came from
    meta_lead_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    page_id: Mapped[str | None] = mapped_column(String(32))
    page_name: Mapped[str | None] = mapped_column(String(255))
    form_id: Mapped[str | None] = mapped_column(String(32))
    form_name: Mapped[str | None] = mapped_column(String(255))
    ad_id: Mapped[str | None] = mapped_column(String(32))
    ad_name: Mapped[str | None] = mapped_column(String(255))
    adset_id: Mapped[str | None] = mapped_column(String(32))
    adset_name: Mapped[str | None] = mapped_column(String(255))
    campaign_id: Mapped[str | None] = mapped_column(String(32))
    campaign_name: Mapped[str | None] = mapped_column(String(255))
    platform: Mapped[Platform | None]
    is_organic: Mapped[bool] = mapped_column(default=False)
    created_time: Mapped[datetime] = mapped_column(default=utcnow)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    # The person
    full_name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(2))
    city: Mapped[str | None] = mapped_column(String(120))
    language: Mapped[str | None] = mapped_column(String(5))
    treatment: Mapped[str | None] = mapped_column(String(64))
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    consent: Mapped[dict[str, Any]] = mapped_column(default=dict)
    privacy_policy_url: Mapped[str | None] = mapped_column(Text)  # the form's, when it came
    # What intake could not read but kept, e.g. {"phone": "raw value"}; shown as warnings.
    intake_warnings: Mapped[dict[str, Any]] = mapped_column(default=dict)

    # Work on it
    score: Mapped[int] = mapped_column(default=0)
    score_level: Mapped[ScoreLevel] = mapped_column(default=ScoreLevel.COLD)
    score_breakdown: Mapped[dict[str, Any]] = mapped_column(default=dict)
    score_version: Mapped[int | None]
    first_contacted_at: Mapped[datetime | None]
    converted_at: Mapped[datetime | None]
    # When the lead was first given to someone, and the furthest pipeline stage it has reached
    # (0 new, 1 assigned, 2 contacted, 3 converted; never lowered): set by analytics/stages.py.
    assigned_at: Mapped[datetime | None]
    pipeline_stage: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    lost_reason: Mapped[str | None] = mapped_column(Text)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("lead.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    tags: Mapped[list[Tag]] = relationship(secondary=lead_tag, lazy="selectin", order_by=Tag.name)

    __mapper_args__ = {"version_id_col": version}

    # Set on every new lead so the flush hook (projections.py) knows what a change replaced.
    _TRACKED_DEFAULTS: dict[str, Any] = {
        "status": Status.NEW,
        "assignee_id": None,
        "deleted_at": None,
        "full_name": None,
        "email": None,
        "phone": None,
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**{**self._TRACKED_DEFAULTS, **kwargs})

    # Every index is written on nearly every change of a lead (a changed indexed column rules out
    # PostgreSQL's heap-only update), so there are as few as the lists need: each scope's sort
    # keys with the filters used most (status, treatment) trailing, checked in the index.
    __table_args__ = (
        # The clinic-wide lists; the first also serves status and treatment filters and covers
        # the analytics panels' columns (distributor first among them, for their GROUP BY).
        Index(
            "ix_lead_created",
            *CREATED_FILTERED,
            "distributor_id",
            *ANALYTICS_COVERED,
            **LIVE,
        ),
        # Narrow: the scoring dashboard counts every live lead per score range from it.
        Index("ix_lead_score", "score", "id", **LIVE),
        Index(
            "ix_lead_distributor_created",
            "distributor_id",
            *CREATED_FILTERED,
            *ANALYTICS_COVERED,
            **LIVE,
        ),
        Index("ix_lead_distributor_score", "distributor_id", *SCORE_FILTERED, **LIVE),
        # An assignee's few thousand leads: by score they are read from here and sorted (the
        # score trails for it), since an index in score order gets its new entries all over
        # itself when a bulk change moves many leads (migration 0016).
        Index("ix_lead_assignee_created", "assignee_id", *CREATED_FILTERED, "score", **LIVE),
        # A distributor's unassigned leads, which its agents see beside their own (scope_parts).
        Index("ix_lead_unassigned_created", "distributor_id", *CREATED_FILTERED, **UNASSIGNED),
        Index("ix_lead_unassigned_score", "distributor_id", *SCORE_FILTERED, **UNASSIGNED),
        # Deleted rows only: over all rows SQLite (no histograms) picks it for `deleted_at IS NULL`.
        Index("ix_lead_deleted", "deleted_at", "id", **DELETED),
        # A person's leads, deleted too (privacy), each value's in order: intake finds a
        # person's first live lead (it links later ones to it) near the first entry.
        Index("ix_lead_email", "email", "created_time", "id"),
        Index("ix_lead_phone", "phone", "created_time", "id"),
        Index("ix_lead_campaign", "campaign_id"),
        Index("ix_lead_form", "form_id"),
        # Only the few duplicates: a lookup `duplicate_of_id = x` implies the condition.
        Index("ix_lead_duplicate_of", "duplicate_of_id", **DUPLICATES),
    )


class LeadStatusCount(Base):
    """Live leads per (distributor, assignee, status): the desk's counts without a full scan."""

    __tablename__ = "lead_status_count"

    distributor_id: Mapped[int] = mapped_column(
        ForeignKey("distributor.id", ondelete="CASCADE"), primary_key=True
    )
    assignee_key: Mapped[int] = mapped_column(primary_key=True)  # 0 when unassigned
    status: Mapped[Status] = mapped_column(primary_key=True)
    n: Mapped[int] = mapped_column(default=0)


class LeadSearchTerm(Base):
    """Folded words of a lead's name, email and phone, searched by prefix on one index."""

    __tablename__ = "lead_search_term"

    # Byte order on PostgreSQL too, so a range on the index is exactly a prefix match.
    term: Mapped[str] = mapped_column(
        String(64).with_variant(String(64, collation="C"), "postgresql"), primary_key=True
    )
    lead_id: Mapped[int] = mapped_column(
        ForeignKey("lead.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    # The lead's distributor, copied: a manager's or agent's search reads only their terms.
    distributor_id: Mapped[int]

    __table_args__ = (
        Index("ix_lead_search_term_distributor", "distributor_id", "term", "lead_id"),
    )
