"""What comes in and goes out for notifications and their preferences."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from leadhub.leads.schemas import MAX_ID
from leadhub.notifications.models import CHOSEN_KINDS, Delivery, Kind, OutboxStatus


class NotificationPrefs(BaseModel):
    """A user's choices: per kind instant / summary / off, the channels, the summary hour."""

    model_config = ConfigDict(extra="forbid")

    kinds: dict[Kind, Delivery] = Field(default_factory=dict)
    email: bool = True
    in_app: bool = True
    summary_hour: int = Field(default=8, ge=0, le=23)

    @field_validator("kinds")
    @classmethod
    def _chosen_only(cls, value: dict[Kind, Delivery]) -> dict[Kind, Delivery]:
        unknown = [k.value for k in value if k not in CHOSEN_KINDS]
        if unknown:
            raise ValueError("these kinds cannot be chosen: " + ", ".join(unknown))
        return value


class DistributorSettings(BaseModel):
    """A distributor's alert thresholds and the default choices for its people."""

    model_config = ConfigDict(extra="forbid")

    speed_to_lead_minutes: int = Field(default=15, ge=1, le=1440)
    score_threshold: int = Field(default=30, ge=0, le=100)
    default_kinds: dict[Kind, Delivery] = Field(default_factory=dict)


class NotificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: Kind
    lead_id: int | None
    text: str
    link: str
    params: dict[str, Any]
    read_at: datetime | None
    created_at: datetime


class NotificationPage(BaseModel):
    items: list[NotificationRead]
    next_cursor: str | None
    unread: int


class NotificationQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=200)
    unread: bool = False


class MarkRead(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(default=None, max_length=500)
    all: bool = False


class MarkedRead(BaseModel):
    marked: int
    unread: int


class OutboxQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: OutboxStatus | None = None
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=200)
