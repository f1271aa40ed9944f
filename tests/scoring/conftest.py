"""Scoring fixtures: the default rules as the engine reads them, and lead facts to score."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from leadhub.scoring.defaults import DEFAULT_RULE_SET
from leadhub.scoring.engine import LeadFacts, Rules

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def default_rules(version: int = 1, **changes: Any) -> Rules:
    values = {**DEFAULT_RULE_SET, **changes}
    return Rules(
        version=version,
        weights=values["weights"],
        treatment_values=values["treatment_values"],
        age_ranges={t: tuple(r) for t, r in values["age_ranges"].items()},
        thresholds=values["level_thresholds"],
        abandoned_hours=values["abandoned_hours"],
    )


def facts(**changes: Any) -> LeadFacts:
    values: dict[str, Any] = {
        "full_name": "Ayşe Yılmaz",
        "email": "ayse@example.com",
        "phone": "+905321234567",
        "treatment": "hair_transplant",
        "answers": {},
        "created_time": NOW,
    }
    values.update(changes)
    return LeadFacts(**values)


@pytest.fixture
def rules() -> Rules:
    return default_rules()
