"""What comes in and goes out for a distributor's assignment rules."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from werkzeug.datastructures import MultiDict

from leadhub.assignment.models import NoMatch, Strategy
from leadhub.errors import N_, InvalidInput
from leadhub.leads.models import TREATMENTS
from leadhub.leads.schemas import validation_details

CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")


def _split(value: Any) -> Any:
    """A list, or words separated by commas or spaces (as a form's text field holds them)."""
    if isinstance(value, str):
        return [part for part in re.split(r"[,\s]+", value) if part]
    return value


class AgentSkills(BaseModel):
    """The languages an agent speaks and the treatments an agent handles."""

    model_config = ConfigDict(extra="forbid")

    user_id: int = Field(ge=1)
    languages: list[str] = Field(default_factory=list, max_length=20)
    treatments: list[str] = Field(default_factory=list, max_length=len(TREATMENTS))

    @field_validator("languages", mode="before")
    @classmethod
    def _languages(cls, value: Any) -> Any:
        value = _split(value)
        if not isinstance(value, list):
            return value
        codes = [str(v).strip().lower() for v in value]
        for code in codes:
            if not LANGUAGE_CODE.match(code):
                raise ValueError(f"{code!r} is not a language code such as tr, en or ar")
        return sorted(set(codes))

    @field_validator("treatments", mode="before")
    @classmethod
    def _treatments(cls, value: Any) -> Any:
        value = _split(value)
        if not isinstance(value, list):
            return value
        names = [str(v).strip().lower() for v in value]
        for name in names:
            if name not in TREATMENTS:
                raise ValueError(f"{name!r} is not a treatment: use one of {', '.join(TREATMENTS)}")
        return sorted(set(names))


class AssignmentRulesInput(BaseModel):
    """A distributor's rule: the strategy, the filters before it, working hours, the fallback."""

    model_config = ConfigDict(extra="forbid")

    strategy: Strategy = Strategy.OFF
    match_language: bool = False
    match_treatment: bool = False
    no_match: NoMatch = NoMatch.ANY_AGENT
    hours_enabled: bool = False
    timezone: str = Field(default="Europe/Istanbul", max_length=64)
    work_days: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4], max_length=7)
    start: str = "09:00"
    end: str = "18:00"
    fallback_user_id: int | None = Field(default=None, ge=1)
    # None leaves the agents' skills as they are; a list replaces the skills of the agents named
    agents: list[AgentSkills] | None = None

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not a time zone such as Europe/Istanbul") from exc
        return value

    @field_validator("work_days")
    @classmethod
    def _days(cls, value: list[int]) -> list[int]:
        if any(day < 0 or day > 6 for day in value):
            raise ValueError("days are 0 (Monday) to 6 (Sunday)")
        return sorted(set(value))

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not CLOCK.match(value):
            raise ValueError("a time of day is written as HH:MM, e.g. 09:00")
        return value

    @model_validator(mode="after")
    def _hours(self) -> AssignmentRulesInput:
        if self.hours_enabled:
            if minutes(self.start) >= minutes(self.end):
                raise ValueError("working hours end after they start (e.g. 09:00 to 18:00)")
            if not self.work_days:
                raise ValueError("pick at least one working day")
        return self


def minutes(clock: str) -> int:
    """'09:30' → 570."""
    hours, mins = clock.split(":")
    return int(hours) * 60 + int(mins)


def clock(minute: int) -> str:
    """570 → '09:30'."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


class AgentRead(BaseModel):
    user_id: int
    name: str
    active: bool
    languages: list[str]
    treatments: list[str]


class AssignmentRulesRead(BaseModel):
    distributor_id: int
    strategy: Strategy
    match_language: bool
    match_treatment: bool
    no_match: NoMatch
    hours_enabled: bool
    timezone: str
    work_days: list[int]
    start: str
    end: str
    fallback_user_id: int | None
    agents: list[AgentRead]


CHECKBOXES = ("match_language", "match_treatment", "hours_enabled")
FIELDS = ("strategy", "no_match", "timezone", "start", "end", "fallback_user_id")


def from_form(form: MultiDict[str, str], *, agent_ids: list[int]) -> AssignmentRulesInput:
    """The settings page's form as the same schema the API takes; a bad field is InvalidInput."""
    data: dict[str, Any] = {key: form[key].strip() for key in FIELDS if form.get(key, "").strip()}
    data |= {key: key in form for key in CHECKBOXES}
    data["work_days"] = form.getlist("work_days")
    data["agents"] = [
        {
            "user_id": user_id,
            "languages": form.get(f"languages_{user_id}", ""),
            "treatments": form.getlist(f"treatments_{user_id}"),
        }
        for user_id in agent_ids
    ]
    try:
        return AssignmentRulesInput.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(N_("Please correct the form."), details=validation_details(exc)) from exc
