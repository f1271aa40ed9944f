"""How far each lead has come: its first assignment time and furthest pipeline stage.

The funnel counts every lead of a period that reached a stage, even one that has moved on
(a converted lead counts as new, assigned, contacted and converted), so the furthest stage is
kept on the lead. A flush hook keeps it on every ORM path (desk, API, intake, assignment rules,
bulk edits through the ORM); a set-based UPDATE adds `stage_values()` to its values.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, event, func, literal
from sqlalchemy.orm import Session

from leadhub.db import utcnow
from leadhub.leads.models import PIPELINE, Lead, Status

STAGE = {status: index for index, status in enumerate(PIPELINE)}
ASSIGNED, CONTACTED, CONVERTED = (
    STAGE[Status.ASSIGNED],
    STAGE[Status.CONTACTED],
    STAGE[Status.CONVERTED],
)


def reached(lead: Lead) -> int:
    """The furthest stage `lead` shows now: its status, assignee, contact and conversion."""
    stage = STAGE.get(Status(lead.status), 0) if lead.status is not None else 0
    if lead.assignee_id is not None:
        stage = max(stage, ASSIGNED)
    if lead.first_contacted_at is not None:
        stage = max(stage, CONTACTED)
    if lead.converted_at is not None:
        stage = CONVERTED
    return stage


def mark(lead: Lead, *, now: datetime | None = None) -> None:
    """Raise the lead's stage to what it shows and stamp its first assignment."""
    stage = max(lead.pipeline_stage or 0, reached(lead))
    if stage != lead.pipeline_stage:
        lead.pipeline_stage = stage
    if lead.assignee_id is not None and lead.assigned_at is None:
        lead.assigned_at = now or utcnow()


def stage_values(*, status: Status | None = None, assigned: bool = False) -> dict[str, Any]:
    """Values for a set-based `update(Lead)` that assigns leads or moves them to `status`."""
    floor = STAGE.get(status, 0) if status is not None else 0
    if assigned:
        floor = max(floor, ASSIGNED)
    values: dict[str, Any] = {}
    if floor:
        values["pipeline_stage"] = case(
            (Lead.pipeline_stage < floor, floor), else_=Lead.pipeline_stage
        )
    if assigned:
        values["assigned_at"] = func.coalesce(
            Lead.assigned_at, literal(utcnow(), Lead.assigned_at.type)
        )
    return values


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    now = utcnow()
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, Lead):
            mark(obj, now=now)
