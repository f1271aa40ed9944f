"""What comes in and goes out for scoring: a rule-set change, a lead's score, the summary."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from leadhub.leads.models import TREATMENTS, ScoreLevel, Status
from leadhub.scoring.engine import FACTORS, LEVELS

MAX_AGE = 120


class RuleSetInput(BaseModel):
    """A new version of the rules, as the superadmin's form (or a JSON body) sends it."""

    model_config = ConfigDict(extra="forbid")

    weights: dict[str, int]
    treatment_values: dict[str, int]
    age_ranges: dict[str, tuple[int, int]] = Field(default_factory=dict)
    level_thresholds: dict[str, int]
    abandoned_hours: int = Field(ge=1, le=24 * 30)

    @field_validator("weights")
    @classmethod
    def _weights(cls, weights: dict[str, int]) -> dict[str, int]:
        if set(weights) != set(FACTORS):
            raise ValueError(f"give a weight for each of {', '.join(FACTORS)}")
        if any(not 0 <= w <= 100 for w in weights.values()):
            raise ValueError("each weight is between 0 and 100")
        if sum(weights.values()) != 100:
            raise ValueError(
                f"the weights must add up to 100 (they add up to {sum(weights.values())})"
            )
        return {factor: weights[factor] for factor in FACTORS}

    @field_validator("treatment_values")
    @classmethod
    def _values(cls, values: dict[str, int]) -> dict[str, int]:
        if set(values) != set(TREATMENTS):
            raise ValueError("give a value for every treatment")
        if any(not 0 <= v <= 100 for v in values.values()):
            raise ValueError("each treatment value is between 0 and 100")
        return {treatment: values[treatment] for treatment in TREATMENTS}

    @field_validator("age_ranges")
    @classmethod
    def _ages(cls, ranges: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
        unknown = set(ranges) - set(TREATMENTS)
        if unknown:
            raise ValueError(f"no such treatment: {', '.join(sorted(unknown))}")
        for treatment, (low, high) in ranges.items():
            if not 0 <= low <= high <= MAX_AGE:
                raise ValueError(
                    f"the age range of {treatment} must be 0 ≤ youngest ≤ oldest ≤ 120"
                )
        return {t: ranges[t] for t in TREATMENTS if t in ranges}

    @field_validator("level_thresholds")
    @classmethod
    def _thresholds(cls, thresholds: dict[str, int]) -> dict[str, int]:
        names = [level.value for level in LEVELS]
        if set(thresholds) != set(names):
            raise ValueError(f"give the lowest score of each of {', '.join(names)}")
        ordered = [thresholds[name] for name in names]
        if not all(1 <= t <= 100 for t in ordered):
            raise ValueError("each level starts between 1 and 100")
        if any(higher <= lower for higher, lower in zip(ordered, ordered[1:], strict=False)):
            raise ValueError("each level must start above the next: hot > warm > medium > cool")
        return {name: thresholds[name] for name in names}

    def stored(self) -> dict[str, Any]:
        """The columns of a ScoringRuleSet (JSON keeps age ranges as lists)."""
        data = self.model_dump()
        data["age_ranges"] = {t: list(r) for t, r in self.age_ranges.items()}
        return data


class BreakdownItem(BaseModel):
    factor: str
    points: int
    max: int
    reason: str = Field(description="Why, in English; reason_code and params let you word it")
    reason_code: str
    params: dict[str, Any]


class LeadScoreRead(BaseModel):
    lead_id: int
    score: int
    level: ScoreLevel
    rule_set_version: int | None
    breakdown: list[BreakdownItem]

    @model_validator(mode="after")
    def _adds_up(self) -> LeadScoreRead:
        if self.breakdown and sum(item.points for item in self.breakdown) != self.score:
            raise ValueError("the breakdown does not add up to the score")
        return self


class LevelCount(BaseModel):
    level: ScoreLevel
    count: int


class RecommendationCount(BaseModel):
    name: str
    count: int
    capped: bool = Field(description="true when there are at least `count` such leads")


class TopLead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    full_name: str | None
    score: int
    score_level: ScoreLevel
    status: Status
    treatment: str | None
    distributor_id: int
    assignee_id: int | None
    created_time: datetime


class SummaryRead(BaseModel):
    rule_set_version: int
    levels: list[LevelCount]
    recommendations: list[RecommendationCount]
    top: list[TopLead]


class RunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    status: str
    rule_set_version: int
    distributor_id: int | None
    everything: bool
    total: int
    done: int
    changed: int
    percent: int
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
