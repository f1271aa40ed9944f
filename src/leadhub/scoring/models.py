"""Versioned scoring rule sets, and the runs that rescore leads in the background."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from leadhub.db import Base, utcnow


class ScoringRuleSet(Base):
    """One version of the rules; saving a change adds a version, old ones stay readable."""

    __tablename__ = "scoring_rule_set"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    weights: Mapped[dict[str, Any]]
    treatment_values: Mapped[dict[str, Any]]
    age_ranges: Mapped[dict[str, Any]]
    level_thresholds: Mapped[dict[str, Any]]
    abandoned_hours: Mapped[int] = mapped_column(default=48)
    active: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_by_name: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        # At most one active version.
        Index(
            "ix_scoring_rule_set_active",
            "active",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )


class RunKind(enum.StrEnum):
    RESCORE = "rescore"  # every lead (or those not on the version yet), in batches
    FRESHNESS = "freshness"  # the periodic job: leads whose freshness bracket has changed


class RunStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ScoringRun(Base):
    """A background rescore and its progress, read by the rule-set page's progress bar."""

    __tablename__ = "scoring_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[RunKind]
    status: Mapped[RunStatus] = mapped_column(default=RunStatus.QUEUED)
    rule_set_version: Mapped[int]
    # The scope asked for: one distributor or all; every lead, or only those on other versions.
    distributor_id: Mapped[int | None] = mapped_column(
        ForeignKey("distributor.id", ondelete="CASCADE")
    )
    everything: Mapped[bool] = mapped_column(default=True)
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    changed: Mapped[int] = mapped_column(default=0)
    last_lead_id: Mapped[int] = mapped_column(default=0)  # where a resumed run goes on
    window_end: Mapped[datetime | None]  # freshness: boundaries passed up to this time
    error: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_scoring_run_kind_created", "kind", "created_at"),)

    @property
    def percent(self) -> int:
        if self.status is RunStatus.DONE:
            return 100
        return min(100, self.done * 100 // self.total) if self.total else 0

    @property
    def finished(self) -> bool:
        return self.status in (RunStatus.DONE, RunStatus.FAILED)
