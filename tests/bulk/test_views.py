"""The desk's bulk bar and a job's page, through HTTP as a browser would use them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from leadhub.bulk.models import BulkOperation
from leadhub.db import db
from leadhub.interactions.models import LostReason
from leadhub.leads.models import Lead, Status
from tests.conftest import csrf_token, post_form


def _lead(lead_id: int) -> Lead:
    db.session.expire_all()
    return db.session.get(Lead, lead_id)


def _post(client: Any, **data: Any) -> Any:
    return post_form(client, "/leads/bulk", **data)


def test_the_desk_offers_bulk_actions_by_role(client, login_as, lead_factory):
    lead = lead_factory()
    login_as("admin")
    page = client.get("/leads").get_data(as_text=True)
    assert 'id="bulk-form"' in page and f'value="{lead.id}:1"' in page
    assert 'value="delete"' in page and 'value="restore"' not in page
    deleted = client.get("/leads?deleted=true").get_data(as_text=True)
    assert 'value="restore"' in deleted and 'value="delete"' not in deleted


def test_agents_get_no_assign_or_delete_and_viewers_no_bar(client, login_as, lead_factory):
    lead_factory()
    login_as("agent")
    page = client.get("/leads").get_data(as_text=True)
    assert 'id="bulk-form"' in page
    assert 'value="assign"' not in page and 'value="delete"' not in page
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    login_as("viewer")
    assert 'id="bulk-form"' not in client.get("/leads").get_data(as_text=True)


def test_ticked_rows_change_status_and_the_job_page_shows_the_result(
    client, login_as, lead_factory
):
    open_lead, closed = lead_factory(), lead_factory(status=Status.CONVERTED)
    reason = db.session.scalar(select(LostReason).where(LostReason.name == "Timing"))
    login_as("manager")
    response = client.post(
        "/leads/bulk",
        data={
            "csrf_token": csrf_token(client),
            "scope": "ids",
            "ids": [f"{open_lead.id}:1", f"{closed.id}:1"],
            "action": "status",
            "status": "lost",
            "lost_reason_id": str(reason.id),
        },
    )
    assert response.status_code == 302
    assert "/leads/bulk/" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-count="done">1<' in page and 'data-count="skipped">1<' in page
    assert "not allowed for the lead&#39;s current status" in page
    assert f"#{closed.id}" in page
    assert (_lead(open_lead.id).status, _lead(open_lead.id).lost_reason) == (Status.LOST, "Timing")


def test_all_leads_matching_the_filter_and_their_count(client, login_as, lead_factory):
    wanted = [lead_factory(treatment="veneers") for _ in range(2)]
    other = lead_factory(treatment="rhinoplasty")
    login_as("admin")
    assert client.get("/leads/bulk/count?treatment=veneers").json == {"count": 2}
    response = _post(
        client, scope="filter", **{"filter.treatment": "veneers"}, action="tag_add", tag="smile"
    )
    assert response.status_code == 302
    assert all([t.name for t in _lead(x.id).tags] == ["smile"] for x in wanted)
    assert _lead(other.id).tags == []


def test_out_of_scope_rows_are_refused_with_their_ids(
    client, login_as, lead_factory, other_distributor
):
    mine = lead_factory()
    theirs = lead_factory(distributor_id=other_distributor.id)
    login_as("manager")
    response = client.post(
        "/leads/bulk",
        data={
            "csrf_token": csrf_token(client),
            "ids": [f"{mine.id}:1", f"{theirs.id}:1"],
            "action": "note",
            "note": "hi",
            "back": "/leads?status=new",
        },
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "nothing was changed" in page and f"#{theirs.id}" in page
    assert db.session.scalar(select(BulkOperation.id)) is None


def test_nothing_ticked_and_missing_csrf(client, login_as, lead_factory):
    lead = lead_factory()
    login_as("admin")
    page = _post(client, action="delete").status_code
    assert page == 302
    assert (
        client.post("/leads/bulk", data={"ids": f"{lead.id}:1", "action": "delete"}).status_code
        == 400
    )
    assert _lead(lead.id).deleted_at is None


def test_round_robin_from_the_form(client, login_as, users, lead_factory):
    leads = [lead_factory() for _ in range(4)]
    login_as("manager")
    response = client.post(
        "/leads/bulk",
        data={
            "csrf_token": csrf_token(client),
            "ids": [f"{x.id}:1" for x in leads],
            "action": "assign",
            "mode": "round_robin",
            "agent_ids": [str(users["agent"].id)],
        },
    )
    assert response.status_code == 302
    assert {_lead(x.id).assignee_id for x in leads} == {users["agent"].id}


def test_undo_from_the_job_page(client, login_as, lead_factory):
    lead = lead_factory()
    login_as("admin")
    job_url = _post(client, ids=f"{lead.id}:1", action="delete").headers["Location"]
    page = client.get(job_url).get_data(as_text=True)
    assert 'id="bulk-undo"' in page
    undo_url = post_form(client, f"{job_url}/undo").headers["Location"]
    assert undo_url != job_url
    assert _lead(lead.id).deleted_at is None
    assert 'id="bulk-undo"' not in client.get(job_url).get_data(as_text=True)
    assert "Undone by bulk operation" in client.get(job_url).get_data(as_text=True)


def test_job_page_is_the_owners_or_an_admins(client, login_as, lead_factory):
    lead = lead_factory()
    login_as("manager")
    job_url = _post(client, ids=f"{lead.id}:1", action="note", note="x").headers["Location"]
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    login_as("agent")
    assert client.get(job_url).status_code == 404


def test_restore_every_deleted_lead_matching_the_deleted_filter(client, login_as, lead_factory):
    leads = [lead_factory(), lead_factory()]
    login_as("admin")
    _post(client, ids=[f"{x.id}:1" for x in leads], action="delete")
    assert all(_lead(x.id).deleted_at is not None for x in leads)
    response = _post(client, scope="filter", **{"filter.deleted": "true"}, action="restore")
    assert response.status_code == 302
    assert all(_lead(x.id).deleted_at is None for x in leads)
