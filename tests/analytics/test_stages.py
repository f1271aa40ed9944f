"""The furthest stage a lead reached is kept on every path that moves it, and never lowered."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from leadhub.analytics import service
from leadhub.analytics.periods import resolve
from leadhub.analytics.scope import scope_for
from leadhub.analytics.stages import stage_values
from leadhub.db import db, utcnow
from leadhub.interactions.models import Kind
from leadhub.leads import service as leads
from leadhub.leads.models import Lead, Status
from leadhub.leads.schemas import InteractionCreate


def counts(users: dict[str, Any]) -> list[int]:
    period = resolve("today", tz="UTC")
    found = service.funnel(
        db.session, scope=scope_for(db.session, user=users["admin"]), period=period
    )
    return [stage["count"] for stage in found["stages"]]


def test_a_converted_lead_counts_at_every_stage(users: Any, lead_factory: Any) -> None:
    admin, agent = users["admin"], users["agent"]
    lead = lead_factory(created_time=utcnow())
    assert (lead.pipeline_stage, lead.assigned_at) == (0, None)
    leads.assign(db.session, lead=lead, assignee_id=agent.id, actor=admin)
    db.session.flush()
    assert lead.pipeline_stage == 1 and lead.assigned_at is not None
    first_assigned = lead.assigned_at
    call = InteractionCreate(kind=Kind.CALL, body="Spoke to her.")
    leads.log_interaction(db.session, lead=lead, data=call, actor=agent)
    db.session.flush()
    assert lead.pipeline_stage == 2
    leads.change_status(db.session, lead=lead, status=Status.CONVERTED, actor=agent)
    db.session.commit()
    assert lead.pipeline_stage == 3
    assert counts(users) == [1, 1, 1, 1]
    # Given to someone else later: the first assignment time stays.
    leads.assign(db.session, lead=lead, assignee_id=users["manager"].id, actor=admin)
    db.session.commit()
    assert lead.assigned_at == first_assigned


def test_a_lead_contacted_then_lost_still_counts_as_contacted(
    users: Any, lead_factory: Any
) -> None:
    manager = users["manager"]
    lead = lead_factory(created_time=utcnow())
    leads.change_status(db.session, lead=lead, status=Status.CONTACTED, actor=manager)
    leads.change_status(db.session, lead=lead, status=Status.LOST, actor=manager, reason="Price")
    db.session.commit()
    assert (lead.status, lead.pipeline_stage) == (Status.LOST, 2)
    assert counts(users) == [1, 1, 1, 0]
    # Unassigning (or reopening) never lowers the stage reached.
    leads.change_status(db.session, lead=lead, status=Status.NEW, actor=users["admin"])
    db.session.commit()
    assert lead.pipeline_stage == 2


def test_set_based_updates_use_stage_values(users: Any, lead_factory: Any) -> None:
    lead = lead_factory(created_time=utcnow())
    db.session.execute(
        update(Lead)
        .where(Lead.id == lead.id)
        .values(
            assignee_id=users["agent"].id, status=Status.ASSIGNED, **stage_values(assigned=True)
        )
    )
    db.session.commit()
    db.session.refresh(lead)
    assert lead.pipeline_stage == 1 and lead.assigned_at is not None
