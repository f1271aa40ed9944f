"""A person's file: found by phone or email across distributors, downloaded as JSON and PDF."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from leadhub.privacy.models import AccessKind, AccessRecord, AccessRecordLead
from tests.conftest import post_form
from tests.privacy.conftest import ANSWER, EMAIL, NAME, NOTE, OTHER, PHONE, add_outbox


def test_an_admin_finds_a_person_in_every_distributor_by_phone_as_typed(
    client, login_as, person_leads
):
    first, second, _other = person_leads
    login_as("admin")
    page = post_form(client, "/settings/privacy/find", phone="0532 123 45 67")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and f">{first.id}</a>" in text
    assert f">{second.id}</a>" not in text  # the second lead has no phone
    page = post_form(
        client, "/settings/privacy/find", phone="+90 532 123 4567", email=EMAIL.upper()
    )
    text = page.get_data(as_text=True)
    assert f">{first.id}</a>" in text and f">{second.id}</a>" in text
    assert OTHER["full_name"] not in text and "Dubai Care" in text


def test_a_bad_phone_or_nothing_given_is_a_clear_error(client, login_as):
    login_as("admin")
    response = post_form(client, "/settings/privacy/find", phone="call me")
    assert response.status_code == 400 and "is not a phone number" in response.get_data(
        as_text=True
    )
    response = post_form(client, "/settings/privacy/find")
    assert response.status_code == 400 and "Please correct the form." in response.get_data(
        as_text=True
    )


def test_the_json_file_holds_everything_about_the_person_and_nothing_of_another(
    client, login_as, person_leads, db_session
):
    first, second, other = person_leads
    has_outbox = add_outbox(db_session, lead_id=first.id, to_address=EMAIL, subject="Your visit")
    add_outbox(db_session, lead_id=other.id, to_address=OTHER["email"], subject="Other visit")
    login_as("admin")
    response = post_form(client, "/settings/privacy/download", email=EMAIL, format="json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith('attachment; filename="person-')
    raw = response.get_data(as_text=True)
    data = json.loads(raw)
    assert [lead["id"] for lead in data["leads"]] == [first.id, second.id]
    one = data["leads"][0]
    assert one["full_name"] == NAME and one["phone"] == PHONE and one["email"] == EMAIL
    assert one["answers"]["medical_history"] == ANSWER
    assert one["consent"]["form_answers"] == {"kvkk_consent": True, "marketing_consent": False}
    assert one["consent"]["privacy_policy_url"] == "https://clinic.example.com/privacy"
    assert NOTE in [item["text"] for item in one["timeline"]]
    if has_outbox:
        assert [m["subject"] for m in one["emails_sent"]] == ["Your visit"]
    for value in (*OTHER.values(), str(other.id) + ",", "Other visit"):
        assert value not in raw


def test_the_pdf_file_is_a_pdf_with_the_persons_leads(client, login_as, person_leads):
    login_as("admin")
    response = post_form(client, "/settings/privacy/download", email=EMAIL, format="pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.get_data().startswith(b"%PDF")
    login_as("admin")
    response = post_form(client, "/settings/privacy/download", email=EMAIL, format="exe")
    assert response.status_code == 400


def test_a_download_is_an_access_record_on_each_of_the_persons_leads(
    client, login_as, person_leads, db_session
):
    first, second, _other = person_leads
    user = login_as("admin")
    post_form(client, "/settings/privacy/download", email=EMAIL, format="json")
    (record,) = db_session.scalars(
        select(AccessRecord).where(AccessRecord.kind == AccessKind.PERSON_EXPORT)
    ).all()
    assert record.actor_id == user.id and record.lead_count == 2
    stmt = select(AccessRecordLead.lead_id).where(AccessRecordLead.record_id == record.id)
    assert sorted(db_session.scalars(stmt)) == sorted([first.id, second.id])


def test_the_api_gives_the_same_file_by_post(client, api_as, person_leads):
    first, second, _other = person_leads
    headers = api_as("superadmin")
    body = client.post("/api/v1/privacy/person", json={"phone": PHONE}, headers=headers).json
    assert [lead["id"] for lead in body["leads"]] == [first.id]
    pdf = client.post("/api/v1/privacy/person?format=pdf", json={"email": EMAIL}, headers=headers)
    assert pdf.status_code == 200 and pdf.get_data().startswith(b"%PDF")
    bad = client.post("/api/v1/privacy/person", json={}, headers=headers)
    assert bad.status_code == 422 and bad.json["error"]["code"]


@pytest.mark.parametrize("role", ["manager", "agent", "viewer"])
def test_only_admins_find_or_download_a_person(client, login_as, api_as, person_leads, role):
    response = client.post("/api/v1/privacy/person", json={"email": EMAIL}, headers=api_as(role))
    assert response.status_code == 403
    login_as(role)
    assert client.get("/settings/privacy").status_code == 403
    assert post_form(client, "/settings/privacy/find", email=EMAIL).status_code == 403
    response = post_form(client, "/settings/privacy/download", email=EMAIL, format="json")
    assert response.status_code == 403


def test_the_pdf_shows_arabic_and_turkish_names(client, login_as, lead_factory, other_distributor):
    lead_factory(
        distributor_id=other_distributor.id,
        full_name="هدى الخطيب",
        email="huda@example.ae",
        answers={"التاريخ الطبي": "لا يوجد", "şikayet": "Dişlerde ağrı"},
    )
    login_as("admin")
    response = post_form(
        client, "/settings/privacy/download", email="huda@example.ae", format="pdf"
    )
    assert response.status_code == 200 and response.get_data().startswith(b"%PDF")
    assert len(response.get_data()) > 1000
