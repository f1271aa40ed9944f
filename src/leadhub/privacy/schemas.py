"""What comes in and goes out for consent, access records, people and erasure requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from leadhub.privacy.models import AccessKind, ConsentSource, ErasureStatus, Purpose


class ConsentSet(BaseModel):
    """An admin marks whether a person agreed to one purpose, where and when they said so."""

    model_config = ConfigDict(extra="forbid")

    purpose: Purpose
    granted: bool
    source: ConsentSource
    given_at: datetime | None = None  # when the person said so; now when not given

    @field_validator("given_at")
    @classmethod
    def _aware_and_past(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("give a time with its time zone, e.g. 2026-11-20T10:00:00Z")
        if value > datetime.now(value.tzinfo):
            raise ValueError("the time a consent was given cannot be in the future")
        return value


class ConsentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    purpose: Purpose
    granted: bool
    source: ConsentSource
    given_at: datetime
    recorded_by_name: str | None
    recorded_at: datetime


class LeadConsentRead(BaseModel):
    """A lead's consent: the form's checkboxes and policy, and each purpose an admin marked."""

    lead_id: int
    form_answers: dict[str, Any]
    privacy_policy_url: str | None
    purposes: list[ConsentRead]
    missing_channels: list[Purpose]


class AccessRead(BaseModel):
    record_id: int
    kind: AccessKind
    actor_id: int | None
    actor_name: str | None
    ip: str | None
    user_agent: str | None
    lead_count: int
    at: datetime


class AccessPage(BaseModel):
    items: list[AccessRead]
    next_cursor: int | None


class AccessQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cursor: int | None = Field(default=None, ge=1)
    limit: int = Field(default=50, ge=1, le=200)


class PersonQuery(BaseModel):
    """A person is found by phone or email (or both); normalised as intake normalises them."""

    model_config = ConfigDict(extra="forbid")

    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=254)

    @field_validator("phone", "email", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _one_needed(self) -> PersonQuery:
        if not self.phone and not self.email:
            raise ValueError("give a phone number or an email address")
        return self


class ErasureCreate(PersonQuery):
    reason: str = Field(min_length=5, max_length=2000)


class ErasureDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approve: bool


class ErasureRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    status: ErasureStatus
    reason: str
    lead_ids: list[int]
    lead_count: int
    requested_by_id: int | None
    requested_by_name: str | None
    requested_at: datetime
    decided_by_id: int | None
    decided_by_name: str | None
    decided_at: datetime | None
