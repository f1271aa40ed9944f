"""The scoring pages: the dashboard, the rule-set page, "why this score", the desk's lists."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from leadhub.audit.models import AuditEvent
from leadhub.db import db, utcnow
from leadhub.intake import service as intake
from leadhub.interactions.models import Kind
from leadhub.leads.models import Lead, Status
from leadhub.leads.schemas import LeadCreate
from leadhub.scoring import service
from leadhub.scoring.defaults import DEFAULT_RULE_SET
from leadhub.scoring.models import RunStatus
from leadhub.scoring.schemas import RuleSetInput
from tests.conftest import csrf_token
from tests.factories import InteractionFactory


def _text(response) -> str:  # noqa: ANN001
    return response.get_data(as_text=True)


def rules_form(**changes: str) -> dict[str, str]:
    form = {f"weight_{f}": str(w) for f, w in DEFAULT_RULE_SET["weights"].items()}
    form |= {f"value_{t}": str(v) for t, v in DEFAULT_RULE_SET["treatment_values"].items()}
    for treatment, (low, high) in DEFAULT_RULE_SET["age_ranges"].items():
        form |= {f"age_min_{treatment}": str(low), f"age_max_{treatment}": str(high)}
    form |= {f"threshold_{n}": str(t) for n, t in DEFAULT_RULE_SET["level_thresholds"].items()}
    form["abandoned_hours"] = str(DEFAULT_RULE_SET["abandoned_hours"])
    return form | changes


def level_count(page: str, level: str) -> int:
    found = re.search(rf'data-level="{level}">.*?<span data-count>(\d+)</span>', page)
    assert found, level
    return int(found.group(1))


def recommendation_count(page: str, name: str) -> str:
    found = re.search(
        rf'data-recommendation="{name}".*?<span data-count>(\d+)</span><span data-capped>(\+?)',
        page,
        re.S,
    )
    assert found, name
    return found.group(1) + found.group(2)


# -- the dashboard --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["superadmin", "admin", "manager", "agent", "viewer"])
def test_every_role_opens_the_dashboard_from_the_menu(client, login_as, role):
    login_as(role)
    page = _text(client.get("/leads"))
    assert 'href="/scoring"' in page
    response = client.get("/scoring")
    assert response.status_code == 200
    page = _text(response)
    assert 'id="level-chart"' in page and 'id="methodology"' in page
    assert ("/scoring/rules" in page) is (role == "superadmin")


def test_a_manager_sees_only_their_distributors_numbers(
    client, login_as, lead_factory, other_distributor
):
    lead_factory(score=90, full_name="Ours Hot")
    lead_factory(score=65, full_name="Ours Warm")
    lead_factory(score=95, full_name="Theirs Hot", distributor_id=other_distributor.id)
    lead_factory(score=96, full_name="Theirs Too", distributor_id=other_distributor.id)
    login_as("manager")
    page = _text(client.get("/scoring"))
    assert level_count(page, "hot") == 1 and level_count(page, "warm") == 1
    assert recommendation_count(page, "high_unassigned") == "2"
    assert "Ours Hot" in page and "Theirs Hot" not in page
    login_as("admin")
    page = _text(client.get("/scoring"))
    assert level_count(page, "hot") == 3
    assert recommendation_count(page, "high_unassigned") == "4"


def test_the_dashboard_lists_the_best_open_leads_and_links_to_the_desk(
    client, login_as, lead_factory
):
    lead_factory(score=88, full_name="Best One")
    lead_factory(score=99, full_name="Already Won", status=Status.CONVERTED)
    login_as("admin")
    page = _text(client.get("/scoring"))
    top = page[page.index('id="top-leads"') :]
    assert "Best One" in top and "Already Won" not in top
    for name in ("high_unassigned", "abandoned", "low_busy"):
        assert f'href="/leads?recommendation={name}&amp;sort=score"' in page


def test_the_dashboard_runs_no_inline_script(client, login_as):
    login_as("agent")
    response = client.get("/scoring")
    page = _text(response)
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert scripts and all(
        "src=" in attributes and not body.strip() for attributes, body in scripts
    )
    assert "/static/js/scoring.js" in page and "/static/vendor/chart.umd.js" in page
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert 'data-summary-url="/api/v1/scoring/summary"' in page


def test_the_methodology_shows_the_rules_in_force(client, login_as, db_session, users):
    weights = {"contact": 20, "freshness": 30, "service": 25, "engagement": 15, "age_fit": 10}
    data = RuleSetInput(**{**DEFAULT_RULE_SET, "weights": weights})
    service.change_rules(db_session, data=data, actor=users["superadmin"])
    db_session.commit()
    login_as("viewer")
    page = _text(client.get("/scoring"))
    assert "Contact information (20)" in page and "Freshness (30)" in page
    assert "Rule set version 2" in page
    assert "while younger than 1 hour" in page


# -- the desk's recommended lists -----------------------------------------------------------------


def test_the_desk_opens_each_recommended_list(client, login_as, users, lead_factory):
    agent = users["agent"]
    lead_factory(full_name="Hot Nobody", score=90)
    quiet = lead_factory(
        full_name="Quiet Taken",
        assignee_id=agent.id,
        status=Status.ASSIGNED,
        received_at=utcnow() - timedelta(days=4),
    )
    busy = lead_factory(full_name="Busy Cold", score=10, status=Status.CONTACTED)
    for days in range(3):
        InteractionFactory(
            lead_id=busy.id, kind=Kind.CALL, occurred_at=utcnow() - timedelta(days=days)
        )
    assert quiet.id
    login_as("manager")
    for name, expected in (
        ("high_unassigned", "Hot Nobody"),
        ("abandoned", "Quiet Taken"),
        ("low_busy", "Busy Cold"),
    ):
        page = _text(client.get(f"/leads?recommendation={name}"))
        names = set(re.findall(r"(Hot Nobody|Quiet Taken|Busy Cold)", page))
        assert names == {expected}, name
    response = client.get("/leads?recommendation=lucky")
    assert response.status_code == 400 and "recommendation" in _text(response)


def test_a_recommended_list_keeps_its_filter_across_pages(client, login_as, lead_factory):
    for n in range(30):
        lead_factory(full_name=f"Hot {n:02d}", score=90)
    lead_factory(full_name="Lukewarm", score=10)
    login_as("admin")
    first = _text(client.get("/leads?recommendation=high_unassigned&limit=25"))
    next_link = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "recommendation=high_unassigned" in next_link
    second = _text(client.get(next_link))
    assert len(set(re.findall(r"Hot \d\d", first + second))) == 30
    assert "Lukewarm" not in first + second


# -- "why this score" on a lead's page ------------------------------------------------------------


def test_the_lead_page_says_why(client, login_as, db_session, users):
    data = LeadCreate(
        full_name="Ayşe Yılmaz",
        phone="0532 123 45 67",
        treatment="rhinoplasty",
        answers={"age": "52"},
    )
    lead = intake.create_manual(db_session, data=data, actor=users["manager"])
    db_session.commit()
    login_as("agent")
    page = _text(client.get(f"/leads/{lead.id}"))
    why = page[
        page.index('id="score-why"') : page.index("</section>", page.index('id="score-why"'))
    ]
    for text in (
        "Why this score",
        "valid phone, no valid email, full name",
        "Less than 1 hour old when scored",
        "Rhinoplasty: worth 85 of 100",
        "No answered call, reply or meeting yet",
        "Age 52 is outside the target 18–45",
        "Scored with rule set version 1",
    ):
        assert text in why, text
    points = [int(p) for p in re.findall(r"<strong>(\d+)</strong>&thinsp;/&thinsp;\d+", why)]
    assert sum(points[:-1]) == points[-1] == lead.score


def test_reasons_are_escaped(client, login_as, db_session, users):
    data = LeadCreate(full_name="X Y", phone="0532 123 45 67", treatment="<b>laser</b>")
    lead = intake.create_manual(db_session, data=data, actor=users["manager"])
    db_session.commit()
    login_as("admin")
    page = _text(client.get(f"/leads/{lead.id}"))
    assert "&lt;b&gt;laser&lt;/b&gt; is not in the table" in page
    assert "<b>laser</b>" not in page


def test_an_unscored_lead_says_so(client, login_as, lead_factory):
    lead = lead_factory(score_version=None)
    login_as("admin")
    assert "This lead has not been scored yet." in _text(client.get(f"/leads/{lead.id}"))


def test_the_page_is_in_the_readers_language(client, login_as, db_session, users, lead_factory):
    lead = lead_factory(score_version=None)
    service.score_lead(db_session, lead=lead)
    users["agent"].language = "tr"
    db_session.commit()
    login_as("agent")
    response = client.get(f"/leads/{lead.id}")
    assert response.status_code == 200
    assert '<html lang="tr"' in _text(response) and 'id="score-why"' in _text(response)


# -- the rule-set page ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "manager", "agent", "viewer"])
def test_only_a_superadmin_opens_or_saves_the_rules(client, login_as, role):
    login_as(role)
    assert client.get("/scoring/rules").status_code == 403
    assert client.get("/scoring/rules/1").status_code == 403
    token = csrf_token(client)
    response = client.post("/scoring/rules", data=rules_form(csrf_token=token))
    assert response.status_code == 403
    assert service.active_rules(db.session).version == 1


def test_a_superadmin_saves_rules_and_every_lead_is_rescored(client, login_as, lead_factory):
    leads = [lead_factory(score=50, score_version=1) for _ in range(3)]
    login_as("superadmin")
    page = _text(client.get("/scoring/rules"))
    assert 'name="weight_contact" value="30"' in page
    form = rules_form(weight_contact="20", weight_freshness="30", csrf_token=csrf_token(client))
    response = client.post("/scoring/rules", data=form)
    assert response.status_code == 302 and response.headers["Location"].endswith("/scoring/rules")
    page = _text(client.get("/scoring/rules"))
    assert "Version 2 is in force; every lead is being rescored." in page
    run = service.latest_run(db.session)
    assert run.status is RunStatus.DONE and run.done == 3
    assert f'data-run-url="/api/v1/scoring/runs/{run.id}"' in page and 'value="100"' in page
    assert 'name="weight_contact" value="20"' in page
    for lead in leads:
        stored = db.session.get(Lead, lead.id)
        db.session.refresh(stored)
        assert stored.score_version == 2 and stored.score_breakdown["contact"]["max"] == 20
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "scoring.rule_set")
    ).one()
    assert event.after["weights"]["contact"] == 20


def test_rules_that_do_not_add_up_are_shown_again_with_the_problem(client, login_as):
    login_as("superadmin")
    form = rules_form(weight_contact="31", threshold_warm="85", csrf_token=csrf_token(client))
    response = client.post("/scoring/rules", data=form)
    assert response.status_code == 400
    page = _text(response)
    assert "the weights must add up to 100 (they add up to 101)" in page
    assert "hot &gt; warm &gt; medium &gt; cool" in page
    assert 'name="weight_contact" value="31"' in page  # what was typed is kept
    assert service.active_rules(db.session).version == 1


def test_an_age_range_needs_both_ends(client, login_as):
    login_as("superadmin")
    form = rules_form(age_max_veneers="", csrf_token=csrf_token(client))
    response = client.post("/scoring/rules", data=form)
    assert response.status_code == 400 and "age_ranges.veneers" in _text(response)


def test_leaving_a_treatments_ages_empty_removes_its_range(client, login_as):
    login_as("superadmin")
    form = rules_form(age_min_veneers="", age_max_veneers="", csrf_token=csrf_token(client))
    assert client.post("/scoring/rules", data=form).status_code == 302
    assert "veneers" not in service.active_rule_set(db.session).age_ranges


def test_the_rules_form_needs_its_csrf_token(client, login_as):
    login_as("superadmin")
    assert client.post("/scoring/rules", data=rules_form()).status_code == 400


def test_old_versions_stay_readable(client, login_as):
    login_as("superadmin")
    form = rules_form(weight_contact="20", weight_freshness="30", csrf_token=csrf_token(client))
    client.post("/scoring/rules", data=form)
    page = _text(client.get("/scoring/rules"))
    assert 'href="/scoring/rules/1"' in page and 'href="/scoring/rules/2"' in page
    old = _text(client.get("/scoring/rules/1"))
    assert "old version" in old and "Scoring rules, version 1" in old
    weights = old[
        old.index('id="rule-weights"') : old.index("</table>", old.index('id="rule-weights"'))
    ]
    assert re.search(r"Contact information</th><td class=\"text-end\">30<", weights)
    assert client.get("/scoring/rules/9").status_code == 404
