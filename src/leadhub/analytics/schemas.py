"""The analytics API's query parameters and the shape of each panel."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from leadhub.errors import InvalidInput
from leadhub.leads.schemas import validation_details


class AnalyticsArgs(BaseModel):
    """Query parameters as text, for the API document; AnalyticsQuery checks them (400)."""

    model_config = ConfigDict(populate_by_name=True)

    period: str | None = Field(
        default=None, max_length=10, description="today, 7d, 30d (default), month or custom"
    )
    from_: str | None = Field(
        default=None, alias="from", max_length=10, description="first day, YYYY-MM-DD"
    )
    to: str | None = Field(default=None, max_length=10, description="last day, YYYY-MM-DD")
    distributor_id: str | None = Field(default=None, max_length=12)
    campaign_id: str | None = Field(default=None, max_length=32)
    sla_minutes: str | None = Field(default=None, max_length=5, description="speed: the SLA")
    sort: str | None = Field(default=None, max_length=20, description="distributors: sort key")
    order: str | None = Field(default=None, max_length=4, description="asc or desc")
    by: str | None = Field(
        default=None, max_length=10, description="campaigns: campaign, adset, ad, form, platform"
    )
    bucket: str | None = Field(default=None, max_length=5, description="trends: day, week, month")


class AnalyticsQuery(BaseModel):
    """Checked query parameters of every panel."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    period: Literal["today", "7d", "30d", "month", "custom"] | None = None
    start: date | None = Field(default=None, alias="from")
    end: date | None = Field(default=None, alias="to")
    distributor_id: int | None = Field(default=None, ge=1)
    campaign_id: str | None = Field(default=None, max_length=32)
    sla_minutes: int = Field(default=15, ge=1, le=10080)
    sort: Literal["leads", "contact_rate", "conversion_rate", "median_seconds", "duplicates"] = (
        "leads"
    )
    order: Literal["asc", "desc"] = "desc"
    by: Literal["campaign", "adset", "ad", "form", "platform"] = "campaign"
    bucket: Literal["day", "week", "month"] = "day"

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @classmethod
    def from_args(cls, args: Any) -> AnalyticsQuery:
        data = {key: args.get(key) for key in args}
        data = {key: value for key, value in data.items() if value not in (None, "")}
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise InvalidInput(
                "Some parameters are not valid.", details=validation_details(exc)
            ) from exc


class PeriodRead(BaseModel):
    kind: str
    from_: str = Field(alias="from")
    to: str
    previous_from: str
    previous_to: str
    timezone: str


class StageRead(BaseModel):
    status: str
    count: int
    rate: float = Field(description="share of the period's leads")
    step_rate: float = Field(description="share of the stage before")


class ReasonRead(BaseModel):
    reason: str | None
    count: int


class ClosedRead(BaseModel):
    status: str
    count: int
    rate: float
    reasons: list[ReasonRead]


class FunnelPart(BaseModel):
    total: int
    stages: list[StageRead]
    closed: list[ClosedRead]


class FunnelRead(FunnelPart):
    period: PeriodRead
    previous: FunnelPart


class SpeedPart(BaseModel):
    leads: int
    contacted: int
    within_sla: int
    sla_share: float
    median_seconds: float | None
    p90_seconds: float | None


class SpeedDistributor(SpeedPart):
    distributor_id: int
    name: str | None


class SpeedStaff(SpeedPart):
    user_id: int
    name: str | None


class SpeedRead(SpeedPart):
    sla_minutes: int
    period: PeriodRead
    previous: SpeedPart
    by_distributor: list[SpeedDistributor]
    by_staff: list[SpeedStaff]


class DistributorRow(BaseModel):
    rank: int
    distributor_id: int
    name: str | None
    leads: int
    contacted: int
    converted: int
    contact_rate: float
    conversion_rate: float
    median_seconds: float | None
    duplicates: int = Field(description="leads that are, or have, a duplicate at another one")
    previous_leads: int
    previous_conversion_rate: float


class DistributorsRead(BaseModel):
    period: PeriodRead
    sort: str
    descending: bool
    items: list[DistributorRow]


class StaffRow(BaseModel):
    user_id: int
    name: str | None
    assigned: int
    contacted: int
    converted: int
    conversion_rate: float
    median_seconds: float | None
    open_now: int
    interactions: dict[str, int]


class StaffRead(BaseModel):
    period: PeriodRead
    items: list[StaffRow]


class CampaignRow(BaseModel):
    key: str | None
    name: str | None
    leads: int
    average_score: float
    converted: int
    conversion_rate: float
    previous_leads: int
    previous_conversion_rate: float


class CampaignsRead(BaseModel):
    period: PeriodRead
    by: str
    limit: int
    items: list[CampaignRow]


class TrendsRead(BaseModel):
    period: PeriodRead
    bucket: str
    labels: list[str]
    leads: list[int]
    total: int
    previous_total: int
    by_level: dict[str, list[int]]
    by_status: dict[str, list[int]]
    interactions: dict[str, list[int]]
    interactions_total: dict[str, int]
