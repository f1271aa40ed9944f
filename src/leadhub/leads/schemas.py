"""What comes in and goes out for leads and their interactions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from leadhub.errors import InvalidInput
from leadhub.interactions.models import USER_KINDS, InvalidReason, Kind, Outcome
from leadhub.leads.models import Platform, ScoreLevel, Source, Status

PAGE_SIZES = (25, 50, 100)
MAX_ID = 2**31 - 1  # ids are 32-bit integers in PostgreSQL; larger ones match nothing


def validation_details(exc: ValidationError) -> list[dict[str, Any]]:
    """Pydantic errors as a client can read them: which field, what is wrong."""
    return [
        {"field": ".".join(str(p) for p in err["loc"]) or None, "message": err["msg"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]


class LeadFilter(BaseModel):
    """Every filter the desk and the API offer; all optional."""

    model_config = ConfigDict(extra="forbid")

    status: list[Status] | None = None
    distributor_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    assignee_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    unassigned: bool = False
    score_min: int | None = Field(default=None, ge=0, le=100)
    score_max: int | None = Field(default=None, ge=0, le=100)
    created_from: date | None = None
    created_to: date | None = None
    treatment: str | None = Field(default=None, max_length=64)
    platform: Platform | None = None
    tag: str | None = Field(default=None, max_length=40)
    q: str | None = Field(default=None, max_length=200)
    recommendation: Literal["high_unassigned", "abandoned", "low_busy"] | None = None
    # Analytics links: where the lead came from, and a pipeline stage it reached (even if moved on).
    campaign_id: str | None = Field(default=None, max_length=32)
    adset_id: str | None = Field(default=None, max_length=32)
    ad_id: str | None = Field(default=None, max_length=32)
    form_id: str | None = Field(default=None, max_length=32)
    reached: Literal["assigned", "contacted", "converted"] | None = None
    sort: Literal["newest", "score"] = "newest"
    limit: int = Field(default=25, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=500)
    deleted: bool = False

    @field_validator("status", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part for part in value.split(",") if part.strip()] or None
        return value

    @field_validator(
        *("treatment", "q", "tag", "cursor", "campaign_id", "adset_id", "ad_id", "form_id"),
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _ranges(self) -> LeadFilter:
        both = self.score_min is not None and self.score_max is not None
        if both and self.score_min > self.score_max:  # type: ignore[operator]
            raise ValueError("score_min is above score_max")
        if self.created_from and self.created_to and self.created_from > self.created_to:
            raise ValueError("created_from is after created_to")
        return self

    @classmethod
    def from_args(cls, args: Any) -> LeadFilter:
        """Read filters from a query string (`status` may repeat); bad values: InvalidInput."""
        data: dict[str, Any] = {}
        for key in args:
            values = [v for v in args.getlist(key) if v != ""]
            if key == "status":
                data[key] = ",".join(values)
            elif values:
                data[key] = values[-1]
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise InvalidInput(
                "Some filters are not valid.", details=validation_details(exc)
            ) from exc

    def without_paging(self) -> dict[str, Any]:
        """The filter as query-string values, for links that keep it (next page, sort, size)."""
        out: dict[str, Any] = {}
        for key, value in self.model_dump(exclude_defaults=True, exclude={"cursor"}).items():
            out[key] = [str(v.value) for v in value] if key == "status" else value
        return out


class LeadExportQuery(LeadFilter):
    """An export: the desk's filters, a file format and the columns wanted (comma separated)."""

    format: Literal["csv", "jsonl", "xlsx"] = "csv"
    columns: str | None = Field(default=None, max_length=1000)


class LeadCreate(BaseModel):
    """A lead staff enter by hand, e.g. from a phone call."""

    model_config = ConfigDict(extra="forbid")

    distributor_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    full_name: str = Field(min_length=1, max_length=255)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40)
    country: str | None = Field(default=None, min_length=2, max_length=2)
    city: str | None = Field(default=None, max_length=120)
    language: str | None = Field(default=None, max_length=5)
    treatment: str | None = Field(default=None, max_length=64)
    answers: dict[str, Any] = Field(default_factory=dict)
    assignee_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    tags: list[str] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _reachable(self) -> LeadCreate:
        if not (self.email or self.phone):
            raise ValueError("give a phone number or an email address")
        return self


