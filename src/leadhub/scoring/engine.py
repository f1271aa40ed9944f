"""The score of a lead: five factors, pure functions, no database.

Everything a score depends on is passed in (the lead's facts, its engagement counts, the rule
set and the time), so one lead scores in microseconds and a million in a batch job. Each factor
gives integer points out of its weight, with a reason code and the values behind it; the score
is the sum of the points, so the breakdown always adds up to it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from leadhub.leads.models import ScoreLevel

FACTORS = ("contact", "freshness", "service", "engagement", "age_fit")
LEVELS = (ScoreLevel.HOT, ScoreLevel.WARM, ScoreLevel.MEDIUM, ScoreLevel.COOL)

# Freshness: the share of the weight a lead keeps while younger than each age (hours).
FRESHNESS = ((1, 100), (6, 90), (24, 75), (72, 50), (168, 30), (720, 10))
OLDEST = len(FRESHNESS)  # the bracket of leads older than the last age: nothing left
BOUNDARY_HOURS = tuple(hours for hours, _ in FRESHNESS)

# Contact: the share of the weight each piece of contact information brings.
PHONE_SHARE, EMAIL_SHARE, FULL_NAME_SHARE, FIRST_NAME_SHARE = 50, 30, 20, 10
# Engagement: the share one answered call, one reply and one meeting bring (capped at 100).
ANSWERED_CALL_SHARE, REPLY_SHARE, MEETING_SHARE = 25, 25, 50
# Age fit: a neutral half when the age or the target is unknown; 10 points of share per year away.
NEUTRAL_SHARE, SHARE_PER_YEAR_AWAY = 50, 10
OTHER = "other"

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DIGITS = re.compile(r"\d+")
_LETTER = re.compile(r"[^\W\d_]")
_ISO_DATE = re.compile(r"(\d{4})[-./](\d{1,2})[-./](\d{1,2})")
_DAY_FIRST = re.compile(r"(\d{1,2})[-./](\d{1,2})[-./](\d{4})")
_AGE_WORDS = frozenset({"age", "yas", "yaş", "yaşınız", "yasiniz", "عمر", "العمر", "عمرك"})
_BIRTH_WORDS = ("birth", "dob", "doğum", "dogum", "ميلاد")
MIN_AGE, MAX_AGE = 12, 110


@dataclass(frozen=True, slots=True)
class Rules:
    """A rule set as the engine reads it; built once per version (see service.rules_of)."""

    version: int
    weights: Mapping[str, int]
    treatment_values: Mapping[str, int]
    age_ranges: Mapping[str, tuple[int, int]]
    thresholds: Mapping[str, int]  # hot, warm, medium, cool: the lowest score of each
    abandoned_hours: int = 48
    freshness_points: tuple[int, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        weight = self.weights["freshness"]
        points = tuple(_share(weight, share) for _, share in FRESHNESS) + (0,)
        object.__setattr__(self, "freshness_points", points)


@dataclass(frozen=True, slots=True)
class LeadFacts:
    """What the score reads of a lead."""

    full_name: str | None
    email: str | None
    phone: str | None
    treatment: str | None
    answers: Mapping[str, Any]
    created_time: datetime


@dataclass(frozen=True, slots=True)
class Engagement:
    """Counts of the lead's interactions that show the person is engaged."""

    answered_calls: int = 0
    replies: int = 0
    meetings: int = 0


@dataclass(frozen=True, slots=True)
class Part:
    """One factor's result: points out of `max`, and why (a code and its values)."""

    factor: str
    points: int
    max: int
    reason: str
    params: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "points": self.points,
            "max": self.max,
            "reason": self.reason,
            "params": self.params,
        }


@dataclass(frozen=True, slots=True)
class Score:
    total: int
    level: ScoreLevel
    parts: tuple[Part, ...]
    version: int

    def breakdown(self) -> dict[str, Any]:
        """The stored form: factor -> {points, max, reason, params}."""
        return {part.factor: part.as_json() for part in self.parts}


def _share(weight: int, share: int) -> int:
    """`share` percent of `weight`, rounded half up, as whole points."""
    return (weight * share + 50) // 100


def contact_part(facts: LeadFacts, weight: int) -> Part:
    phone = bool(facts.phone and E164.match(facts.phone))
    email = bool(facts.email and EMAIL.match(facts.email))
    words = sum(1 for word in (facts.full_name or "").split() if _LETTER.search(word))
    name = "full" if words >= 2 else "first_only" if words else "none"
    share = PHONE_SHARE * phone + EMAIL_SHARE * email
    share += FULL_NAME_SHARE if name == "full" else FIRST_NAME_SHARE if name == "first_only" else 0
    params = {"phone": phone, "email": email, "name": name}
    return Part("contact", _share(weight, share), weight, "contact", params)


def freshness_bracket(created_time: datetime, now: datetime) -> int:
    """0 for a lead under an hour old ... OLDEST for one older than the last boundary."""
    hours = (now - created_time).total_seconds() / 3600
    for bracket, limit in enumerate(BOUNDARY_HOURS):
        if hours < limit:
            return bracket
    return OLDEST


