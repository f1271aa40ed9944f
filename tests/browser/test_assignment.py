"""Assignment rules in a real browser: set round robin, create leads by API, see them assigned."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from leadhub.auth import service as accounts
from leadhub.auth.models import Role, User
from leadhub.db import db
from tests.browser.harness import Desk
from tests.factories import UserFactory

pytestmark = pytest.mark.browser


def test_set_round_robin_and_see_new_leads_assigned_on_the_desk(
    desk: Desk,
    signed_in: Callable[[str], User],
    users: dict[str, User],
    distributor: Any,
) -> None:
    second = UserFactory(role=Role.AGENT, distributor=distributor, name="Burak Agent")
    admin = signed_in("admin")
    page = desk.page

    page.get_by_role("link", name="Assignment").click()
    page.get_by_role("link", name=distributor.name).click()
    expect(page.locator("h1")).to_contain_text(distributor.name)
    form = page.locator("#assignment-form")
    form.get_by_label("Who gets a new lead").select_option("round_robin")
    form.get_by_label(f"Languages spoken by {second.name}").fill("ar, en")
    form.get_by_role("button", name="Save").click()
    expect(page.locator(".alert-success")).to_contain_text("Assignment rules saved.")
    expect(form.get_by_label("Who gets a new lead")).to_have_value("round_robin")
    expect(form.get_by_label(f"Languages spoken by {second.name}")).to_have_value("ar, en")

    # a mistake is explained on the page and nothing is lost
    form.get_by_label("Assign automatically only during working hours").check()
    form.get_by_label("Time zone").fill("Nowhere/Land")
    form.get_by_role("button", name="Save").click()
    expect(page.locator(".alert-danger").first).to_contain_text("Please correct the form.")
    expect(form.get_by_label("Time zone")).to_have_value("Nowhere/Land")

    key = accounts.create_api_key(db.session, user=admin, name="browser", actor=None)
    db.session.commit()
    for n in range(4):
        response = page.request.post(
            desk.url("/api/v1/leads"),
            headers={"Authorization": f"Bearer {key}"},
            data={
                "distributor_id": distributor.id,
                "full_name": f"Round Robin {n}",
                "phone": f"+90532{4440000 + n:07d}",
            },
        )
        assert response.status == 201, response.text()

    desk.goto("/leads")
    for n in range(4):
        row = page.locator("#lead-table tbody tr", has_text=f"Round Robin {n}")
        expect(row).to_have_count(1)
    agent_rows = page.locator("#lead-table tbody tr", has_text=users["agent"].name)
    burak_rows = page.locator("#lead-table tbody tr", has_text=second.name)
    expect(agent_rows).to_have_count(2)
    expect(burak_rows).to_have_count(2)

    page.get_by_role("link", name="Round Robin 0").click()
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Automatic assignment")
    expect(timeline).to_contain_text("Round robin")


def test_the_page_reads_right_to_left_in_arabic(
    desk: Desk,
    signed_in: Callable[[str], User],
    users: dict[str, User],
    distributor: Any,
) -> None:
    users["manager"].language = "ar"
    signed_in("manager")
    page = desk.page
    desk.goto("/settings/assignment/")  # a manager lands on their own distributor
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("h1")).to_contain_text(distributor.name)
    expect(page.locator("#assignment-agents")).to_contain_text(users["agent"].name)
    desk.screenshot("assignment-ar.png")
