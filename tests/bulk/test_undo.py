"""Undo of the last bulk operation: in time, too late, leads changed since, who may."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import time_machine
from sqlalchemy import func, literal_column, select

from leadhub.audit.models import AuditEvent
from leadhub.db import db, utcnow
from leadhub.interactions.models import Interaction, Kind
from leadhub.leads.models import Lead, LeadStatusCount, Status


def _bulk(client: Any, headers: dict[str, str], **body: Any) -> int:
    response = client.post("/api/v1/leads/bulk", json=body, headers=headers)
    assert response.status_code == 202, response.json
    return response.json["id"]


def _undo(client: Any, headers: dict[str, str], job_id: int) -> Any:
    return client.post(f"/api/v1/jobs/{job_id}/undo", headers=headers)


def _lead(lead_id: int) -> Lead:
    db.session.expire_all()
    return db.session.get(Lead, lead_id)


def _counts_true() -> bool:
    key = func.coalesce(Lead.assignee_id, literal_column("0"))
    truth = {
        (d, a, s): n
        for d, a, s, n in db.session.execute(
            select(Lead.distributor_id, key, Lead.status, func.count())
            .where(Lead.deleted_at.is_(None))
            .group_by(Lead.distributor_id, key, Lead.status)
        )
    }
    kept = {
        (c.distributor_id, c.assignee_key, c.status): c.n
        for c in db.session.scalars(select(LeadStatusCount))
        if c.n
    }
    return truth == kept


def test_undo_puts_statuses_back_and_is_audited(client, api_as, lead_factory):
    leads = [lead_factory(), lead_factory(status=Status.CONTACTED)]
    headers = api_as("admin")
    job_id = _bulk(
        client,
        headers,
        action="status",
        status="invalid",
        invalid_reason="test",
        ids=[x.id for x in leads],
    )
    job = client.get(f"/api/v1/jobs/{job_id}", headers=headers).json
    assert job["undoable"] is True and job["undo_until"]

    response = _undo(client, headers, job_id)

    assert response.status_code == 202
    undo = client.get(response.json["url"], headers=headers).json
    assert (undo["kind"], undo["status"], undo["done"], undo["undo_of_id"]) == (
        "undo",
        "done",
        2,
        job_id,
    )
    assert [(_lead(x.id).status, _lead(x.id).lost_reason) for x in leads] == [
        (Status.NEW, None),
        (Status.CONTACTED, None),
    ]
    assert _counts_true()
    assert client.get(f"/api/v1/jobs/{job_id}", headers=headers).json["undone_by_id"] == undo["id"]
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "bulk_operation")
    ).all()
    assert actions == ["bulk.create", "bulk.undo"]
    bodies = db.session.scalars(
        select(Interaction.body)
        .where(Interaction.lead_id == leads[0].id, Interaction.kind == Kind.STATUS_CHANGE)
        .order_by(Interaction.id)
    ).all()
    assert bodies == ["new → invalid: test", "invalid → new"]
    again = _undo(client, headers, job_id)
    assert again.status_code == 409


def test_a_lead_changed_since_is_left_alone(client, api_as, users, lead_factory):
    kept, changed = lead_factory(), lead_factory()
    headers = api_as("admin")
    job_id = _bulk(
        client, headers, action="assign", assignee_id=users["agent"].id, ids=[kept.id, changed.id]
    )
    edit = client.patch(
        f"/api/v1/leads/{changed.id}",
        json={"version": _lead(changed.id).version, "status": "contacted"},
        headers=headers,
    )
    assert edit.status_code == 200, edit.json
    undo = client.get(_undo(client, headers, job_id).json["url"], headers=headers).json
    assert (undo["done"], undo["skipped"]) == (1, 1)
    assert undo["skipped_leads"][0]["lead_id"] == changed.id
    assert undo["skipped_leads"][0]["reason"] == "changed_since"
    assert (_lead(kept.id).assignee_id, _lead(kept.id).status) == (None, Status.NEW)
    assert (_lead(changed.id).assignee_id, _lead(changed.id).status) == (
        users["agent"].id,
        Status.CONTACTED,
    )
    assert _counts_true()


def test_too_late_after_ten_minutes(client, api_as, lead_factory):
    lead = lead_factory()
    headers = api_as("admin")
    job_id = _bulk(client, headers, action="tag_add", tag="late", ids=[lead.id])
    with time_machine.travel(utcnow() + timedelta(minutes=11)):
        response = _undo(client, headers, job_id)
        assert client.get(f"/api/v1/jobs/{job_id}", headers=headers).json["undoable"] is False
    assert response.status_code == 409
    assert "10 minutes" in response.json["error"]["message"]
    assert [t.name for t in _lead(lead.id).tags] == ["late"]


def test_only_the_last_operation(client, api_as, lead_factory):
    lead = lead_factory()
    headers = api_as("admin")
    first = _bulk(client, headers, action="tag_add", tag="one", ids=[lead.id])
    _bulk(client, headers, action="tag_add", tag="two", ids=[lead.id])
    response = _undo(client, headers, first)
    assert response.status_code == 409
    assert response.json["error"]["message"] == "Only the last bulk operation can be undone."


def test_who_may_undo(client, api_as, users, lead_factory):
    lead = lead_factory(assignee_id=users["agent"].id, status=Status.ASSIGNED)
    agent_job = _bulk(client, api_as("agent"), action="tag_add", tag="a", ids=[lead.id])
    assert _undo(client, api_as("agent"), agent_job).status_code == 403  # agents never undo
    admin_job = _bulk(client, api_as("admin"), action="tag_add", tag="b", ids=[lead.id])
    assert _undo(client, api_as("manager"), admin_job).status_code == 404  # not theirs to see
    manager_job = _bulk(client, api_as("manager"), action="tag_add", tag="c", ids=[lead.id])
    assert _undo(client, api_as("manager_other"), manager_job).status_code == 404
    assert _undo(client, api_as("manager"), manager_job).status_code == 202
    assert sorted(t.name for t in _lead(lead.id).tags) == ["a", "b"]


def test_undo_of_delete_note_and_tag_removal(client, api_as, lead_factory):
    lead = lead_factory()
    headers = api_as("admin")
    deleted = _bulk(client, headers, action="delete", ids=[lead.id])
    _undo(client, headers, deleted)
    assert _lead(lead.id).deleted_at is None and _counts_true()

    noted = _bulk(client, headers, action="note", note="hello", ids=[lead.id])
    _undo(client, headers, noted)
    assert db.session.scalar(select(func.count()).where(Interaction.kind == Kind.NOTE)) == 0

    _bulk(client, headers, action="tag_add", tag="keep", ids=[lead.id])
    removed = _bulk(client, headers, action="tag_remove", tag="keep", ids=[lead.id])
    assert _lead(lead.id).tags == []
    _undo(client, headers, removed)
    assert [t.name for t in _lead(lead.id).tags] == ["keep"]


def test_undo_puts_back_times_and_mixed_values_exactly(client, api_as, users, lead_factory):
    """Each lead gets its own values back, times to the microsecond, nulls as nulls."""
    converted_at = utcnow().replace(microsecond=123456) - timedelta(days=3)
    converted = lead_factory(status=Status.CONVERTED, converted_at=converted_at)
    held = lead_factory(status=Status.ASSIGNED, assignee_id=users["agent"].id)
    fresh = lead_factory()
    headers = api_as("admin")
    reopened = _bulk(client, headers, action="status", status="contacted", ids=[converted.id])
    assert (_lead(converted.id).status, _lead(converted.id).converted_at) == (
        Status.CONTACTED,
        None,
    )
    _undo(client, headers, reopened)
    assert (_lead(converted.id).status, _lead(converted.id).converted_at) == (
        Status.CONVERTED,
        converted_at,
    )

    manager = users["manager"]
    moved = _bulk(client, headers, action="assign", assignee_id=manager.id, ids=[held.id, fresh.id])
    _undo(client, headers, moved)
    assert [(_lead(x.id).assignee_id, _lead(x.id).status) for x in (held, fresh)] == [
        (users["agent"].id, Status.ASSIGNED),
        (None, Status.NEW),
    ]

    _bulk(client, headers, action="delete", ids=[fresh.id])
    restored = _bulk(client, headers, action="restore", ids=[fresh.id])
    assert _lead(fresh.id).deleted_at is None
    _undo(client, headers, restored)
    assert _lead(fresh.id).deleted_at is not None
    assert _counts_true()
