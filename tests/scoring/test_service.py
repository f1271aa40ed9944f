"""Scoring in the database: on intake, after work, the recommended lists, the summary, the rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from leadhub.audit.models import AuditEvent
from leadhub.db import utcnow
from leadhub.errors import Forbidden, InvalidInput
from leadhub.intake import service as intake
from leadhub.interactions.models import Kind, Outcome
from leadhub.leads import service as leads
from leadhub.leads.models import Lead, ScoreLevel, Status
from leadhub.leads.schemas import InteractionCreate, LeadCreate, LeadFilter, LeadUpdate
from leadhub.scoring import engine, service
from leadhub.scoring.defaults import DEFAULT_RULE_SET
from leadhub.scoring.models import ScoringRuleSet
from leadhub.scoring.schemas import RuleSetInput
from tests.factories import InteractionFactory
from tests.meta.conftest import lead_payload, page  # noqa: F401 - the connected Page fixture


def manual_lead(db_session, users, **changes):  # noqa: ANN001, ANN201
    data = {
        "full_name": "Ayşe Yılmaz",
        "phone": "0532 123 45 67",
        "email": "ayse@example.com",
        "treatment": "dental_implants",
        "answers": {"age": "45"},
        **changes,
    }
    lead = intake.create_manual(db_session, data=LeadCreate(**data), actor=users["manager"])
    db_session.commit()
    return lead


def count_audits(db_session) -> int:  # noqa: ANN001
    return db_session.scalar(select(func.count()).select_from(AuditEvent))


def stored_sum(lead: Lead) -> int:
    return sum(entry["points"] for entry in lead.score_breakdown.values())


# -- the rules ------------------------------------------------------------------------------------


def test_the_migration_seeds_the_default_rules_as_version_1(db_session):
    rule_set = service.active_rule_set(db_session)
    assert rule_set.version == 1 and rule_set.active and rule_set.created_by_id is None
    for name, value in DEFAULT_RULE_SET.items():
        assert getattr(rule_set, name) == value, name
    assert service.active_rules(db_session).thresholds == {
        "hot": 80,
        "warm": 60,
        "medium": 40,
        "cool": 20,
    }


# -- when a lead is scored ------------------------------------------------------------------------


def test_a_lead_entered_by_hand_arrives_scored(db_session, users):
    lead = manual_lead(db_session, users)
    db_session.expire_all()
    stored = db_session.get(Lead, lead.id)
    # contact 30, fresh 20, dental implants 25, no work yet 0, age 45 within 35-75: 10
    assert (stored.score, stored.score_level, stored.score_version) == (85, ScoreLevel.HOT, 1)
    assert stored_sum(stored) == 85
    assert stored.score_breakdown["age_fit"]["params"] == {"age": 45, "min": 35, "max": 75}


def test_a_meta_lead_arrives_scored_in_the_intake_transaction(db_session, page):  # noqa: F811
    created = utcnow() - timedelta(minutes=20)
    payload = lead_payload("777", created_time=created.strftime("%Y-%m-%dT%H:%M:%S+0000"))
    lead, was_new = intake.ingest_meta(db_session, payload=payload, connection=page)
    assert was_new
    # not committed yet: the row as inserted already holds the score
    row = db_session.execute(
        select(Lead.score, Lead.score_version, Lead.score_breakdown).where(Lead.id == lead.id)
    ).one()
    assert row.score_version == 1 and row.score == lead.score > 0
    assert sum(entry["points"] for entry in row.score_breakdown.values()) == row.score
    assert row.score_breakdown["freshness"]["points"] == 20  # created at Meta 20 minutes ago
    assert row.score_breakdown["service"]["params"]["treatment"] == "teeth_whitening"
    db_session.rollback()
    assert db_session.get(Lead, lead.id) is None  # scored in the same transaction, gone with it


def test_an_answered_call_rescores_and_the_change_is_on_the_timeline(db_session, users):
    lead = manual_lead(db_session, users, treatment="teeth_whitening")
    before = lead.score
    leads.log_interaction(
        db_session,
        lead=lead,
        actor=users["agent"],
        data=InteractionCreate(kind=Kind.CALL, outcome=Outcome.ANSWERED, duration_seconds=120),
    )
    db_session.commit()
    assert lead.score == before + 4  # 25% of engagement's 15
    assert lead.score_breakdown["engagement"]["params"] == {
        "answered_calls": 1,
        "replies": 0,
        "meetings": 0,
    }
    audited = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.object_id == lead.id, AuditEvent.action == "lead.update"
        )
    ).all()
    assert any(e.before.get("score") == before and e.after["score"] == lead.score for e in audited)
    changes = [item.changes for item in leads.timeline(db_session, lead=lead) if item.changes]
    assert {"score": (before, lead.score)}.items() <= changes[0].items()


def test_a_note_leaves_the_score_as_it_was(db_session, users):
    lead = manual_lead(db_session, users)
    score, audits = lead.score, count_audits(db_session)
    leads.log_interaction(
        db_session,
        lead=lead,
        actor=users["agent"],
        data=InteractionCreate(kind=Kind.NOTE, body="x"),
    )
    db_session.commit()
    assert lead.score == score
    # the note itself is audited; no score change is
    assert count_audits(db_session) == audits + 1


def test_a_change_of_a_field_that_counts_rescores(db_session, users):
    lead = manual_lead(db_session, users)
    before = lead.score
    lead.email = None  # as a future edit form would
    leads.update(
        db_session,
        lead=lead,
        actor=users["manager"],
        data=LeadUpdate(version=lead.version, tags=["x"]),
    )
    db_session.commit()
    assert lead.score == before - 9 and lead.score_breakdown["contact"]["params"]["email"] is False


def test_a_change_of_other_fields_leaves_the_score_alone(db_session, users):
    lead = manual_lead(db_session, users)
    score, breakdown, audits = lead.score, lead.score_breakdown, count_audits(db_session)
    leads.update(
        db_session,
        lead=lead,
        actor=users["manager"],
        data=LeadUpdate(version=lead.version, status=Status.INVALID, invalid_reason="test"),
    )
    db_session.commit()
    assert (lead.score, lead.score_breakdown) == (score, breakdown)
    assert count_audits(db_session) == audits + 1  # the status change only


def test_an_edit_scores_a_lead_that_never_was(db_session, users, lead_factory):
    lead = lead_factory(score=0, score_version=None)
    leads.update(
        db_session,
        lead=lead,
        actor=users["manager"],
        data=LeadUpdate(version=lead.version, tags=["x"]),
    )
    db_session.commit()
    assert lead.score_version == 1 and lead.score == stored_sum(lead) > 0


# -- recommendations ------------------------------------------------------------------------------


def listed(db_session, user, name: str) -> set[str]:  # noqa: ANN001
    found = leads.list_visible(db_session, user=user, filters=LeadFilter(recommendation=name))
    return {lead.full_name for lead in found.items}


def test_high_quality_unassigned_leads(db_session, users, lead_factory):
    agent = users["agent"]
    lead_factory(full_name="Warm nobody", score=60)
    lead_factory(full_name="Hot nobody", score=95)
    lead_factory(full_name="Hot but taken", score=95, assignee_id=agent.id, status=Status.ASSIGNED)
    lead_factory(full_name="Medium nobody", score=59)
    lead_factory(full_name="Hot but lost", score=95, status=Status.LOST, lost_reason="price")
    assert listed(db_session, users["admin"], "high_unassigned") == {"Warm nobody", "Hot nobody"}


def test_abandoned_leads_are_assigned_and_untouched_for_48_hours(db_session, users, lead_factory):
    agent = users["agent"]
    now = utcnow()
    old = now - timedelta(days=5)

    def assigned(name, status=Status.ASSIGNED, received=old):  # noqa: ANN001, ANN202
        return lead_factory(
            full_name=name, assignee_id=agent.id, status=status, received_at=received
        )

    assigned("Never called")
    called_long_ago = assigned("Called long ago", status=Status.CONTACTED)
    InteractionFactory(
        lead_id=called_long_ago.id, kind=Kind.CALL, occurred_at=now - timedelta(hours=49)
    )
    called_lately = assigned("Called lately", status=Status.CONTACTED)
    InteractionFactory(
        lead_id=called_lately.id, kind=Kind.CALL, occurred_at=now - timedelta(hours=47)
    )
    just_given = assigned("Just given")
    InteractionFactory(
        lead_id=just_given.id, kind=Kind.ASSIGNMENT, occurred_at=now - timedelta(hours=3)
    )
    noted = assigned("Only a note")
    InteractionFactory(lead_id=noted.id, kind=Kind.NOTE, occurred_at=now - timedelta(hours=1))
    assigned("Arrived today", received=now - timedelta(hours=5))
    assigned("Converted", status=Status.CONVERTED)
    lead_factory(full_name="Nobody's", received_at=old)
    assert listed(db_session, users["admin"], "abandoned") == {
        "Never called",
        "Called long ago",
        "Only a note",
    }


def test_the_abandoned_hours_come_from_the_rules(db_session, users, lead_factory):
    lead = lead_factory(full_name="Quiet", assignee_id=users["agent"].id, status=Status.ASSIGNED)
    lead.received_at = utcnow() - timedelta(days=5)
    InteractionFactory(lead_id=lead.id, kind=Kind.CALL, occurred_at=utcnow() - timedelta(hours=30))
    rules = service.active_rules(db_session)
    looser = engine.Rules(**{**_rules_fields(rules), "abandoned_hours": 24, "version": 99})
    found = db_session.scalars(
        select(Lead.full_name).where(service.recommendation_clause("abandoned", rules=looser))
    ).all()
    assert found == ["Quiet"]
    assert listed(db_session, users["admin"], "abandoned") == set()


def _rules_fields(rules):  # noqa: ANN001, ANN202
    return {
        name: getattr(rules, name)
        for name in ("version", "weights", "treatment_values", "age_ranges", "thresholds")
    } | {"abandoned_hours": rules.abandoned_hours}


def test_low_quality_leads_taking_time(db_session, users, lead_factory, monkeypatch):
    def worked(name, score, contacts, status=Status.CONTACTED, kind=Kind.CALL):  # noqa: ANN001, ANN202
        lead = lead_factory(full_name=name, score=score, status=status)
        for n in range(contacts):
            InteractionFactory(lead_id=lead.id, kind=kind, occurred_at=utcnow() - timedelta(days=n))
        return lead

    worked("Cold and called thrice", 12, 3)
    worked("Cool and messaged often", 29, 5, kind=Kind.WHATSAPP)
    worked("Called twice", 12, 2)
    worked("Noted thrice", 12, 3, kind=Kind.NOTE)
    worked("Good and called often", 30, 6)
    worked("Lost after calls", 12, 4, status=Status.LOST)
    long_ago = lead_factory(full_name="Called last season", score=12, status=Status.CONTACTED)
    for days in (40, 50, 60):
        InteractionFactory(
            lead_id=long_ago.id, kind=Kind.CALL, occurred_at=utcnow() - timedelta(days=days)
        )
    assert listed(db_session, users["admin"], "low_busy") == {
        "Cold and called thrice",
        "Cool and messaged often",
    }
    # The dashboard's count gives the same answer by either plan: each low-score lead counted
    # through the index (few of them), or the window's busy leads grouped first (many).
    rules, now = service.active_rules(db_session), utcnow()
    for bound in (10_000, 1):
        monkeypatch.setattr(service, "LOW_SCORES_FOR_GROUPING", bound)
        counted = service.recommendation_count(
            db_session, user=users["admin"], name="low_busy", rules=rules, now=now
        )
        assert counted == (2, False)


def test_an_unknown_recommendation_is_refused():
    with pytest.raises(InvalidInput):
        service.recommendation_clause("lucky", rules=engine.Rules(1, {"freshness": 20}, {}, {}, {}))


# -- the summary ----------------------------------------------------------------------------------


def test_the_summary_counts_levels_in_the_users_scope(
    db_session, users, lead_factory, other_distributor
):
    for score in (95, 85, 70, 45, 45, 10):
        lead_factory(score=score)
    lead_factory(score=99, deleted_at=utcnow())
    lead_factory(score=99, distributor_id=other_distributor.id)
    levels = service.summary(db_session, user=users["manager"]).levels
    assert levels == {
        ScoreLevel.HOT: 2,
        ScoreLevel.WARM: 1,
        ScoreLevel.MEDIUM: 2,
        ScoreLevel.COOL: 0,
        ScoreLevel.COLD: 1,
    }
    assert service.summary(db_session, user=users["manager_other"]).levels[ScoreLevel.HOT] == 1
    assert sum(service.summary(db_session, user=users["admin"]).levels.values()) == 7


def test_an_agent_sees_their_own_and_the_unassigned_leads(db_session, users, lead_factory):
    agent = users["agent"]
    lead_factory(score=90, assignee_id=agent.id, status=Status.ASSIGNED, full_name="Mine")
    lead_factory(score=88, full_name="Nobody's")
    lead_factory(
        score=99, assignee_id=users["manager"].id, status=Status.ASSIGNED, full_name="Hers"
    )
    found = service.summary(db_session, user=agent)
    assert found.levels[ScoreLevel.HOT] == 2
    assert [lead.full_name for lead in found.top] == ["Mine", "Nobody's"]
    assert found.recommendations["high_unassigned"] == 1


def test_the_top_leads_are_open_ones_best_first(db_session, users, lead_factory):
    for n in range(25):
        lead_factory(score=n * 4, full_name=f"Lead {n:02d}")
    lead_factory(score=100, status=Status.CONVERTED, full_name="Done already")
    top = service.summary(db_session, user=users["admin"]).top
    assert len(top) == 20
    assert [lead.full_name for lead in top[:2]] == ["Lead 24", "Lead 23"]
    assert "Done already" not in {lead.full_name for lead in top}


def test_recommendation_counts_stop_at_a_cap(db_session, users, lead_factory):
    for _ in range(3):
        lead_factory(score=90)
    rules = service.active_rules(db_session)
    count = service.recommendation_count(
        db_session, user=users["admin"], name="high_unassigned", rules=rules, now=utcnow(), cap=2
    )
    assert count == (2, True)
    assert service.summary(db_session, user=users["admin"]).recommendations["high_unassigned"] == 3


# -- changing the rules ---------------------------------------------------------------------------


def new_rules(**changes) -> RuleSetInput:  # noqa: ANN003
    return RuleSetInput(**{**DEFAULT_RULE_SET, **changes})


def test_a_superadmin_saves_a_new_version_and_the_old_one_stays(db_session, users):
    weights = {"contact": 20, "freshness": 30, "service": 25, "engagement": 15, "age_fit": 10}
    rule_set, run = service.change_rules(
        db_session, data=new_rules(weights=weights), actor=users["superadmin"]
    )
    db_session.commit()
    assert rule_set.version == 2 and rule_set.active and rule_set.created_by_name == "Sema Super"
    old = service.get_rule_set(db_session, version=1)
    assert not old.active and old.weights == DEFAULT_RULE_SET["weights"]
    assert service.active_rules(db_session).weights == weights
    assert run.rule_set_version == 2 and run.everything and run.distributor_id is None
    event = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "scoring.rule_set")
    ).one()
    assert event.before == {"version": 1, "weights": DEFAULT_RULE_SET["weights"]}
    assert event.after == {"version": 2, "weights": weights}
    assert event.actor_id == users["superadmin"].id


@pytest.mark.parametrize("role", ["admin", "manager", "agent", "viewer"])
def test_only_a_superadmin_changes_the_rules(db_session, users, role):
    with pytest.raises(Forbidden):
        service.change_rules(db_session, data=new_rules(abandoned_hours=24), actor=users[role])


def test_saving_the_same_rules_again_is_refused(db_session, users):
    with pytest.raises(InvalidInput):
        service.change_rules(db_session, data=new_rules(), actor=users["superadmin"])


@pytest.mark.parametrize(
    "changes",
    [
        {
            "weights": {
                "contact": 30,
                "freshness": 20,
                "service": 25,
                "engagement": 15,
                "age_fit": 11,
            }
        },
        {"weights": {"contact": 55, "freshness": 20, "service": 25}},
        {
            "weights": {
                "contact": -5,
                "freshness": 35,
                "service": 25,
                "engagement": 15,
                "age_fit": 30,
            }
        },
        {"treatment_values": {**DEFAULT_RULE_SET["treatment_values"], "veneers": 101}},
        {"treatment_values": {"veneers": 50}},
        {"age_ranges": {"veneers": [50, 20]}},
        {"age_ranges": {"tattoos": [20, 50]}},
        {"level_thresholds": {"hot": 80, "warm": 80, "medium": 40, "cool": 20}},
        {"level_thresholds": {"hot": 80, "warm": 60, "medium": 40, "cool": 0}},
        {"abandoned_hours": 0},
    ],
)
def test_rules_that_do_not_hold_together_are_refused(changes):
    with pytest.raises(ValueError):
        new_rules(**changes)


def test_versions_are_listed_newest_first(db_session, users):
    service.change_rules(db_session, data=new_rules(abandoned_hours=24), actor=users["superadmin"])
    service.change_rules(db_session, data=new_rules(abandoned_hours=12), actor=users["superadmin"])
    versions = service.list_rule_sets(db_session)
    assert [v.version for v in versions] == [3, 2, 1]
    assert [v.active for v in versions] == [True, False, False]
    assert db_session.scalar(select(ScoringRuleSet).where(ScoringRuleSet.active)).version == 3


def test_the_rules_in_force_are_read_once_per_version(db_session, users):
    first = service.active_rules(db_session)
    assert service.active_rules(db_session) is first
    service.change_rules(db_session, data=new_rules(abandoned_hours=24), actor=users["superadmin"])
    assert service.active_rules(db_session).abandoned_hours == 24


@pytest.mark.parametrize("cap", [2, 4])
def test_a_level_past_the_cap_is_the_total_less_the_others(
    db_session, users, lead_factory, other_distributor, monkeypatch, cap
):
    """Past the cap one level is derived from the maintained counts, the others are counted
    (a cap of 2 leaves two levels past it: one counted in full, one derived; 4 leaves one)."""
    monkeypatch.setattr(service, "LEVEL_COUNT_CAP", cap)
    agent = users["agent"]
    for score in (95, 45, 45, 45, 45, 30, 30, 30, 10):
        lead_factory(score=score)
    lead_factory(score=45, assignee_id=agent.id, status=Status.ASSIGNED)
    lead_factory(score=45, deleted_at=utcnow())
    lead_factory(score=45, distributor_id=other_distributor.id)
    expected = {
        ScoreLevel.HOT: 1,
        ScoreLevel.WARM: 0,
        ScoreLevel.MEDIUM: 5,
        ScoreLevel.COOL: 3,
        ScoreLevel.COLD: 1,
    }
    assert service.summary(db_session, user=users["manager"]).levels == expected
    assert service.summary(db_session, user=agent).levels == expected
    admin = service.summary(db_session, user=users["admin"]).levels
    assert admin == {**expected, ScoreLevel.MEDIUM: 6}
