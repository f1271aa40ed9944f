"""Bulk requests and job reports, for the API and the desk's bulk form alike."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from leadhub.bulk.models import BulkKind, BulkStatus
from leadhub.interactions.models import InvalidReason
from leadhub.leads.models import Status
from leadhub.leads.schemas import MAX_ID, LeadFilter

MAX_IDS = 100_000  # more than this: select them by filter
Id = Annotated[int, Field(ge=1, le=MAX_ID)]

Action = Literal["status", "assign", "tag_add", "tag_remove", "note", "delete", "restore"]


class BulkRequest(BaseModel):
    """What to change (`action` and its parameters) on which leads (`ids` or a `filter`)."""

    model_config = ConfigDict(extra="forbid")

    action: Action
    ids: list[Id] | None = Field(default=None, min_length=1, max_length=MAX_IDS)
    # Optional: the version of each lead the client saw; a lead changed since is skipped.
    versions: dict[Id, int] | None = None
    filter: LeadFilter | None = None
    status: Status | None = None
    lost_reason_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    lost_reason: str | None = Field(default=None, max_length=120)
    invalid_reason: InvalidReason | None = None
    assignee_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    # Round robin: leads are spread evenly among these (per distributor, its agents among them).
    agent_ids: list[Id] | None = Field(default=None, min_length=1, max_length=200)
    tag: str | None = Field(default=None, max_length=40)
    note: str | None = Field(default=None, max_length=10_000)

    @model_validator(mode="after")
    def _one_selection(self) -> BulkRequest:
        if (self.ids is None) == (self.filter is None):
            raise ValueError("send either ids or filter")
        if self.versions is not None and self.ids is None:
            raise ValueError("versions go with ids")
        return self

    @property
    def kind(self) -> BulkKind:
        return BulkKind(self.action)


class BulkAccepted(BaseModel):
    id: int
    status: BulkStatus
    total: int
    url: str


class SkippedLead(BaseModel):
    lead_id: int
    reason: str
    message: str


class JobRead(BaseModel):
    """A bulk operation's progress and result."""

    id: int
    kind: BulkKind
    status: BulkStatus
    owner_id: int
    params: dict[str, Any]
    total: int
    done: int
    skipped: int
    failed: int
    progress: int = Field(description="Percent of the leads worked so far")
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    undo_of_id: int | None
    undone_by_id: int | None
    undoable: bool
    undo_until: datetime | None
    skipped_leads: list[SkippedLead] = Field(
        description="Skipped leads with the reason (the first 500)"
    )
