"""The Assignment settings page: who may open it, saving, validation, CSRF, languages."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from leadhub.assignment.models import AgentSkill, AssignmentRule, Strategy
from leadhub.audit.models import AuditEvent
from leadhub.db import db
from tests.conftest import post_form


def page_url(distributor) -> str:  # noqa: ANN001
    return f"/settings/assignment/{distributor.id}"


def rule_of(distributor) -> AssignmentRule | None:  # noqa: ANN001
    return db.session.scalar(
        select(AssignmentRule).where(AssignmentRule.distributor_id == distributor.id)
    )


@pytest.mark.parametrize(
    "role, status",
    [
        ("superadmin", 200),
        ("admin", 200),
        ("manager", 200),
        ("manager_other", 404),
        ("agent", 403),
        ("viewer", 403),
    ],
)
def test_who_may_open_the_page(client, login_as, distributor, role, status):
    login_as(role)
    assert client.get(page_url(distributor)).status_code == status


def test_admins_reach_it_from_the_menu_and_choose_a_distributor(
    client, login_as, distributor, other_distributor
):
    login_as("admin")
    menu = client.get("/leads").get_data(as_text=True)
    assert 'href="/settings/assignment/"' in menu
    chooser = client.get("/settings/assignment/").get_data(as_text=True)
    assert page_url(distributor) in chooser and page_url(other_distributor) in chooser


def test_a_manager_goes_straight_to_their_distributor(client, login_as, distributor):
    login_as("manager")
    response = client.get("/settings/assignment/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(page_url(distributor))


def test_agents_do_not_see_the_menu_item(client, login_as):
    login_as("agent")
    assert "/settings/assignment/" not in client.get("/leads").get_data(as_text=True)


def test_saving_the_form_sets_the_rule_and_the_skills(client, login_as, distributor, agents):
    login_as("manager")
    page = client.get(page_url(distributor)).get_data(as_text=True)
    assert f"languages_{agents[1].id}" in page
    response = client.post(
        page_url(distributor),
        data={
            "csrf_token": _token(page),
            "strategy": "least_open",
            "match_language": "on",
            "no_match": "fallback",
            "hours_enabled": "on",
            "timezone": "Asia/Dubai",
            "work_days": ["0", "1", "2", "3", "6"],
            "start": "08:30",
            "end": "17:00",
            "fallback_user_id": str(agents[0].id),
            f"languages_{agents[1].id}": "ar, EN",
            f"treatments_{agents[1].id}": ["veneers", "rhinoplasty"],
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    rule = rule_of(distributor)
    assert rule.strategy is Strategy.LEAST_OPEN and rule.match_language
    assert not rule.match_treatment
    assert rule.timezone == "Asia/Dubai" and rule.start_minute == 8 * 60 + 30
    assert [d for d in range(7) if rule.works_on(d)] == [0, 1, 2, 3, 6]
    assert rule.fallback_user_id == agents[0].id
    skills = db.session.scalars(select(AgentSkill).where(AgentSkill.user_id == agents[1].id))
    assert {(s.kind.value, s.value) for s in skills} == {
        ("language", "ar"),
        ("language", "en"),
        ("treatment", "rhinoplasty"),
        ("treatment", "veneers"),
    }
    again = client.get(page_url(distributor)).get_data(as_text=True)
    assert "Assignment rules saved." in again
    assert 'value="ar, en"' in again
    audit_event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "assignment_rule.update")
    )
    assert audit_event.after["strategy"] == "least_open"


def test_a_mistake_is_explained_and_what_was_typed_stays(client, login_as, distributor, agents):
    login_as("admin")
    response = post_form(
        client,
        page_url(distributor),
        strategy="round_robin",
        hours_enabled="on",
        timezone="Atlantis/Capital",
        start="18:00",
        end="09:00",
        **{f"languages_{agents[0].id}": "tr"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Please correct the form." in page
    assert "timezone" in page
    assert 'value="Atlantis/Capital"' in page
    assert rule_of(distributor) is None  # nothing saved


def test_a_form_without_the_csrf_token_is_refused(client, login_as, distributor):
    login_as("admin")
    response = client.post(page_url(distributor), data={"strategy": "round_robin"})
    assert response.status_code == 400
    assert rule_of(distributor) is None


def test_output_is_escaped(client, login_as, distributor, agents):
    agents[1].name = "<script>alert(1)</script>"
    db.session.commit()
    login_as("admin")
    page = client.get(page_url(distributor)).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize(
    "language, word, direction",
    [
        ("tr", 'lang="tr"', "ltr"),
        ("ar", 'lang="ar"', "rtl"),
        ("en", 'lang="en"', "ltr"),
    ],
)
def test_the_page_in_three_languages(
    client, login_as, users, distributor, language, word, direction
):
    users["admin"].language = language
    db.session.commit()
    login_as("admin")
    page = client.get(page_url(distributor)).get_data(as_text=True)
    assert word in page and f'dir="{direction}"' in page


def test_the_timeline_shows_the_rule_that_assigned_a_lead(
    client, login_as, distributor, agents, set_rules, new_lead
):
    set_rules(strategy="round_robin")
    lead = new_lead()
    login_as("admin")
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert "Automatic assignment" in page
    assert "Round robin" in page and "among all active agents" in page


def _token(page: str) -> str:
    import re

    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_a_lead_added_on_the_new_lead_page_is_assigned_by_the_rule(
    client, login_as, distributor, agents, set_rules
):
    set_rules(
        strategy="round_robin",
        match_language=True,
        agents=[{"user_id": agents[3].id, "languages": ["ar"]}],
    )
    login_as("manager")
    response = post_form(
        client, "/leads/new", full_name="Samir Aziz", phone="+971501112233", language="ar"
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Automatic assignment" in page and agents[3].name in page
    assert "speaks the lead&#39;s language" in page
