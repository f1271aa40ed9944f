"""Who saw what: a lead page, an API read and an export each leave an access record."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from leadhub.leads import export
from leadhub.privacy import access
from leadhub.privacy.models import AccessKind, AccessRecord, AccessRecordLead


def records(db_session, kind):
    return db_session.scalars(select(AccessRecord).where(AccessRecord.kind == kind)).all()


def leads_of(db_session, record_id):
    stmt = select(AccessRecordLead.lead_id).where(AccessRecordLead.record_id == record_id)
    return sorted(db_session.scalars(stmt))


def test_opening_a_lead_page_records_who_when_and_from_where(
    client, login_as, lead_factory, db_session
):
    lead = lead_factory()
    user = login_as("agent")
    response = client.get(f"/leads/{lead.id}")
    assert response.status_code == 200
    (record,) = records(db_session, AccessKind.VIEW)
    assert record.actor_id == user.id and record.actor_name == user.name
    assert record.ip == "127.0.0.1" and record.user_agent.startswith("Werkzeug/")
    assert record.lead_count == 1 and leads_of(db_session, record.id) == [lead.id]


def test_an_api_read_is_recorded(client, api_as, lead_factory, db_session, users):
    lead = lead_factory()
    assert client.get(f"/api/v1/leads/{lead.id}", headers=api_as("manager")).status_code == 200
    (record,) = records(db_session, AccessKind.API_READ)
    assert record.actor_id == users["manager"].id and leads_of(db_session, record.id) == [lead.id]


def test_a_lead_out_of_scope_leaves_no_record(client, login_as, lead_factory, db_session):
    lead = lead_factory()
    login_as("manager_other")
    assert client.get(f"/leads/{lead.id}").status_code == 404
    assert records(db_session, AccessKind.VIEW) == []


def test_an_export_writes_one_record_and_a_row_per_exported_lead(
    client, login_as, lead_factory, db_session
):
    made = [lead_factory() for _ in range(5)]
    user = login_as("manager")
    response = client.get("/leads/export?format=csv")
    assert response.status_code == 200 and response.get_data()
    (record,) = records(db_session, AccessKind.EXPORT)
    assert record.actor_id == user.id and record.lead_count == 5
    assert leads_of(db_session, record.id) == sorted(lead.id for lead in made)


def test_an_export_in_batches_writes_its_rows_batch_by_batch(app, lead_factory, db_session, users):
    made = [lead_factory() for _ in range(7)]
    from leadhub.leads.schemas import LeadFilter

    commits = []

    def commit() -> None:
        commits.append(db_session.scalar(select(func.count()).select_from(AccessRecordLead)))
        db_session.commit()

    with app.test_request_context("/leads/export"):
        body = b"".join(
            export.stream(
                db_session,
                user=users["admin"],
                filters=LeadFilter(),
                columns=["id", "full_name"],
                fmt="csv",
                batch_size=3,
                between_batches=commit,
            )
        )
        db_session.commit()
    assert body.count(b"\n") == 8
    assert commits == [3, 6, 7]  # rows were written before each batch's commit
    (record,) = records(db_session, AccessKind.EXPORT)
    assert record.lead_count == 7 and leads_of(db_session, record.id) == [m.id for m in made]


def test_an_empty_export_reads_nobody(client, login_as, db_session):
    login_as("admin")
    assert client.get("/leads/export?format=csv&q=nobody-at-all").status_code == 200
    assert records(db_session, AccessKind.EXPORT) == []


def test_admins_see_everyone_who_viewed_or_exported_a_lead(client, login_as, lead_factory, api_as):
    lead = lead_factory()
    login_as("agent")
    client.get(f"/leads/{lead.id}")
    login_as("manager")
    client.get("/leads/export?format=jsonl")
    login_as("admin")
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert 'id="lead-access"' in page
    assert "Ayse Agent" in page and "Mert Manager" in page
    body = client.get(f"/api/v1/leads/{lead.id}/access", headers=api_as("admin")).json
    kinds = [item["kind"] for item in body["items"]]
    assert kinds[:3] == ["view", "export", "view"]  # newest first: the admin's own view on top
    names = {item["actor_name"] for item in body["items"]}
    assert {"Ayse Agent", "Mert Manager", "Ali Admin"} <= names


def test_the_access_list_pages_by_cursor(client, api_as, lead_factory, db_session, users):
    lead = lead_factory()
    for _ in range(5):
        access.record(
            db_session,
            user=users["agent"],
            kind=AccessKind.VIEW,
            lead_ids=[lead.id],
            origin=access.Origin(),
        )
    db_session.commit()
    headers = api_as("admin")
    first = client.get(f"/api/v1/leads/{lead.id}/access?limit=3", headers=headers).json
    assert len(first["items"]) == 3 and first["next_cursor"]
    rest = client.get(
        f"/api/v1/leads/{lead.id}/access?limit=3&cursor={first['next_cursor']}", headers=headers
    ).json
    assert len(rest["items"]) == 2 and rest["next_cursor"] is None
    page = client.get(f"/leads/{lead.id}/access")  # signed out
    assert page.status_code == 302


@pytest.mark.parametrize("role", ["manager", "agent", "viewer"])
def test_only_admins_see_access_records(client, login_as, api_as, lead_factory, role):
    lead = lead_factory()
    assert client.get(f"/api/v1/leads/{lead.id}/access", headers=api_as(role)).status_code == 403
    login_as(role)
    assert client.get(f"/leads/{lead.id}/access").status_code == 403
    assert 'id="lead-access"' not in client.get(f"/leads/{lead.id}").get_data(as_text=True)
