"""Assignment on intake: strategies, filters, working hours, fallback, off, the timeline."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select

from leadhub.assignment import rules, service
from leadhub.assignment.models import AssignmentRule, NoMatch, Strategy
from leadhub.audit.models import AuditEvent
from leadhub.auth.models import Role
from leadhub.db import db
from leadhub.errors import Forbidden, InvalidInput
from leadhub.intake import service as intake
from leadhub.leads import service as leads
from leadhub.leads.models import Status
from leadhub.leads.schemas import LeadCreate
from tests.factories import UserFactory
from tests.meta.conftest import lead_payload

# A Wednesday, 10:00 in Istanbul (UTC+3): inside 09:00-18:00 Monday to Friday
WORKING = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
EVENING = datetime(2026, 11, 25, 16, 30, tzinfo=UTC)  # 19:30 in Istanbul
SATURDAY = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)  # 12:00 in Istanbul, a Saturday


def auto_events(lead_id: int) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(
        AuditEvent.action == service.AUDIT_ACTION, AuditEvent.object_id == lead_id
    )
    return list(db.session.scalars(stmt))


# -- the rules alone ------------------------------------------------------------------------


def test_round_robin_takes_turns_after_the_last_one():
    assert rules.next_in_turn([3, 1, 2], None) == [1, 2, 3]
    assert rules.next_in_turn([1, 2, 3], 2) == [3, 1, 2]
    assert rules.next_in_turn([1, 2, 3], 3) == [1, 2, 3]
    assert rules.next_in_turn([1, 5], 3) == [5, 1]  # the last one left the pool


def test_least_open_breaks_ties_in_turn():
    cursor = rules.Cursor(last_user_id=1, open_leads={1: 0, 2: 3, 3: 0})
    assert rules.pick(Strategy.LEAST_OPEN, [1, 2, 3], cursor) == 3
    cursor = rules.Cursor(last_user_id=None, open_leads={1: 2, 2: 1, 3: 1})
    assert rules.pick(Strategy.LEAST_OPEN, [1, 2, 3], cursor) == 2


# -- off, and no rule ------------------------------------------------------------------------


def test_without_a_rule_leads_wait_unassigned(agents, new_lead):
    lead = new_lead()
    assert lead.assignee_id is None and lead.status is Status.NEW
    assert auto_events(lead.id) == []


def test_the_off_switch_leaves_assignment_to_people(agents, set_rules, new_lead):
    set_rules(strategy="round_robin")
    set_rules(strategy="off")
    lead = new_lead()
    assert lead.assignee_id is None and lead.status is Status.NEW
    assert auto_events(lead.id) == []


# -- round robin -------------------------------------------------------------------------------


def test_round_robin_spreads_leads_evenly_among_active_agents(
    agents, users, set_rules, new_lead, other_distributor
):
    UserFactory(role=Role.AGENT, distributor=agents[0].distributor, active=False)
    set_rules(strategy="round_robin")
    made = [new_lead() for _ in range(8)]
    spread = Counter(lead.assignee_id for lead in made)
    assert spread == {agent.id: 2 for agent in agents}
    # in turn: the order repeats
    assert [lead.assignee_id for lead in made[:4]] == [lead.assignee_id for lead in made[4:]]
    assert all(lead.status is Status.ASSIGNED for lead in made)
    # never a manager, viewer or another distributor's agent
    assert users["agent_other"].id not in spread and users["manager"].id not in spread


def test_an_automatic_assignment_is_on_the_timeline_with_its_rule(agents, set_rules, new_lead):
    set_rules(strategy="round_robin")
    lead = new_lead()
    (event,) = auto_events(lead.id)
    assert event.actor_id is None
    assert event.after["rule"] == "round_robin" and event.after["reason"] == rules.POOL
    items = [i for i in leads.timeline(db.session, lead=lead) if i.kind == "auto_assignment"]
    assert len(items) == 1
    assignee = db.session.get(type(agents[0]), lead.assignee_id)
    assert items[0].body == assignee.name and items[0].rule == "round_robin"


def test_a_named_assignee_is_not_overridden_by_the_rule(agents, users, set_rules, distributor):
    set_rules(strategy="round_robin")
    data = LeadCreate(
        distributor_id=distributor.id,
        full_name="Named",
        phone="+905321112233",
        assignee_id=agents[2].id,
    )
    lead = intake.create_manual(db.session, data=data, actor=users["manager"])
    db.session.commit()
    assert lead.assignee_id == agents[2].id
    assert auto_events(lead.id) == []


def test_a_lead_from_meta_arrives_assigned(app, agents, set_rules, page):
    set_rules(strategy="round_robin")
    payloads = [
        lead_payload(
            str(7000 + n),
            field_data=[
                {"name": "full_name", "values": [f"Meta Person {n}"]},
                {"name": "phone_number", "values": [f"+4520{100000 + n}"]},
            ],
        )
        for n in range(8)
    ]
    with app.app_context():  # as the intake job runs
        outcomes = intake.ingest_meta_many(db.session, payloads=payloads, connection=page)
        db.session.commit()
    spread = Counter(o.lead.assignee_id for o in outcomes)
    assert spread == {agent.id: 2 for agent in agents}
    for outcome in outcomes:
        assert len(auto_events(outcome.lead.id)) == 1
    # a second delivery of the same leads changes nothing
    with app.app_context():
        again = intake.ingest_meta_many(db.session, payloads=payloads, connection=page)
    assert [o.lead.assignee_id for o in again] == [o.lead.assignee_id for o in outcomes]
    assert all(not o.created for o in again)


# -- least open leads --------------------------------------------------------------------------


def test_least_open_gives_the_lead_to_the_least_busy_agent(
    agents, set_rules, new_lead, lead_factory
):
    for agent, busy in zip(agents, (3, 1, 2, 2), strict=True):
        for _ in range(busy):
            lead_factory(assignee_id=agent.id, status=Status.ASSIGNED)
    for _ in range(5):  # closed leads do not count
        lead_factory(assignee_id=agents[2].id, status=Status.CONVERTED)
    set_rules(strategy="least_open")
    first = new_lead()
    assert first.assignee_id == agents[1].id  # had 1
    second = new_lead()  # agents[1] now has 2, tied with agents[2] and [3]: next in turn
    assert second.assignee_id == agents[2].id
    (event,) = auto_events(second.id)
    assert event.after["rule"] == "least_open"


def test_least_open_in_a_batch_counts_the_batch(app, agents, set_rules, page):
    set_rules(strategy="least_open")
    payloads = [
        lead_payload(
            str(8000 + n),
            field_data=[
                {"name": "full_name", "values": [f"Batch Person {n}"]},
                {"name": "phone_number", "values": [f"+4521{100000 + n}"]},
            ],
        )
        for n in range(8)
    ]
    with app.app_context():  # as the intake job runs
        outcomes = intake.ingest_meta_many(db.session, payloads=payloads, connection=page)
        db.session.commit()
    assert Counter(o.lead.assignee_id for o in outcomes) == {agent.id: 2 for agent in agents}


# -- matching filters -------------------------------------------------------------------------


def skills(agents, **by_index):
    return [{"user_id": agent.id, **by_index.get(f"a{i}", {})} for i, agent in enumerate(agents)]


def test_language_match_sends_a_lead_to_an_agent_who_speaks_it(agents, set_rules, new_lead):
    set_rules(
        strategy="round_robin",
        match_language=True,
        agents=skills(agents, a1={"languages": ["ar", "en"]}, a3={"languages": ["ar"]}),
    )
    arabic = [new_lead(language="ar") for _ in range(4)]
    assert Counter(lead.assignee_id for lead in arabic) == {agents[1].id: 2, agents[3].id: 2}
    (event,) = auto_events(arabic[0].id)
    assert event.after["reason"] == rules.LANGUAGE


def test_nobody_speaks_it_falls_back_to_every_agent_by_default(agents, set_rules, new_lead):
    set_rules(
        strategy="round_robin", match_language=True, agents=skills(agents, a1={"languages": ["ar"]})
    )
    lead = new_lead(language="de")
    assert lead.assignee_id in {a.id for a in agents}
    assert auto_events(lead.id)[0].after["reason"] == rules.NO_MATCH


def test_nobody_matches_goes_to_the_fallback_when_chosen(agents, users, set_rules, new_lead):
    set_rules(
        strategy="round_robin",
        match_language=True,
        no_match="fallback",
        fallback_user_id=users["manager"].id,
    )
    lead = new_lead(language="de")
    assert lead.assignee_id == users["manager"].id
    event = auto_events(lead.id)[0]
    assert event.after["rule"] == rules.FALLBACK and event.after["reason"] == rules.NO_MATCH
    set_rules(strategy="round_robin", match_language=True, no_match="fallback")
    queued = new_lead(language="de")
    assert queued.assignee_id is None and queued.status is Status.NEW
    (event,) = auto_events(queued.id)
    assert event.after["assignee_id"] is None and event.after["reason"] == rules.NO_MATCH


def test_treatment_match_and_both_filters(agents, set_rules, new_lead):
    set_rules(
        strategy="round_robin",
        match_language=True,
        match_treatment=True,
        agents=skills(
            agents,
            a0={"languages": ["en"], "treatments": ["rhinoplasty"]},
            a2={"languages": ["en"], "treatments": ["hair_transplant", "rhinoplasty"]},
            a3={"languages": ["tr"], "treatments": ["rhinoplasty"]},
        ),
    )
    lead = new_lead(language="en", treatment="hair_transplant")
    assert lead.assignee_id == agents[2].id
    assert auto_events(lead.id)[0].after["reason"] == rules.LANGUAGE_TREATMENT
    nose = [new_lead(language="en", treatment="rhinoplasty") for _ in range(2)]
    assert {lead.assignee_id for lead in nose} == {agents[0].id, agents[2].id}


def test_no_active_agents_goes_to_the_fallback(distributor, users, set_rules, new_lead):
    users["agent"].active = False
    db.session.commit()
    set_rules(strategy="round_robin")
    lead = new_lead()
    assert lead.assignee_id is None
    assert auto_events(lead.id)[0].after["reason"] == rules.NO_AGENTS


# -- working hours ----------------------------------------------------------------------------

HOURS = {"hours_enabled": True, "timezone": "Europe/Istanbul", "start": "09:00", "end": "18:00"}


def test_inside_working_hours_the_strategy_assigns(agents, set_rules, new_lead):
    set_rules(strategy="round_robin", **HOURS)
    with time_machine.travel(WORKING, tick=False):
        lead = new_lead()
    assert lead.assignee_id in {a.id for a in agents}


@pytest.mark.parametrize("moment", [EVENING, SATURDAY])
def test_outside_working_hours_the_fallback_takes_the_lead(
    agents, users, set_rules, new_lead, moment
):
    set_rules(strategy="round_robin", fallback_user_id=users["manager"].id, **HOURS)
    with time_machine.travel(moment, tick=False):
        lead = new_lead()
    assert lead.assignee_id == users["manager"].id
    event = auto_events(lead.id)[0]
    assert event.after == {
        "assignee_id": users["manager"].id,
        "assignee": users["manager"].name,
        "rule": rules.FALLBACK,
        "reason": rules.OUTSIDE_HOURS,
    }


def test_outside_working_hours_without_a_fallback_user_the_lead_waits(agents, set_rules, new_lead):
    set_rules(strategy="round_robin", **HOURS)
    with time_machine.travel(EVENING, tick=False):
        lead = new_lead()
    assert lead.assignee_id is None
    assert auto_events(lead.id)[0].after["reason"] == rules.OUTSIDE_HOURS


def test_working_hours_are_read_in_the_distributors_time_zone(distributor, set_rules):
    set_rules(strategy="off", **{**HOURS, "timezone": "America/New_York"})
    # 10:00 Istanbul is 02:00 in New York
    assert not service.is_working_time(db.session, distributor.id, WORKING)
    assert service.is_working_time(db.session, distributor.id, EVENING)  # 11:30 in New York
    hours = service.working_hours(db.session, distributor.id)
    assert hours == service.WorkingHours("America/New_York", (0, 1, 2, 3, 4), "09:00", "18:00")


def test_without_working_hours_it_is_always_working_time(distributor, set_rules):
    assert service.is_working_time(db.session, distributor.id, SATURDAY)
    assert service.working_hours(db.session, distributor.id) is None
    set_rules(strategy="round_robin")
    with time_machine.travel(SATURDAY, tick=False):
        assert service.is_working_time(db.session, distributor.id)


# -- the settings -----------------------------------------------------------------------------


def test_saving_the_rule_is_audited_with_what_changed(distributor, agents, users, set_rules):
    set_rules(strategy="round_robin", agents=skills(agents, a1={"languages": ["ar"]}))
    event = db.session.scalar(
        select(AssignmentRule.id).where(AssignmentRule.distributor_id == distributor.id)
    )
    assert event is not None
    audit_event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "assignment_rule.update")
    ).all()[-1]
    assert audit_event.actor_id == users["admin"].id
    assert audit_event.before["strategy"] == "off"
    assert audit_event.after["strategy"] == "round_robin"
    assert audit_event.after["skills"][str(agents[1].id)]["languages"] == ["ar"]
    set_rules(strategy="round_robin", agents=skills(agents, a1={"languages": ["ar"]}))
    count = len(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "assignment_rule.update")
        ).all()
    )
    assert count == 1  # saving the same again records nothing


def test_the_fallback_must_work_for_the_distributor(set_rules, users):
    with pytest.raises(InvalidInput):
        set_rules(strategy="round_robin", fallback_user_id=users["agent_other"].id)
    db.session.rollback()
    with pytest.raises(InvalidInput):
        set_rules(strategy="round_robin", agents=[{"user_id": users["agent_other"].id}])


def test_a_manager_edits_only_their_own_distributors_rule(distributor, other_distributor, users):
    data = service.AssignmentRulesInput(strategy=Strategy.LEAST_OPEN, no_match=NoMatch.FALLBACK)
    service.update(db.session, distributor=distributor, data=data, actor=users["manager"])
    with pytest.raises(Forbidden):
        service.update(db.session, distributor=other_distributor, data=data, actor=users["manager"])
    with pytest.raises(Forbidden):
        service.get(db.session, distributor=distributor, actor=users["agent"])
