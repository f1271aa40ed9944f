"""Bulk operations on leads: one row per operation, one row per lead it names."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from leadhub.db import Base, utcnow


class BulkKind(enum.StrEnum):
    STATUS = "status"
    ASSIGN = "assign"
    TAG_ADD = "tag_add"
    TAG_REMOVE = "tag_remove"
    NOTE = "note"
    DELETE = "delete"
    RESTORE = "restore"
    UNDO = "undo"


class BulkStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Outcome(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"


class BulkOperation(Base):
    """One bulk change asked for by one user, worked by a job in batches."""

    __tablename__ = "bulk_operation"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[BulkKind]
    # What to do: status and reason, assignee(s), tag, note body (as the request gave them).
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # What it was asked for: {"ids": n} or {"filter": {...}}; the leads are the items' lead ids.
    selection: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Working state between batches, e.g. the round robin's next agent per distributor.
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The one distributor all its leads belong to, if so: a manager may undo only their own.
    distributor_id: Mapped[int | None] = mapped_column(ForeignKey("distributor.id"))
    status: Mapped[BulkStatus] = mapped_column(default=BulkStatus.QUEUED)
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    last_lead_id: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(45))
    request_id: Mapped[str | None] = mapped_column(String(32))
    undo_of_id: Mapped[int | None] = mapped_column(ForeignKey("bulk_operation.id"))
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("bulk_operation.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_bulk_operation_owner", "owner_id", "id"),)

    @property
    def finished(self) -> bool:
        return self.status in (BulkStatus.DONE, BulkStatus.FAILED)


class BulkOperationItem(Base):
    """A lead named by an operation: pending, then done (with what it was before), or skipped."""

    __tablename__ = "bulk_operation_item"

    operation_id: Mapped[int] = mapped_column(
        ForeignKey("bulk_operation.id", ondelete="CASCADE"), primary_key=True
    )
    lead_id: Mapped[int] = mapped_column(primary_key=True)
    outcome: Mapped[Outcome] = mapped_column(default=Outcome.PENDING)
    reason: Mapped[str | None] = mapped_column(String(64))
    # Pending: the version the client saw (if it said); done: the version the change left.
    version: Mapped[int | None]
    # Done: the lead's values the operation replaced, for undo.
    before: Mapped[dict[str, Any] | None]

    __table_args__ = (Index("ix_bulk_operation_item_outcome", "operation_id", "outcome"),)
