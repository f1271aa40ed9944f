"""The default rule set: version 1, seeded by migration 0004 (which keeps its own copy)."""

from __future__ import annotations

from typing import Any

DEFAULT_RULE_SET: dict[str, Any] = {
    "weights": {"contact": 30, "freshness": 20, "service": 25, "engagement": 15, "age_fit": 10},
    # How much each treatment is worth to the clinic, 0-100; "other" also counts for unknown ones.
    "treatment_values": {
        "hair_transplant": 90,
        "dental_implants": 100,
        "teeth_whitening": 30,
        "veneers": 80,
        "rhinoplasty": 85,
        "liposuction": 75,
        "breast_aesthetics": 85,
        "bariatric_surgery": 95,
        "eye_surgery": 70,
        "other": 40,
    },
    # The ages each treatment suits best, [youngest, oldest]; a treatment without one is neutral.
    "age_ranges": {
        "hair_transplant": [25, 55],
        "dental_implants": [35, 75],
        "teeth_whitening": [18, 55],
        "veneers": [20, 55],
        "rhinoplasty": [18, 45],
        "liposuction": [22, 55],
        "breast_aesthetics": [20, 50],
        "bariatric_surgery": [25, 60],
        "eye_surgery": [20, 60],
    },
    # The lowest score of each level; below "cool" a lead is cold.
    "level_thresholds": {"hot": 80, "warm": 60, "medium": 40, "cool": 20},
    "abandoned_hours": 48,
}
