"""Live updates in a real browser: a lead made through the API appears on an open desk."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from leadhub.auth.models import Role
from tests.browser.harness import Desk
from tests.factories import DistributorFactory, LeadFactory, UserFactory
from tests.realtime.conftest import (  # noqa: F401 - fixtures: a threaded server, its database
    WAIT,
    Live,
    live,
)

pytestmark = pytest.mark.browser


def _connected(desk: Desk) -> None:
    expect(desk.page.locator("html")).to_have_attribute("data-realtime", "connected")


def test_a_lead_created_through_the_api_appears_on_an_open_desk(
    live: Live,  # noqa: F811
    live_desk: Desk,
) -> None:
    distributor = DistributorFactory(name="Live Desk Agency")
    manager = UserFactory(role=Role.MANAGER, distributor=distributor, name="Derya Desk")
    key = live.api_key(manager)
    live_desk.sign_in(manager)
    page = live_desk.page
    rows = page.locator("#lead-table tbody tr[data-lead-id]")
    expect(rows).to_have_count(0)
    _connected(live_desk)

    for name in ("Canan Live", "Kerem Live"):
        response = httpx.post(
            f"{live.url}/api/v1/leads",
            json={"full_name": name, "phone": "+905321110000"},
            headers={"Authorization": f"Bearer {key}"},
            timeout=WAIT,
        )
        assert response.status_code == 201, response.text

    counter = page.locator("#new-leads button")
    expect(counter).to_have_text("2 new leads")
    expect(page.locator('.status-counts [data-count="new"]')).to_have_text("2")
    expect(rows).to_have_count(0)  # nothing moves under the reader's eyes until they ask
    counter.click()
    expect(rows).to_have_count(2)
    expect(page.locator("#lead-table tbody tr.table-info")).to_have_count(2)
    expect(page.locator("#lead-table").get_by_role("link", name="Canan Live")).to_be_visible()
    expect(page.locator("#new-leads")).to_be_hidden()

    # A second arrival after the first refresh: the rows shown now are the refreshed ones, and a
    # tag on the new row gets its colour like the rows the page was served with.
    response = httpx.post(
        f"{live.url}/api/v1/leads",
        json={"full_name": "Selin Live", "phone": "+905321110001", "tags": ["vip"]},
        headers={"Authorization": f"Bearer {key}"},
        timeout=WAIT,
    )
    assert response.status_code == 201, response.text
    expect(counter).to_have_text("1 new lead")
    counter.click()
    expect(rows).to_have_count(3)
    badge = page.locator("#lead-table tbody tr").first.locator("[data-tag-color]")
    expect(badge).to_have_text("vip")
    expect(badge).to_have_attribute("style", re.compile("background-color"))
    live_desk.screenshot("realtime-desk.png")


def test_the_lead_page_shows_who_else_is_viewing_and_warns_before_a_conflicting_save(
    live: Live,  # noqa: F811
    live_desk: Desk,
) -> None:
    distributor = DistributorFactory(name="Live Lead Agency")
    manager = UserFactory(role=Role.MANAGER, distributor=distributor, name="Derya Desk")
    admin = UserFactory(role=Role.ADMIN, name="Ali Admin")
    lead = LeadFactory(distributor_id=distributor.id, full_name="Nur Presence")
    live_desk.sign_in(manager)
    live_desk.goto(f"/leads/{lead.id}")
    page = live_desk.page
    _connected(live_desk)

    admin_key = live.api_key(admin)
    other = live.listener().connect(token=admin_key)
    other.emit("join_lead", {"lead_id": lead.id})
    expect(page.locator("#lead-presence")).to_contain_text("Ali Admin")

    response = httpx.patch(
        f"{live.url}/api/v1/leads/{lead.id}",
        json={"version": lead.version, "status": "contacted"},
        headers={"Authorization": f"Bearer {admin_key}"},
        timeout=WAIT,
    )
    assert response.status_code == 200, response.text
    notice = page.locator("#lead-changed")
    expect(notice).to_contain_text("Ali Admin changed this lead.")

    page.locator("#status-form button[type=submit]").click()
    expect(notice).to_contain_text("This lead changed since you opened it")
    expect(page).to_have_url(live.url + f"/leads/{lead.id}")  # the stale save was not sent

    other.close()
    expect(page.locator("#lead-presence")).to_be_hidden()


def test_the_scoring_dashboard_refreshes_when_a_lead_arrives(
    live: Live,  # noqa: F811
    live_desk: Desk,
) -> None:
    """No 30-second wait: the counts in scope changed, so the dashboard refetches at once."""
    distributor = DistributorFactory(name="Live Scoring Agency")
    manager = UserFactory(role=Role.MANAGER, distributor=distributor, name="Selin Score")
    key = live.api_key(manager)
    live_desk.sign_in(manager)
    live_desk.goto("/scoring")
    page = live_desk.page
    _connected(live_desk)
    counts = page.locator("#level-counts [data-count]")
    expect(counts).to_have_count(5)
    assert sum(int(text) for text in counts.all_inner_texts()) == 0

    response = httpx.post(
        f"{live.url}/api/v1/leads",
        json={"full_name": "Nur Canlı", "phone": "+905321112233", "email": "nur@example.com"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=WAIT,
    )
    assert response.status_code == 201, response.text
    level = response.json()["score_level"]
    expect(page.locator(f'#level-counts [data-level="{level}"] [data-count]')).to_have_text("1")


def test_a_lead_given_to_another_agent_leaves_the_desk_and_its_page_says_so(
    live: Live,  # noqa: F811
    live_desk: Desk,
) -> None:
    distributor = DistributorFactory(name="Live Handover Agency")
    agent = UserFactory(role=Role.AGENT, distributor=distributor, name="Ayse Agent")
    colleague = UserFactory(role=Role.AGENT, distributor=distributor, name="Aylin Agent")
    manager = UserFactory(role=Role.MANAGER, distributor=distributor, name="Mert Manager")
    kept = LeadFactory(distributor_id=distributor.id, assignee_id=agent.id, full_name="Kept Lead")
    moved = LeadFactory(distributor_id=distributor.id, assignee_id=agent.id, full_name="Gone Lead")
    key = live.api_key(manager)
    live_desk.sign_in(agent)
    page = live_desk.page
    rows = page.locator("#lead-table tbody tr[data-lead-id]")
    expect(rows).to_have_count(2)
    _connected(live_desk)

    def give_to_colleague(lead_id: int) -> None:
        version = httpx.get(
            f"{live.url}/api/v1/leads/{lead_id}", headers={"Authorization": f"Bearer {key}"}
        ).json()["version"]
        response = httpx.patch(
            f"{live.url}/api/v1/leads/{lead_id}",
            json={"version": version, "assignee_id": colleague.id},
            headers={"Authorization": f"Bearer {key}"},
            timeout=WAIT,
        )
        assert response.status_code == 200, response.text

    give_to_colleague(moved.id)
    expect(rows).to_have_count(1)
    expect(page.locator(f'#lead-table tr[data-lead-id="{kept.id}"]')).to_be_visible()

    live_desk.goto(f"/leads/{kept.id}")
    _connected(live_desk)
    give_to_colleague(kept.id)
    expect(page.locator("#lead-changed")).to_contain_text("This lead is no longer yours to see")
