"""The engine: each factor on its edge cases, and properties that hold for any lead and rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadhub.leads.models import TREATMENTS, ScoreLevel
from leadhub.scoring import engine
from leadhub.scoring.engine import Engagement, Rules
from tests.scoring.conftest import NOW, default_rules, facts

WEIGHTS = default_rules().weights


NONE = Engagement()


def part(name: str, lead=None, engagement=NONE, rules=None, now=NOW):  # noqa: ANN001, ANN201
    result = engine.score(lead or facts(), engagement, rules or default_rules(), now)
    return next(p for p in result.parts if p.factor == name)


# -- contact --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes, points, params",
    [
        ({}, 30, {"phone": True, "email": True, "name": "full"}),
        ({"email": None, "full_name": None}, 15, {"phone": True, "email": False, "name": "none"}),
        ({"phone": None, "full_name": None}, 9, {"phone": False, "email": True, "name": "none"}),
        ({"phone": None, "email": None}, 6, {"phone": False, "email": False, "name": "full"}),
        ({"phone": None, "email": None, "full_name": "Ayşe"}, 3, {"name": "first_only"}),
        ({"phone": None, "email": None, "full_name": "  "}, 0, {"name": "none"}),
        ({"full_name": "محمد العلي"}, 30, {"name": "full"}),
        ({"full_name": "😀 Ali"}, 27, {"name": "first_only"}),
        ({"full_name": "Ali 123"}, 27, {"name": "first_only"}),
    ],
)
def test_contact_counts_phone_email_and_name(changes, points, params):
    found = part("contact", facts(**changes))
    assert found.points == points and found.max == 30 and found.reason == "contact"
    assert params.items() <= found.params.items()


@pytest.mark.parametrize("phone", ["05321234567", "+0532123456", "+90 532 123 45 67", "+12", ""])
def test_a_phone_not_in_e164_form_does_not_count(phone):
    assert part("contact", facts(phone=phone)).params["phone"] is False


@pytest.mark.parametrize("email", ["ayse@", "@example.com", "ayse example.com", "ayse@example"])
def test_an_email_that_cannot_be_one_does_not_count(email):
    assert part("contact", facts(email=email)).params["email"] is False


# -- freshness ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "age, points, reason, hours",
    [
        (timedelta(0), 20, "freshness.within", 1),
        (timedelta(minutes=59, seconds=59), 20, "freshness.within", 1),
        (timedelta(hours=1), 18, "freshness.within", 6),
        (timedelta(hours=5, minutes=59), 18, "freshness.within", 6),
        (timedelta(hours=6), 15, "freshness.within", 24),
        (timedelta(hours=24), 10, "freshness.within", 72),
        (timedelta(days=3), 6, "freshness.within", 168),
        (timedelta(days=7), 2, "freshness.within", 720),
        (timedelta(days=30) - timedelta(seconds=1), 2, "freshness.within", 720),
        (timedelta(days=30), 0, "freshness.older", 720),
        (timedelta(days=800), 0, "freshness.older", 720),
        (-timedelta(hours=3), 20, "freshness.within", 1),  # Meta's clock ahead of ours
    ],
)
def test_freshness_decays_over_hours_and_days(age, points, reason, hours):
    found = part("freshness", facts(created_time=NOW - age))
    assert (found.points, found.reason, found.params["hours"]) == (points, reason, hours)


def test_each_freshness_bracket_is_named_in_the_breakdown():
    brackets = [
        part("freshness", facts(created_time=NOW - timedelta(hours=h))).params["bracket"]
        for h in (0, 2, 12, 48, 100, 200, 1000)
    ]
    assert brackets == [0, 1, 2, 3, 4, 5, engine.OLDEST]


# -- service --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "treatment, points, reason",
    [
        ("dental_implants", 25, "service.value"),
        ("hair_transplant", 23, "service.value"),  # 90% of 25 = 22.5, rounded half up
        ("teeth_whitening", 8, "service.value"),
        ("other", 10, "service.value"),
        (None, 10, "service.unknown"),
        ("hollywood_smile", 10, "service.unlisted"),
    ],
)
def test_service_is_the_value_of_the_treatment(treatment, points, reason):
    found = part("service", facts(treatment=treatment))
    assert (found.points, found.max, found.reason) == (points, 25, reason)


def test_a_treatment_worth_nothing_gives_nothing():
    values = {**default_rules().treatment_values, "veneers": 0}
    found = part(
        "service", facts(treatment="veneers"), rules=default_rules(treatment_values=values)
    )
    assert found.points == 0 and found.params == {"treatment": "veneers", "value": 0}


# -- engagement -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "engagement, points, reason",
    [
        (Engagement(), 0, "engagement.none"),
        (Engagement(answered_calls=1), 4, "engagement.some"),
        (Engagement(replies=1), 4, "engagement.some"),
        (Engagement(meetings=1), 8, "engagement.some"),
        (Engagement(answered_calls=2, meetings=1), 15, "engagement.some"),
        (Engagement(replies=40, meetings=9), 15, "engagement.some"),
    ],
)
def test_engagement_counts_answered_calls_replies_and_meetings(engagement, points, reason):
    found = part("engagement", engagement=engagement)
    assert (found.points, found.max, found.reason) == (points, 15, reason)


# -- age fit --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answers, age",
    [
        ({"age": "34"}, 34),
        ({"age": "٣٤"}, 34),  # Arabic-Indic digits
        ({"age": "34 yaşındayım"}, 34),
        ({"age": "34 سنة"}, 34),
        ({"Yaşınız": "34 yaş"}, 34),
        ({"how_old_are_you?": "34 years"}, 34),
        ({"age": ["34"]}, 34),
        ({"date_of_birth": "1990-05-20"}, 36),
        ({"date_of_birth": "20/05/1990"}, 36),
        ({"date_of_birth": "05/20/1990"}, 36),  # month first: only that reading is a date
        ({"date_of_birth": "20.05.1990"}, 36),
        ({"date_of_birth": "1990-11-26"}, 35),  # the birthday is tomorrow
        ({"date_of_birth": "1990-11-25"}, 36),
        ({"age": "I'd rather not say"}, None),
        ({"age": "5"}, None),
        ({"age": "340"}, None),
        ({"date_of_birth": "1990-02-30"}, None),
        ({"page": "34", "message": "I am 34"}, None),  # not age questions
        ({}, None),
    ],
)
def test_age_comes_from_an_age_or_birth_date_answer(answers, age):
    assert engine.age_from_answers(answers, NOW) == age


@pytest.mark.parametrize(
    "treatment, age, points, reason",
    [
        ("hair_transplant", 25, 10, "age.in_range"),
        ("hair_transplant", 55, 10, "age.in_range"),
        ("hair_transplant", 57, 8, "age.outside"),
        ("hair_transplant", 23, 8, "age.outside"),
        ("hair_transplant", 65, 0, "age.outside"),
        ("hair_transplant", 90, 0, "age.outside"),
        ("other", 34, 5, "age.no_range"),
        (None, 34, 5, "age.no_range"),
    ],
)
def test_age_fit_against_the_treatments_target(treatment, age, points, reason):
    found = part("age_fit", facts(treatment=treatment, answers={"age": str(age)}))
    assert (found.points, found.max, found.reason) == (points, 10, reason)


def test_an_unknown_age_gives_the_neutral_half():
    found = part("age_fit", facts(answers={"budget": "5000"}))
    assert (found.points, found.reason, found.params) == (5, "age.unknown", {})


def test_the_age_is_the_one_at_the_time_of_the_form():
    lead = facts(answers={"date_of_birth": "2000-01-01"}, created_time=NOW)
    later = NOW + timedelta(days=3 * 365)
    assert part("age_fit", lead, now=later).params["age"] == 26


# -- levels and the whole -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "total, level",
    [
        (100, ScoreLevel.HOT),
        (80, ScoreLevel.HOT),
        (79, ScoreLevel.WARM),
        (60, ScoreLevel.WARM),
        (59, ScoreLevel.MEDIUM),
        (40, ScoreLevel.MEDIUM),
        (39, ScoreLevel.COOL),
        (20, ScoreLevel.COOL),
        (19, ScoreLevel.COLD),
        (0, ScoreLevel.COLD),
    ],
)
def test_levels_follow_the_thresholds(total, level):
    assert engine.level_for(total, default_rules().thresholds) is level


def test_a_complete_fresh_lead_is_hot_and_its_breakdown_adds_up():
    lead = facts(treatment="dental_implants", answers={"age": "45"})
    result = engine.score(lead, Engagement(meetings=1, answered_calls=2), default_rules(), NOW)
    assert result.total == 100 and result.level is ScoreLevel.HOT and result.version == 1
    breakdown = result.breakdown()
    assert list(breakdown) == list(engine.FACTORS)
    assert sum(entry["points"] for entry in breakdown.values()) == 100
    assert breakdown["contact"] == {
        "points": 30,
        "max": 30,
        "reason": "contact",
        "params": {"phone": True, "email": True, "name": "full"},
    }


def test_an_empty_old_lead_is_cold():
    lead = facts(
        full_name=None,
        email=None,
        phone=None,
        treatment=None,
        created_time=NOW - timedelta(days=90),
    )
    result = engine.score(lead, Engagement(), default_rules(), NOW)
    assert result.total == 15 and result.level is ScoreLevel.COLD  # service 10 + neutral age 5


# -- properties -----------------------------------------------------------------------------------


@st.composite
def rule_sets(draw: st.DrawFn) -> Rules:
    cuts = sorted(draw(st.lists(st.integers(0, 100), min_size=4, max_size=4)))
    bounds = [0, *cuts, 100]
    widths = [high - low for low, high in zip(bounds, bounds[1:], strict=False)]
    weights = dict(zip(engine.FACTORS, widths, strict=True))
    values = {t: draw(st.integers(0, 100)) for t in TREATMENTS}
    ages = {}
    for treatment in draw(st.sets(st.sampled_from(TREATMENTS))):
        low = draw(st.integers(0, 120))
        ages[treatment] = (low, draw(st.integers(low, 120)))
    thresholds = sorted(draw(st.sets(st.integers(1, 100), min_size=4, max_size=4)), reverse=True)
    return Rules(
        version=draw(st.integers(1, 1000)),
        weights=weights,
        treatment_values=values,
        age_ranges=ages,
        thresholds=dict(zip(("hot", "warm", "medium", "cool"), thresholds, strict=True)),
    )


valid_phones = st.builds(lambda n: f"+90532{n:07d}", st.integers(0, 9_999_999))
answers = st.dictionaries(
    st.sampled_from(["age", "date_of_birth", "how_old_are_you?", "budget", "yaş", "message"]),
    st.one_of(
        st.text(max_size=20),
        st.integers(-5, 200).map(str),
        st.dates().map(lambda d: d.isoformat()),
        st.lists(st.text(max_size=5), max_size=2),
    ),
    max_size=3,
)
leads = st.builds(
    facts,
    full_name=st.one_of(st.none(), st.text(max_size=40)),
    email=st.one_of(st.none(), st.emails(), st.text(max_size=20)),
    phone=st.one_of(st.none(), valid_phones, st.text(max_size=16)),
    treatment=st.one_of(st.none(), st.sampled_from(TREATMENTS), st.text(max_size=12)),
    answers=answers,
    created_time=st.integers(-100, 50_000).map(lambda h: NOW - timedelta(hours=h)),
)
engagements = st.builds(
    Engagement,
    answered_calls=st.integers(0, 30),
    replies=st.integers(0, 30),
    meetings=st.integers(0, 30),
)
moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
)


@settings(max_examples=300, deadline=None)
@given(lead=leads, engagement=engagements, rules=rule_sets(), now=moments)
def test_any_score_is_0_to_100_and_its_breakdown_adds_up(lead, engagement, rules, now):
    result = engine.score(lead, engagement, rules, now)
    assert 0 <= result.total <= 100
    assert sum(p.points for p in result.parts) == result.total
    assert all(0 <= p.points <= p.max for p in result.parts)
    assert sum(p.max for p in result.parts) == 100
    assert [p.factor for p in result.parts] == list(engine.FACTORS)
    assert result.level is engine.level_for(result.total, rules.thresholds)


@settings(max_examples=300, deadline=None)
@given(lead=leads, phone=valid_phones, engagement=engagements, rules=rule_sets())
def test_adding_a_valid_phone_never_lowers_the_score(lead, phone, engagement, rules):
    without = engine.score(lead, engagement, rules, NOW)
    with_phone = engine.score(facts(**{**_fields(lead), "phone": phone}), engagement, rules, NOW)
    assert with_phone.total >= without.total


def _fields(lead):  # noqa: ANN001, ANN202
    return {name: getattr(lead, name) for name in lead.__slots__}
