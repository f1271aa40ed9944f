"""Timeline details: notes editable by their author for 15 minutes, WhatsApp links, calls."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import unquote

import pytest
import time_machine
from flask_babel import force_locale, gettext
from sqlalchemy import select

from leadhub.audit.models import AuditEvent
from leadhub.db import utcnow
from leadhub.errors import Forbidden, InvalidInput
from leadhub.interactions import service as interactions
from leadhub.interactions.models import Interaction, Kind, Outcome
from leadhub.leads import service as leads
from leadhub.leads.schemas import InteractionCreate, NoteEdit
from tests.conftest import post_form


def _note(db_session, lead, user, body="Wants a call after 6 pm"):
    note = leads.log_interaction(
        db_session, lead=lead, data=InteractionCreate(kind=Kind.NOTE, body=body), actor=user
    )
    db_session.commit()
    return note


def test_the_author_edits_a_note_and_the_edit_is_audited(users, lead_factory, db_session):
    lead = lead_factory()
    note = _note(db_session, lead, users["agent"])
    leads.edit_note(
        db_session,
        lead=lead,
        interaction_id=note.id,
        data=NoteEdit(body="Wants a call after 7 pm"),
        actor=users["agent"],
    )
    db_session.commit()
    assert note.body == "Wants a call after 7 pm" and note.edited_at is not None
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "lead.note_edit"))
    assert event.before["body"] == "Wants a call after 6 pm"
    assert event.after["body"] == "Wants a call after 7 pm"
    assert event.object_id == lead.id and event.actor_id == users["agent"].id


def test_after_15_minutes_a_note_is_final(users, lead_factory, db_session):
    lead = lead_factory()
    note = _note(db_session, lead, users["agent"])
    with (
        time_machine.travel(utcnow() + timedelta(minutes=16)),
        pytest.raises(Forbidden, match="15 minutes"),
    ):
        leads.edit_note(
            db_session,
            lead=lead,
            interaction_id=note.id,
            data=NoteEdit(body="changed"),
            actor=users["agent"],
        )
    assert note.body == "Wants a call after 6 pm"


def test_only_the_author_edits_and_only_notes(users, lead_factory, db_session):
    lead = lead_factory()
    note = _note(db_session, lead, users["agent"])
    with pytest.raises(Forbidden):
        leads.edit_note(
            db_session,
            lead=lead,
            interaction_id=note.id,
            data=NoteEdit(body="mine now"),
            actor=users["manager"],
        )
    call = leads.log_interaction(
        db_session, lead=lead, data=InteractionCreate(kind=Kind.CALL), actor=users["agent"]
    )
    db_session.flush()
    with pytest.raises(InvalidInput):
        leads.edit_note(
            db_session,
            lead=lead,
            interaction_id=call.id,
            data=NoteEdit(body="x"),
            actor=users["agent"],
        )


def test_a_note_is_edited_on_the_lead_page_and_shown_escaped(
    client, login_as, lead_factory, users, db_session
):
    lead = lead_factory()
    note = _note(db_session, lead, users["agent"])
    login_as("agent")
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert f"/leads/{lead.id}/notes/{note.id}" in page
    post_form(client, f"/leads/{lead.id}/notes/{note.id}", body="<b>bold</b> & plain")
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; plain" in page and "<b>bold</b>" not in page
    assert db_session.get(Interaction, note.id).edited_at is not None


def test_a_late_edit_on_the_page_says_why(client, login_as, lead_factory, users, db_session):
    lead = lead_factory()
    note = _note(db_session, lead, users["agent"])
    login_as("agent")
    with time_machine.travel(utcnow() + timedelta(minutes=20)):
        page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
        assert f"/notes/{note.id}" not in page  # no edit form any more
        post_form(client, f"/leads/{lead.id}/notes/{note.id}", body="too late")
        page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert "can be edited for 15 minutes" in page


def test_the_api_edits_a_note_within_the_window(client, api_as, lead_factory, users, db_session):
    lead = lead_factory()
    note = _note(db_session, lead, users["agent"])
    url = f"/api/v1/leads/{lead.id}/interactions/{note.id}"
    response = client.patch(url, json={"body": "Call Monday"}, headers=api_as("agent"))
    assert response.status_code == 200
    assert response.json["body"] == "Call Monday" and response.json["edited_at"]
    other = client.patch(url, json={"body": "no"}, headers=api_as("manager"))
    assert other.status_code == 403


GREETING = (
    "Hello %(name)s, this is %(clinic)s. Thank you for your enquiry. "
    "When would be a good time to talk?"
)


@pytest.mark.parametrize(
    "language, locale", [("en", "en"), ("tr", "tr"), ("ar", "ar"), (None, "en")]
)
def test_the_lead_page_has_a_whatsapp_link_in_the_leads_language(
    app, client, login_as, lead_factory, language, locale
):
    lead = lead_factory(full_name="Ayşe Yılmaz", phone="+905321112233", language=language)
    login_as("manager")  # an English-speaking user: the greeting follows the lead, not them
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    start = page.index('id="whatsapp-link" href="') + len('id="whatsapp-link" href="')
    link = page[start : page.index('"', start)]
    assert link.startswith("https://wa.me/905321112233?text=")
    text = unquote(link.split("text=", 1)[1])
    with app.test_request_context(), force_locale(locale):
        expected = gettext(GREETING, name="Ayşe", clinic="Istanbul Smile")
    assert text == expected
    if locale == "en":
        assert text.startswith("Hello Ayşe, this is Istanbul Smile.")


def test_whatsapp_link_keeps_digits_only_and_needs_a_number():
    assert interactions.whatsapp_link("+90 (532) 111-22-33", "Merhaba & hi") == (
        "https://wa.me/905321112233?text=Merhaba%20%26%20hi"
    )
    assert interactions.whatsapp_link(None, "hi") is None
    assert interactions.whatsapp_link("12", "hi") is None


def test_a_call_shows_its_outcome_and_duration(client, login_as, lead_factory, users, db_session):
    lead = lead_factory()
    leads.log_interaction(
        db_session,
        lead=lead,
        data=InteractionCreate(kind=Kind.CALL, outcome=Outcome.BUSY, duration_seconds=185),
        actor=users["manager"],
    )
    db_session.commit()
    login_as("manager")
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert '<span class="timeline-outcome">Busy</span>' in page
    assert ">3:05</span>" in page
