"""Statuses: lost and invalid reasons, reopening, first contact; the lost-reasons settings page."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from leadhub.audit.models import AuditEvent
from leadhub.errors import InvalidInput
from leadhub.interactions import reasons
from leadhub.interactions.models import InvalidReason, Kind, LostReason
from leadhub.leads import service as leads
from leadhub.leads.models import Lead, Status
from leadhub.leads.schemas import InteractionCreate, LeadUpdate
from tests.conftest import post_form


def _reason(db_session, name: str) -> LostReason:
    return db_session.scalar(select(LostReason).where(LostReason.name == name))


def test_the_default_lost_reasons_are_seeded(db_session):
    names = [r.name for r in reasons.list_lost_reasons(db_session, active_only=True)]
    assert names[:6] == [
        "Price",
        "Chose another clinic",
        "No answer after several attempts",
        "Not interested any more",
        "Health reasons",
        "Timing",
    ]


def test_lost_takes_a_listed_reason_by_id_or_name(users, lead_factory, db_session):
    first, second = lead_factory(), lead_factory()
    price = _reason(db_session, "Price")
    leads.update(
        db_session,
        lead=first,
        data=LeadUpdate(version=first.version, status=Status.LOST, lost_reason_id=price.id),
        actor=users["manager"],
    )
    assert (first.status, first.lost_reason) == (Status.LOST, "Price")
    leads.change_status(
        db_session, lead=second, status=Status.LOST, actor=users["manager"], reason="timing"
    )
    assert second.lost_reason == "Timing"


@pytest.mark.parametrize("reason", [None, "because I say so"])
def test_lost_without_a_listed_reason_is_refused(users, lead_factory, db_session, reason):
    lead = lead_factory()
    with pytest.raises(InvalidInput):
        leads.change_status(
            db_session, lead=lead, status=Status.LOST, actor=users["manager"], reason=reason
        )
    assert lead.status is Status.NEW


def test_an_inactive_reason_is_no_longer_offered_or_accepted(users, lead_factory, db_session):
    price = _reason(db_session, "Price")
    reasons.update_lost_reason(
        db_session, reason=price, name="Price", active=False, actor=users["admin"]
    )
    lead = lead_factory()
    with pytest.raises(InvalidInput):
        leads.update(
            db_session,
            lead=lead,
            data=LeadUpdate(version=lead.version, status=Status.LOST, lost_reason_id=price.id),
            actor=users["manager"],
        )
    assert price not in reasons.list_lost_reasons(db_session, active_only=True)


@pytest.mark.parametrize("reason", list(InvalidReason))
def test_invalid_takes_one_of_the_fixed_reasons(users, lead_factory, db_session, reason):
    lead = lead_factory()
    leads.update(
        db_session,
        lead=lead,
        data=LeadUpdate(version=lead.version, status=Status.INVALID, invalid_reason=reason),
        actor=users["manager"],
    )
    assert (lead.status, lead.lost_reason) == (Status.INVALID, reason.value)


def test_invalid_without_a_reason_is_refused(users, lead_factory, db_session):
    lead = lead_factory()
    with pytest.raises(InvalidInput, match="invalid"):
        leads.change_status(db_session, lead=lead, status=Status.INVALID, actor=users["manager"])
    with pytest.raises(InvalidInput):
        leads.change_status(
            db_session, lead=lead, status=Status.INVALID, actor=users["manager"], reason="boring"
        )


@pytest.mark.parametrize("closed", [Status.LOST, Status.INVALID])
def test_only_admins_reopen_lost_or_invalid_leads(users, lead_factory, db_session, closed):
    lead = lead_factory(status=closed, lost_reason="Price" if closed is Status.LOST else "spam")
    for role in ("manager", "agent"):
        with pytest.raises(InvalidInput):
            leads.change_status(db_session, lead=lead, status=Status.CONTACTED, actor=users[role])
    leads.change_status(db_session, lead=lead, status=Status.CONTACTED, actor=users["admin"])
    assert (lead.status, lead.lost_reason) == (Status.CONTACTED, None)


def test_the_status_change_on_the_timeline_names_the_reason(users, lead_factory, db_session):
    lead = lead_factory()
    leads.change_status(
        db_session, lead=lead, status=Status.LOST, actor=users["manager"], reason="Price"
    )
    db_session.flush()
    bodies = [i.body for i in leads.timeline(db_session, lead=lead) if i.kind == "status_change"]
    assert bodies == ["new → lost: Price"]


@pytest.mark.parametrize("kind", [Kind.CALL, Kind.EMAIL, Kind.WHATSAPP])
def test_first_contact_is_the_first_call_email_or_whatsapp(users, lead_factory, db_session, kind):
    lead = lead_factory()
    interaction = leads.log_interaction(
        db_session, lead=lead, data=InteractionCreate(kind=kind), actor=users["manager"]
    )
    assert lead.first_contacted_at == interaction.occurred_at
    assert lead.status is Status.CONTACTED
    first = lead.first_contacted_at
    leads.log_interaction(
        db_session, lead=lead, data=InteractionCreate(kind=Kind.CALL), actor=users["manager"]
    )
    assert lead.first_contacted_at == first


@pytest.mark.parametrize("kind", [Kind.NOTE, Kind.MEETING])
def test_a_note_or_meeting_is_not_first_contact(users, lead_factory, db_session, kind):
    lead = lead_factory()
    leads.log_interaction(
        db_session,
        lead=lead,
        data=InteractionCreate(kind=kind, body="Met at the fair"),
        actor=users["manager"],
    )
    assert lead.first_contacted_at is None and lead.status is Status.NEW


def test_a_status_click_is_not_first_contact(users, lead_factory, db_session):
    lead = lead_factory()
    leads.change_status(db_session, lead=lead, status=Status.CONTACTED, actor=users["manager"])
    assert lead.status is Status.CONTACTED and lead.first_contacted_at is None


def test_the_lead_page_offers_the_reasons_and_shows_the_chosen_one(
    client, login_as, lead_factory, db_session
):
    lead = lead_factory()
    login_as("manager")
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert 'name="lost_reason_id"' in page and "Chose another clinic" in page
    assert 'value="wrong_number"' in page
    reason = _reason(db_session, "Chose another clinic")
    post_form(
        client,
        f"/leads/{lead.id}/status",
        version=lead.version,
        status="lost",
        lost_reason_id=reason.id,
    )
    db_session.expire_all()
    assert db_session.get(Lead, lead.id).lost_reason == "Chose another clinic"
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert 'id="closing-reason">Chose another clinic<' in page


def test_the_api_marks_a_lead_invalid_with_a_reason(client, api_as, lead_factory):
    lead = lead_factory()
    headers = api_as("manager")
    refused = client.patch(
        f"/api/v1/leads/{lead.id}", json={"version": 1, "status": "invalid"}, headers=headers
    )
    assert refused.status_code == 400 and "invalid" in refused.json["error"]["message"]
    done = client.patch(
        f"/api/v1/leads/{lead.id}",
        json={"version": 1, "status": "invalid", "invalid_reason": "duplicate"},
        headers=headers,
    )
    assert done.status_code == 200
    assert (done.json["status"], done.json["lost_reason"]) == ("invalid", "duplicate")


def test_the_api_lists_lost_reasons(client, api_as):
    body = client.get("/api/v1/lost-reasons", headers=api_as("agent")).json
    assert "Price" in [r["name"] for r in body] and all(r["active"] for r in body)


def test_admins_add_rename_and_deactivate_reasons(client, login_as, db_session):
    login_as("admin")
    assert client.get("/settings/lost-reasons").status_code == 200
    post_form(client, "/settings/lost-reasons", name="Went abroad elsewhere")
    added = _reason(db_session, "Went abroad elsewhere")
    assert added is not None and added.active
    post_form(client, f"/settings/lost-reasons/{added.id}", name="Travel costs", active="false")
    db_session.expire_all()
    renamed = db_session.get(LostReason, added.id)
    assert (renamed.name, renamed.active) == ("Travel costs", False)
    actions = set(
        db_session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "lost_reason"))
    )
    assert actions == {"lost_reason.create", "lost_reason.update"}
    twin = post_form(client, "/settings/lost-reasons", name="travel   costs")
    assert twin.status_code == 409 and "already a reason" in twin.get_data(as_text=True)


@pytest.mark.parametrize("role", ["manager", "agent", "viewer"])
def test_only_admins_keep_the_reasons(client, login_as, role):
    login_as(role)
    assert client.get("/settings/lost-reasons").status_code == 403