class LeadUpdate(BaseModel):
    """A change to a lead; `version` is the one the client read."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1)
    status: Status | None = None
    # lost: a reason from the admin's list, by id or by name; invalid: one of InvalidReason
    lost_reason_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    lost_reason: str | None = Field(default=None, max_length=500)
    invalid_reason: InvalidReason | None = None
    assignee_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    tags: list[str] | None = Field(default=None, max_length=20)

    @field_validator("tags")
    @classmethod
    def _tag_names(cls, tags: list[str] | None) -> list[str] | None:
        if tags is None:
            return None
        cleaned = sorted({t.strip().lower() for t in tags if t.strip()})
        if any(len(t) > 40 for t in cleaned):
            raise ValueError("a tag has at most 40 characters")
        return cleaned


class InteractionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Kind
    outcome: Outcome | None = None
    body: str | None = Field(default=None, max_length=10_000)
    duration_seconds: int | None = Field(default=None, ge=0, le=24 * 3600)
    occurred_at: datetime | None = None

    @field_validator("kind")
    @classmethod
    def _user_kind(cls, kind: Kind) -> Kind:
        if kind not in USER_KINDS:
            raise ValueError(f"kind must be one of {', '.join(k.value for k in USER_KINDS)}")
        return kind

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("occurred_at needs a time zone, e.g. 2026-11-25T10:00:00Z")
        return value

    @model_validator(mode="after")
    def _note_has_body(self) -> InteractionCreate:
        if self.kind is Kind.NOTE and not (self.body and self.body.strip()):
            raise ValueError("a note needs some text")
        return self


class NoteEdit(BaseModel):
    """A note's new text, from its author within NOTE_EDIT_WINDOW of writing it."""

    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=10_000)

    @field_validator("body")
    @classmethod
    def _not_blank(cls, body: str) -> str:
        if not body.strip():
            raise ValueError("a note needs some text")
        return body


class LostReasonRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    active: bool


class InteractionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    lead_id: int
    kind: Kind
    outcome: Outcome | None
    body: str | None
    duration_seconds: int | None
    actor_id: int | None
    actor_name: str | None
    occurred_at: datetime
    edited_at: datetime | None = None
    # Logging a contact: the channel (phone, whatsapp, email) it used without recorded consent.
    # The contact is logged all the same; the pages show the same warning.
    consent_missing: str | None = None


class LeadRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    version: int
    status: Status
    source: Source
    distributor_id: int
    assignee_id: int | None
    full_name: str | None
    email: str | None
    phone: str | None
    country: str | None
    city: str | None
    language: str | None
    treatment: str | None
    score: int
    score_level: ScoreLevel
    meta_lead_id: str | None
    page_id: str | None
    page_name: str | None
    form_id: str | None
    form_name: str | None
    ad_id: str | None
    ad_name: str | None
    adset_id: str | None
    adset_name: str | None
    campaign_id: str | None
    campaign_name: str | None
    platform: Platform | None
    is_organic: bool
    created_time: datetime
    received_at: datetime
    first_contacted_at: datetime | None
    converted_at: datetime | None
    lost_reason: str | None
    tags: list[str]
    duplicate_of_id: int | None
    answers: dict[str, Any]
    consent: dict[str, Any]
    deleted_at: datetime | None

    @field_validator("tags", mode="before")
    @classmethod
    def _tag_names(cls, tags: Any) -> list[str]:
        return [getattr(t, "name", t) for t in tags]


class LeadPage(BaseModel):
    items: list[LeadRead]
    next_cursor: str | None


class StatusCounts(BaseModel):
    counts: dict[str, int]
    total: int
