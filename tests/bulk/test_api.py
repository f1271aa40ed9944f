"""Bulk operations through the JSON API: every action, scope refusal, skipped reasons, the job."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, literal_column, select

from leadhub.audit.models import AuditEvent
from leadhub.auth.models import Role
from leadhub.bulk import service
from leadhub.bulk.models import BulkOperation
from leadhub.db import db
from leadhub.interactions.models import Interaction, Kind, LostReason
from leadhub.leads.models import Lead, LeadStatusCount, Status
from tests.factories import UserFactory


def _bulk(client: Any, headers: dict[str, str], **body: Any) -> Any:
    return client.post("/api/v1/leads/bulk", json=body, headers=headers)


def _job(client: Any, headers: dict[str, str], job_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/jobs/{job_id}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def _lead(lead_id: int) -> Lead:
    db.session.expire_all()
    return db.session.get(Lead, lead_id)


def _counts() -> dict[tuple[int, int, str], int]:
    rows = db.session.execute(
        select(
            LeadStatusCount.distributor_id,
            LeadStatusCount.assignee_key,
            LeadStatusCount.status,
            LeadStatusCount.n,
        )
    )
    return {(d, a, s.value): n for d, a, s, n in rows if n}


def _true_counts() -> dict[tuple[int, int, str], int]:
    """The status counts recomputed from the lead rows: what the projection must equal."""
    assignee_key = func.coalesce(Lead.assignee_id, literal_column("0"))
    rows = db.session.execute(
        select(Lead.distributor_id, assignee_key, Lead.status, func.count())
        .where(Lead.deleted_at.is_(None))
        .group_by(Lead.distributor_id, assignee_key, Lead.status)
    )
    return {(d, a, s.value): n for d, a, s, n in rows}


def test_status_change_to_lost_with_reason_changes_counts_audit_and_timeline(
    client, api_as, users, lead_factory
):
    first, second = lead_factory(), lead_factory(status=Status.CONTACTED)
    closed = lead_factory(status=Status.CONVERTED)
    reason = db.session.scalar(select(LostReason).where(LostReason.name == "Price"))
    headers = api_as("manager")

    response = _bulk(
        client,
        headers,
        action="status",
        ids=[first.id, second.id, closed.id],
        status="lost",
        lost_reason_id=reason.id,
    )

    assert response.status_code == 202, response.json
    job = _job(client, headers, response.json["id"])
    assert job["status"] == "done"
    assert (job["total"], job["done"], job["skipped"], job["failed"]) == (3, 2, 1, 0)
    assert job["skipped_leads"] == [
        {
            "lead_id": closed.id,
            "reason": "transition_not_allowed",
            "message": "This status change is not allowed for the lead's current status.",
        }
    ]
    for lead_id in (first.id, second.id):
        lead = _lead(lead_id)
        assert (lead.status, lead.lost_reason, lead.version) == (Status.LOST, "Price", 2)
    assert _lead(closed.id).version == 1
    assert _counts() == _true_counts()
    audits = db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "lead", AuditEvent.object_id == first.id)
    ).all()
    assert [(a.action, a.before, a.after) for a in audits] == [
        (
            "lead.update",
            {"status": "new", "lost_reason": None},
            {"status": "lost", "lost_reason": "Price", "bulk_operation_id": job["id"]},
        )
    ]
    whole = db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "bulk_operation")
    ).all()
    assert [(a.action, a.object_id, a.after["total"]) for a in whole] == [
        ("bulk.create", job["id"], 3)
    ]
    bodies = db.session.scalars(
        select(Interaction.body).where(
            Interaction.lead_id == second.id, Interaction.kind == Kind.STATUS_CHANGE
        )
    ).all()
    assert bodies == ["contacted → lost: Price"]


def test_lost_needs_a_reason_and_invalid_a_code(client, api_as, lead_factory):
    lead = lead_factory()
    headers = api_as("admin")
    missing = _bulk(client, headers, action="status", ids=[lead.id], status="lost")
    assert missing.status_code == 400
    bad = _bulk(
        client, headers, action="status", ids=[lead.id], status="invalid", invalid_reason="x"
    )
    assert bad.status_code == 422 or bad.status_code == 400
    good = _bulk(
        client, headers, action="status", ids=[lead.id], status="invalid", invalid_reason="spam"
    )
    assert good.status_code == 202
    assert (_lead(lead.id).status, _lead(lead.id).lost_reason) == (Status.INVALID, "spam")
    assert db.session.scalar(select(func.count()).select_from(BulkOperation)) == 1


def test_out_of_scope_leads_refuse_the_whole_request(
    client, api_as, lead_factory, other_distributor
):
    mine = lead_factory()
    theirs = lead_factory(distributor_id=other_distributor.id)
    response = _bulk(
        client, api_as("manager"), action="tag_add", ids=[mine.id, theirs.id], tag="vip"
    )
    assert response.status_code == 403
    assert response.json["error"]["details"] == {"lead_ids": [theirs.id], "count": 1}
    assert _lead(mine.id).tags == [] and _lead(mine.id).version == 1
    assert db.session.scalar(select(func.count()).select_from(BulkOperation)) == 0


def test_named_leads_are_checked_in_chunks_and_a_later_outsider_still_refuses_all(
    client, api_as, lead_factory, other_distributor, monkeypatch
):
    monkeypatch.setattr(service, "ID_CHUNK", 2)
    mine = [lead_factory() for _ in range(4)]
    theirs = lead_factory(distributor_id=other_distributor.id)
    headers = api_as("manager")
    refused = _bulk(
        client, headers, action="status", status="contacted", ids=[*(x.id for x in mine), theirs.id]
    )
    assert refused.status_code == 403
    assert refused.json["error"]["details"] == {"lead_ids": [theirs.id], "count": 1}
    assert db.session.scalar(select(func.count()).select_from(BulkOperation)) == 0
    # Each chunk carries its own leads' versions: the stale one, in the second chunk, is skipped.
    versions = {str(x.id): 1 for x in mine} | {str(mine[3].id): 5}
    response = _bulk(
        client,
        headers,
        action="status",
        status="contacted",
        ids=[x.id for x in mine],
        versions=versions,
    )
    job = _job(client, headers, response.json["id"])
    assert (job["total"], job["done"]) == (4, 3)
    assert [(s["lead_id"], s["reason"]) for s in job["skipped_leads"]] == [
        (mine[3].id, "out_of_date")
    ]
    assert [_lead(x.id).status for x in mine] == [Status.CONTACTED] * 3 + [Status.NEW]


def test_assign_to_one_person_moves_new_leads_to_assigned(client, api_as, users, lead_factory):
    fresh, working = lead_factory(), lead_factory(status=Status.CONTACTED)
    agent = users["agent"]
    headers = api_as("manager")
    response = _bulk(
        client, headers, action="assign", ids=[fresh.id, working.id], assignee_id=agent.id
    )
    job = _job(client, headers, response.json["id"])
    assert (job["done"], job["skipped"]) == (2, 0)
    assert (_lead(fresh.id).assignee_id, _lead(fresh.id).status) == (agent.id, Status.ASSIGNED)
    assert (_lead(working.id).assignee_id, _lead(working.id).status) == (
        agent.id,
        Status.CONTACTED,
    )
    assert _counts() == _true_counts()
    bodies = db.session.scalars(
        select(Interaction.body).where(Interaction.kind == Kind.ASSIGNMENT)
    ).all()
    assert bodies == [agent.name, agent.name]
    audits = db.session.execute(
        select(AuditEvent.object_id, AuditEvent.before, AuditEvent.after).where(
            AuditEvent.object_type == "lead", AuditEvent.action == "lead.update"
        )
    ).all()
    operation = {"bulk_operation_id": response.json["id"]}
    assert sorted(audits) == sorted(
        [
            (
                fresh.id,
                {"assignee_id": None, "status": "new"},
                {"assignee_id": agent.id, "status": "assigned", **operation},
            ),
            (working.id, {"assignee_id": None}, {"assignee_id": agent.id, **operation}),
        ]
    )
    again = _bulk(client, headers, action="assign", ids=[fresh.id], assignee_id=agent.id)
    assert _job(client, headers, again.json["id"])["skipped_leads"][0]["reason"] == "unchanged"


def test_round_robin_spreads_evenly_per_distributor(
    client, api_as, users, lead_factory, distributor, other_distributor
):
    agents = [users["agent"], UserFactory(role=Role.AGENT, distributor=distributor)]
    third = UserFactory(role=Role.AGENT, distributor=distributor)
    ours = [lead_factory() for _ in range(7)]
    theirs = lead_factory(distributor_id=other_distributor.id)
    headers = api_as("admin")
    response = client.post(
        "/api/v1/leads/bulk",
        json={
            "action": "assign",
            "ids": [lead.id for lead in [*ours, theirs]],
            "agent_ids": [a.id for a in [*agents, third]],
        },
        headers=headers,
    )
    job = _job(client, headers, response.json["id"])
    assert (job["done"], job["skipped"]) == (7, 1)
    assert job["skipped_leads"][0] == {
        "lead_id": theirs.id,
        "reason": "no_agent_for_distributor",
        "message": "None of the chosen agents works for this lead's distributor.",
    }
    given = [_lead(lead.id).assignee_id for lead in ours]
    per_agent = [given.count(a.id) for a in [*agents, third]]
    assert sorted(per_agent) == [2, 2, 3]
    assert _counts() == _true_counts()


def test_assignee_of_another_distributor_is_skipped(client, api_as, users, lead_factory):
    lead = lead_factory()
    headers = api_as("admin")
    response = _bulk(
        client, headers, action="assign", ids=[lead.id], assignee_id=users["agent_other"].id
    )
    job = _job(client, headers, response.json["id"])
    assert job["skipped_leads"][0]["reason"] == "other_distributor"
    assert _lead(lead.id).assignee_id is None


def test_add_and_remove_a_tag(client, api_as, lead_factory):
    first, second = lead_factory(), lead_factory()
    headers = api_as("manager")
    added = _bulk(client, headers, action="tag_add", ids=[first.id, second.id], tag=" VIP ")
    assert _job(client, headers, added.json["id"])["done"] == 2
    assert [t.name for t in _lead(first.id).tags] == ["vip"]
    assert _lead(first.id).version == 2
    removed = _bulk(client, headers, action="tag_remove", ids=[first.id], tag="vip")
    assert _job(client, headers, removed.json["id"])["done"] == 1
    assert _lead(first.id).tags == [] and [t.name for t in _lead(second.id).tags] == ["vip"]
    unknown = _bulk(client, headers, action="tag_remove", ids=[first.id], tag="nope")
    assert unknown.status_code == 400
    audits = db.session.scalars(
        select(AuditEvent.after).where(
            AuditEvent.object_type == "lead", AuditEvent.object_id == first.id
        )
    ).all()
    assert [a["tags"] for a in audits] == [["vip"], []]


def test_note_goes_on_each_timeline(client, api_as, lead_factory):
    leads = [lead_factory(), lead_factory()]
    headers = api_as("manager")
    ids = [x.id for x in leads]
    response = _bulk(client, headers, action="note", ids=ids, note="Called <b>all</b>")
    assert _job(client, headers, response.json["id"])["done"] == 2
    notes = db.session.scalars(select(Interaction).where(Interaction.kind == Kind.NOTE)).all()
    assert sorted(n.lead_id for n in notes) == sorted(ids)
    assert {n.body for n in notes} == {"Called <b>all</b>"}
    assert all(_lead(i).version == 1 for i in ids)  # a note changes no field of the lead


def test_delete_and_restore_keep_counts_true(client, api_as, lead_factory):
    leads = [lead_factory(), lead_factory(status=Status.CONTACTED)]
    ids = [x.id for x in leads]
    headers = api_as("admin")
    deleted = _bulk(client, headers, action="delete", ids=ids)
    assert _job(client, headers, deleted.json["id"])["done"] == 2
    assert all(_lead(i).deleted_at is not None for i in ids)
    assert _counts() == _true_counts() == {}
    again = _bulk(client, headers, action="delete", ids=ids)
    assert again.status_code == 403  # deleted leads are no longer in the live list
    restored = _bulk(client, headers, action="restore", ids=ids)
    assert _job(client, headers, restored.json["id"])["done"] == 2
    assert all(_lead(i).deleted_at is None for i in ids)
    assert _counts() == _true_counts()
    actions = db.session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.object_id == ids[0], AuditEvent.object_type == "lead"
        )
    ).all()
    assert actions == ["lead.delete", "lead.restore"]


def test_all_leads_matching_a_filter(client, api_as, lead_factory, other_distributor):
    wanted = [lead_factory(treatment="veneers") for _ in range(3)]
    lead_factory(treatment="rhinoplasty")
    lead_factory(treatment="veneers", distributor_id=other_distributor.id)  # not the manager's
    headers = api_as("manager")
    response = _bulk(
        client, headers, action="status", status="contacted", filter={"treatment": "veneers"}
    )
    assert response.status_code == 202
    assert response.json["total"] == 3
    assert {x.id for x in wanted} == set(
        db.session.scalars(select(Lead.id).where(Lead.status == Status.CONTACTED))
    )
    empty = _bulk(client, headers, action="status", status="contacted", filter={"tag": "none"})
    assert empty.status_code == 400


def test_a_lead_changed_since_it_was_selected_is_skipped(client, api_as, lead_factory):
    lead, other = lead_factory(), lead_factory()
    headers = api_as("admin")
    response = _bulk(
        client,
        headers,
        action="status",
        status="contacted",
        ids=[lead.id, other.id],
        versions={str(lead.id): 7, str(other.id): 1},
    )
    job = _job(client, headers, response.json["id"])
    assert [s["reason"] for s in job["skipped_leads"]] == ["out_of_date"]
    assert (_lead(lead.id).status, _lead(other.id).status) == (Status.NEW, Status.CONTACTED)


@pytest.mark.parametrize(
    ("action", "extra"),
    [("assign", {"assignee_id": 1}), ("delete", {}), ("restore", {})],
)
def test_agents_may_not_assign_or_delete(client, api_as, lead_factory, action, extra):
    lead = lead_factory()
    response = _bulk(client, api_as("agent"), action=action, ids=[lead.id], **extra)
    assert response.status_code == 403


def test_agents_bulk_only_their_own_leads(client, api_as, users, lead_factory):
    own = lead_factory(assignee_id=users["agent"].id, status=Status.ASSIGNED)
    pool = lead_factory()  # unassigned: on the agent's desk, but not theirs to bulk-change
    headers = api_as("agent")
    refused = _bulk(client, headers, action="status", status="contacted", ids=[own.id, pool.id])
    assert refused.status_code == 403
    assert refused.json["error"]["details"]["lead_ids"] == [pool.id]
    ok = _bulk(client, headers, action="status", status="contacted", ids=[own.id])
    assert _job(client, headers, ok.json["id"])["done"] == 1
    by_filter = _bulk(client, headers, action="tag_add", tag="x", filter={})
    assert by_filter.json["total"] == 1


def test_viewers_never(client, api_as, lead_factory):
    lead = lead_factory()
    response = _bulk(client, api_as("viewer"), action="tag_add", tag="x", ids=[lead.id])
    assert response.status_code == 403


def test_only_the_owner_or_an_admin_reads_a_job(client, api_as, lead_factory):
    lead = lead_factory()
    response = _bulk(client, api_as("manager"), action="tag_add", tag="x", ids=[lead.id])
    job_id = response.json["id"]
    assert client.get(f"/api/v1/jobs/{job_id}", headers=api_as("admin")).status_code == 200
    assert client.get(f"/api/v1/jobs/{job_id}", headers=api_as("agent")).status_code == 404
    assert client.get(f"/api/v1/jobs/{job_id}", headers=api_as("manager_other")).status_code == 404
    assert client.get("/api/v1/jobs/999999", headers=api_as("admin")).status_code == 404


def test_bad_requests_get_clear_errors(client, api_as, lead_factory):
    lead = lead_factory()
    headers = api_as("admin")
    both = _bulk(client, headers, action="delete", ids=[lead.id], filter={})
    neither = _bulk(client, headers, action="delete")
    unknown = _bulk(client, headers, action="explode", ids=[lead.id])
    for response in (both, neither, unknown):
        assert response.status_code in (400, 422)
        assert "error" in response.json
    assert _bulk(client, headers, action="note", ids=[lead.id], note="  ").status_code == 400
    assert _bulk(client, headers, action="assign", ids=[lead.id]).status_code == 400
