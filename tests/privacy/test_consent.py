"""Consent: the form's answers and policy on the lead page, per-purpose consent, warnings."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from leadhub.audit.models import AuditEvent
from leadhub.meta.models import LeadForm
from leadhub.privacy.models import LeadConsent, Purpose
from tests.conftest import post_form


@pytest.fixture
def lead(lead_factory):
    return lead_factory(
        consent={"kvkk_consent": True, "marketing_consent": False},
        privacy_policy_url="https://clinic.example.com/privacy",
    )


def test_the_lead_page_shows_the_forms_consent_answers_and_policy(client, login_as, lead):
    login_as("agent")
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert "kvkk_consent" in page and "marketing_consent" in page
    assert 'id="privacy-policy-url"' in page and "https://clinic.example.com/privacy" in page


def test_an_older_lead_shows_its_forms_current_policy(client, login_as, lead_factory, db_session):
    from leadhub.meta.models import PageConnection

    connection = PageConnection(
        distributor_id=lead_factory().distributor_id,
        page_id="55501",
        token_encrypted="x",
    )
    db_session.add(connection)
    db_session.flush()
    db_session.add(
        LeadForm(
            page_connection_id=connection.id,
            form_id="77701",
            privacy_policy_url="https://clinic.example.com/form-policy",
        )
    )
    db_session.commit()
    old = lead_factory(form_id="77701", privacy_policy_url=None)
    login_as("admin")
    page = client.get(f"/leads/{old.id}").get_data(as_text=True)
    assert "https://clinic.example.com/form-policy" in page


def test_intake_keeps_the_forms_policy_with_a_meta_lead(client, connected, world, db_session):
    from leadhub.leads.models import Lead
    from tests.privacy.conftest import deliver

    made = world.add_leads(1)
    assert deliver(client, world, made).status_code == 200
    lead = db_session.scalar(select(Lead).where(Lead.meta_lead_id == made[0].id))
    form = world.forms()[0]
    assert lead.privacy_policy_url == form.privacy_policy_url
    assert lead.consent == {k: checked for k, checked in made[0].custom_disclaimer_responses}


def test_an_admin_records_consent_per_purpose_and_it_is_audited(
    client, login_as, lead, db_session, users
):
    login_as("admin")
    response = post_form(
        client,
        f"/leads/{lead.id}/consent",
        purpose="whatsapp",
        source="phone_call",
        granted="on",
        given_at_local="2026-11-20T10:30",
    )
    assert response.status_code == 302
    row = db_session.get(LeadConsent, (lead.id, Purpose.WHATSAPP))
    assert row.granted and row.source.value == "phone_call"
    assert row.given_at.isoformat().startswith("2026-11-20T10:30")
    assert row.recorded_by_id == users["admin"].id
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "lead.consent"))
    assert event.object_id == lead.id and event.after["granted"] is True
    assert event.after["purpose"] == "whatsapp" and event.before["granted"] is None
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert 'data-purpose="whatsapp"' in page and "a phone call" in page


def test_a_future_consent_time_is_refused(client, login_as, lead, db_session):
    login_as("admin")
    post_form(
        client,
        f"/leads/{lead.id}/consent",
        purpose="email",
        source="email",
        granted="on",
        given_at_local="2999-01-01T00:00",
    )
    assert db_session.get(LeadConsent, (lead.id, Purpose.EMAIL)) is None
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert "Please correct the form." in page


@pytest.mark.parametrize("role", ["manager", "agent", "viewer"])
def test_only_admins_record_consent(client, login_as, api_as, lead, db_session, role):
    login_as(role)
    response = post_form(client, f"/leads/{lead.id}/consent", purpose="phone", source="email")
    assert response.status_code == 403
    response = client.put(
        f"/api/v1/leads/{lead.id}/consent",
        json={"purpose": "phone", "granted": True, "source": "email"},
        headers=api_as(role),
    )
    assert response.status_code == 403
    assert db_session.get(LeadConsent, (lead.id, Purpose.PHONE)) is None


def test_the_consent_api_reads_and_writes(client, api_as, lead):
    headers = api_as("admin")
    body = client.get(f"/api/v1/leads/{lead.id}/consent", headers=headers).json
    assert body["form_answers"] == {"kvkk_consent": True, "marketing_consent": False}
    assert body["privacy_policy_url"] == "https://clinic.example.com/privacy"
    assert body["missing_channels"] == ["phone", "whatsapp", "email"]
    body = client.put(
        f"/api/v1/leads/{lead.id}/consent",
        json={"purpose": "phone", "granted": True, "source": "in_person"},
        headers=headers,
    ).json
    assert body["missing_channels"] == ["whatsapp", "email"]
    assert body["purposes"][0]["purpose"] == "phone"
    bad = client.put(
        f"/api/v1/leads/{lead.id}/consent",
        json={"purpose": "fax", "granted": True, "source": "in_person"},
        headers=headers,
    )
    assert bad.status_code == 422 and "error" in bad.json


def test_contact_actions_warn_when_consent_is_missing(client, login_as, lead, db_session, users):
    login_as("agent")
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert 'id="consent-warning"' in page
    assert 'data-missing-channels="phone,whatsapp,email"' in page
    response = post_form(client, f"/leads/{lead.id}/interactions", kind="call", body="rang")
    assert response.status_code == 302
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert "No recorded consent to contact this person by phone" in page
    assert "Saved." in page  # a warning, not a block: the call is logged


def test_no_warning_once_every_channel_has_consent(client, login_as, lead, db_session):
    login_as("admin")
    for purpose in ("phone", "whatsapp", "email"):
        post_form(
            client, f"/leads/{lead.id}/consent", purpose=purpose, source="written", granted="on"
        )
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert 'id="consent-warning"' not in page
    post_form(client, f"/leads/{lead.id}/interactions", kind="whatsapp", body="hello")
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert "No recorded consent to contact" not in page


def test_a_refusal_still_warns(client, login_as, lead):
    login_as("admin")
    post_form(client, f"/leads/{lead.id}/consent", purpose="email", source="email")  # unticked
    post_form(client, f"/leads/{lead.id}/interactions", kind="email", body="sent brochure")
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert "No recorded consent to contact this person by email" in page


def test_the_api_says_which_channel_had_no_consent_and_logs_the_contact(client, api_as, lead):
    headers = api_as("admin")
    client.put(
        f"/api/v1/leads/{lead.id}/consent",
        json={"purpose": "phone", "granted": True, "source": "in_person"},
        headers=headers,
    )
    call = client.post(
        f"/api/v1/leads/{lead.id}/interactions",
        json={"kind": "call", "body": "rang"},
        headers=headers,
    )
    assert call.status_code == 201 and call.json["consent_missing"] is None
    message = client.post(
        f"/api/v1/leads/{lead.id}/interactions",
        json={"kind": "whatsapp", "body": "hello"},
        headers=headers,
    )
    assert message.status_code == 201 and message.json["consent_missing"] == "whatsapp"
    note = client.post(
        f"/api/v1/leads/{lead.id}/interactions", json={"kind": "note", "body": "x"}, headers=headers
    )
    assert note.json["consent_missing"] is None  # a note contacts nobody