def freshness_entry(bracket: int, rules: Rules) -> Part:
    """The freshness part of a lead in `bracket` (the periodic job writes it set-based)."""
    weight = rules.weights["freshness"]
    if bracket == OLDEST:
        params = {"bracket": bracket, "hours": BOUNDARY_HOURS[-1]}
        return Part("freshness", 0, weight, "freshness.older", params)
    params = {"bracket": bracket, "hours": BOUNDARY_HOURS[bracket]}
    return Part("freshness", rules.freshness_points[bracket], weight, "freshness.within", params)


def freshness_part(created_time: datetime, now: datetime, rules: Rules) -> Part:
    return freshness_entry(freshness_bracket(created_time, now), rules)


def service_part(treatment: str | None, rules: Rules) -> Part:
    weight = rules.weights["service"]
    values = rules.treatment_values
    other = values.get(OTHER, 0)
    if not treatment:
        return Part("service", _share(weight, other), weight, "service.unknown", {"value": other})
    if treatment in values:
        value = values[treatment]
        params = {"treatment": treatment, "value": value}
        return Part("service", _share(weight, value), weight, "service.value", params)
    params = {"treatment": treatment, "value": other}
    return Part("service", _share(weight, other), weight, "service.unlisted", params)


def engagement_part(engagement: Engagement, weight: int) -> Part:
    calls, replies, meetings = engagement.answered_calls, engagement.replies, engagement.meetings
    if not (calls or replies or meetings):
        return Part("engagement", 0, weight, "engagement.none", {})
    share = calls * ANSWERED_CALL_SHARE + replies * REPLY_SHARE + meetings * MEETING_SHARE
    params = {"answered_calls": calls, "replies": replies, "meetings": meetings}
    return Part("engagement", _share(weight, min(share, 100)), weight, "engagement.some", params)


def _birth_date(text: str) -> date | None:
    iso = _ISO_DATE.search(text)
    if iso:
        year, month, day = (int(g) for g in iso.groups())
    else:
        found = _DAY_FIRST.search(text)
        if not found:
            return None
        first, second, year = (int(g) for g in found.groups())
        # Day first, as people write it in Turkey and the Gulf, unless only month-first fits.
        day, month = (second, first) if second > 12 >= first else (first, second)
    try:
        return date(year, month, day)
    except ValueError:
        return None


NOT_AGE, AGE, BIRTH_DATE = 0, 1, 2


@functools.lru_cache(maxsize=4096)
def _answer_kind(key: str) -> int:
    """Whether a form question asks for an age, a date of birth, or neither (forms repeat)."""
    lowered = key.lower()
    if any(word in lowered for word in _BIRTH_WORDS):
        return BIRTH_DATE
    if set(re.split(r"[\W_]+", lowered)) & _AGE_WORDS or "how_old" in lowered:
        return AGE
    return NOT_AGE


def age_from_answers(answers: Mapping[str, Any], at: datetime) -> int | None:
    """The person's age on `at`, from an age or date-of-birth answer; None when unreadable."""
    for key, value in answers.items():
        kind = _answer_kind(str(key))
        if kind == NOT_AGE:
            continue
        text = " ".join(map(str, value)) if isinstance(value, list) else str(value)
        if kind == BIRTH_DATE:
            born = _birth_date(text)
            if born is None:
                continue
            day = at.date()
            age = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
        else:
            digits = _DIGITS.search(text)
            if digits is None:
                continue
            age = int(digits.group())  # int() reads Arabic-Indic digits too
        if MIN_AGE <= age <= MAX_AGE:
            return age
    return None


def age_fit_part(facts: LeadFacts, rules: Rules) -> Part:
    weight = rules.weights["age_fit"]
    neutral = _share(weight, NEUTRAL_SHARE)
    age = age_from_answers(facts.answers, facts.created_time) if facts.answers else None
    if age is None:
        return Part("age_fit", neutral, weight, "age.unknown", {})
    target = rules.age_ranges.get(facts.treatment or OTHER)
    if target is None:
        return Part("age_fit", neutral, weight, "age.no_range", {"age": age})
    low, high = target
    params = {"age": age, "min": low, "max": high}
    if low <= age <= high:
        return Part("age_fit", weight, weight, "age.in_range", params)
    away = low - age if age < low else age - high
    share = max(0, 100 - SHARE_PER_YEAR_AWAY * away)
    return Part("age_fit", _share(weight, share), weight, "age.outside", params)


def level_for(total: int, thresholds: Mapping[str, int]) -> ScoreLevel:
    for level in LEVELS:
        if total >= thresholds[level.value]:
            return level
    return ScoreLevel.COLD


def score(facts: LeadFacts, engagement: Engagement, rules: Rules, now: datetime) -> Score:
    """Score one lead: the five parts, their sum (0..100) and its level."""
    weights = rules.weights
    parts = (
        contact_part(facts, weights["contact"]),
        freshness_part(facts.created_time, now, rules),
        service_part(facts.treatment, rules),
        engagement_part(engagement, weights["engagement"]),
        age_fit_part(facts, rules),
    )
    total = sum(part.points for part in parts)
    return Score(total, level_for(total, rules.thresholds), parts, rules.version)
