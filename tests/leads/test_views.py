"""The lead desk pages: list, filters, lead page, quick actions."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from leadhub.interactions.models import Interaction, Kind
from leadhub.leads.models import Lead, Platform, Status
from tests.conftest import csrf_token, post_form


def _text(response):
    return response.get_data(as_text=True)


def test_the_desk_lists_leads_with_counts(client, login_as, lead_factory):
    lead_factory(full_name="Maria Jensen")
    lead_factory(full_name="Omar Haddad", status=Status.CONTACTED)
    login_as("manager")
    page = _text(client.get("/leads"))
    assert "Maria Jensen" in page and "Omar Haddad" in page
    assert re.search(r'data-count="total">2<', page)
    assert re.search(r'data-count="contacted">1<', page)


def test_filters_and_search_on_the_page(client, login_as, lead_factory):
    lead_factory(full_name="Maria Jensen", platform=Platform.INSTAGRAM, score=85)
    lead_factory(full_name="Omar Haddad", platform=Platform.FACEBOOK, score=20)
    login_as("admin")
    page = _text(client.get("/leads?platform=instagram&score_min=80"))
    assert "Maria Jensen" in page and "Omar Haddad" not in page
    page = _text(client.get("/leads?q=hadd"))
    assert "Omar Haddad" in page and "Maria Jensen" not in page


def test_bad_filters_show_a_notice_not_an_error_page(client, login_as, lead_factory):
    lead_factory(full_name="Maria Jensen")
    login_as("admin")
    response = client.get("/leads?score_min=lots&limit=7")
    assert response.status_code == 400
    page = _text(response)
    assert 'id="filter-notice"' in page and "score_min" in page
    assert "Maria Jensen" in page  # the list still works


def test_paging_by_cursor_on_the_page(client, login_as, lead_factory):
    for n in range(30):
        lead_factory(full_name=f"Person {n:02d}")
    login_as("admin")
    first = _text(client.get("/leads?limit=25"))
    next_link = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = _text(client.get(next_link))
    first_names = set(re.findall(r"Person \d\d", first))
    second_names = set(re.findall(r"Person \d\d", second))
    assert len(first_names) == 25 and len(second_names) == 5
    assert not first_names & second_names


def test_a_manager_of_another_distributor_gets_404(client, login_as, lead_factory):
    lead = lead_factory()
    login_as("manager_other")
    assert client.get(f"/leads/{lead.id}").status_code == 404
    assert lead.full_name not in _text(client.get("/leads"))


def test_the_lead_page_shows_everything(client, login_as, lead_factory):
    lead = lead_factory(
        full_name="Maria Jensen",
        answers={"best_time_to_call": "evenings"},
        campaign_name="Q1 Teeth Whitening Leads",
        ad_name="Carousel A",
    )
    login_as("agent")
    page = _text(client.get(f"/leads/{lead.id}"))
    for text in (
        "Maria Jensen",
        lead.phone,
        lead.email,
        "best_time_to_call",
        "evenings",
        "Q1 Teeth Whitening Leads",
        "Carousel A",
        "Timeline",
    ):
        assert text in page, text


def test_names_and_notes_are_escaped(client, login_as, lead_factory):
    lead = lead_factory(full_name="<script>alert(1)</script>")
    login_as("admin")
    client.post(
        f"/leads/{lead.id}/interactions",
        data={
            "kind": "note",
            "body": "<img src=x onerror=alert(2)>",
            "csrf_token": csrf_token(client),
        },
    )
    for url in ("/leads", f"/leads/{lead.id}"):
        page = _text(client.get(url))
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in _text(client.get(f"/leads/{lead.id}"))


def test_quick_actions_change_status_assign_tag_and_note(
    client, login_as, lead_factory, users, db_session
):
    lead = lead_factory()
    login_as("manager")
    url = f"/leads/{lead.id}"
    assert (
        post_form(client, f"{url}/assign", version=1, assignee_id=users["agent"].id).status_code
        == 302
    )
    current = db_session.get(Lead, lead.id)
    assert current.assignee_id == users["agent"].id and current.status is Status.ASSIGNED
    post_form(client, f"{url}/status", version=current.version, status="contacted")
    db_session.expire_all()
    current = db_session.get(Lead, lead.id)
    assert current.status is Status.CONTACTED
    post_form(client, f"{url}/tags", version=current.version, tags="VIP, Arabic speaker")
    db_session.expire_all()
    assert [t.name for t in db_session.get(Lead, lead.id).tags] == ["arabic speaker", "vip"]
    post_form(client, f"{url}/interactions", kind="call", outcome="no_answer", body="Voicemail")
    kinds = db_session.scalars(select(Interaction.kind).where(Interaction.lead_id == lead.id))
    assert Kind.CALL in set(kinds)
    page = _text(client.get(url))
    assert "Voicemail" in page and "vip" in page


def test_a_stale_form_says_so_and_changes_nothing(client, login_as, lead_factory, db_session):
    lead = lead_factory()
    login_as("manager")
    post_form(client, f"/leads/{lead.id}/status", version=lead.version + 5, status="contacted")
    page = _text(client.get(f"/leads/{lead.id}"))
    assert "changed since you read it" in page
    db_session.expire_all()
    assert db_session.get(Lead, lead.id).status is Status.NEW


def test_lost_without_a_reason_is_refused_on_the_page(client, login_as, lead_factory):
    lead = lead_factory()
    login_as("manager")
    post_form(client, f"/leads/{lead.id}/status", version=lead.version, status="lost")
    assert "Say why the lead was lost." in _text(client.get(f"/leads/{lead.id}"))


def test_admin_deletes_and_restores_from_the_deleted_view(client, login_as, lead_factory):
    lead = lead_factory(full_name="Gone Soon")
    login_as("admin")
    post_form(client, f"/leads/{lead.id}/delete")
    assert "Gone Soon" not in _text(client.get("/leads"))
    assert "Gone Soon" in _text(client.get("/leads?deleted=true"))
    assert "This lead is deleted" in _text(client.get(f"/leads/{lead.id}"))
    post_form(client, f"/leads/{lead.id}/restore")
    assert "Gone Soon" in _text(client.get("/leads"))


@pytest.mark.parametrize("role", ["manager", "agent", "viewer"])
def test_only_admins_delete_or_see_deleted(client, login_as, lead_factory, role):
    lead = lead_factory()
    login_as(role)
    assert post_form(client, f"/leads/{lead.id}/delete").status_code == 403
    assert client.get("/leads?deleted=true").status_code == 400


def test_a_viewer_reads_but_sees_no_actions(client, login_as, lead_factory):
    lead = lead_factory()
    login_as("viewer")
    page = _text(client.get(f"/leads/{lead.id}"))
    assert "Quick actions" not in page
    assert (
        post_form(client, f"/leads/{lead.id}/status", version=1, status="contacted").status_code
        == 403
    )


def test_an_agent_takes_an_unassigned_lead(client, login_as, lead_factory, users, db_session):
    lead = lead_factory()
    agent = login_as("agent")
    assert "Take this lead" in _text(client.get(f"/leads/{lead.id}"))
    post_form(client, f"/leads/{lead.id}/assign", version=lead.version, assignee_id=agent.id)
    db_session.expire_all()
    assert db_session.get(Lead, lead.id).assignee_id == agent.id


def test_enter_a_lead_by_hand(client, login_as, distributor, db_session):
    login_as("agent")
    response = post_form(
        client, "/leads/new", full_name="Walk In", phone="0532 999 88 77", treatment="veneers"
    )
    assert response.status_code == 302
    lead = db_session.scalars(select(Lead).where(Lead.full_name == "Walk In")).one()
    assert lead.phone == "+905329998877" and lead.assignee_id is not None
    bad = post_form(client, "/leads/new", full_name="No Way To Reach")
    assert bad.status_code == 400
    assert "give a phone number or an email address" in _text(bad)


def test_unknown_lead_is_a_friendly_404(client, login_as):
    login_as("admin")
    response = client.get("/leads/987654")
    assert response.status_code == 404
    assert "Reference" in _text(response) and "Traceback" not in _text(response)


def test_the_lead_page_shows_intake_warnings_and_both_sides_of_a_duplicate(
    client, login_as, lead_factory
):
    first = lead_factory(full_name="Ayşe", phone="+905321110000")
    again = lead_factory(
        full_name="Ayşe",
        phone="+905321110000",
        duplicate_of_id=first.id,
        intake_warnings={"email": "ayse at mail"},
    )
    login_as("admin")
    page = _text(client.get(f"/leads/{first.id}"))
    assert 'id="later-duplicates"' in page and f"#{again.id}" in page
    page = _text(client.get(f"/leads/{again.id}"))
    assert f"Duplicate of #{first.id}" in page and "ayse at mail" in page
