"""The analytics page in a real browser: change the period, charts and tables fill, numbers link
to the desk's matching leads."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from leadhub.auth.models import User
from leadhub.db import utcnow
from leadhub.leads.models import Status
from tests.browser.harness import Desk

pytestmark = pytest.mark.browser


def _count(desk: Desk, stage: str) -> Any:
    return desk.page.locator(f'#funnel-table tr[data-stage="{stage}"] td').nth(1)


def test_change_the_period_and_follow_a_number_to_the_desk(
    desk: Desk,
    signed_in: Callable[[str], User],
    lead_factory: Callable[..., Any],
    users: dict[str, User],
) -> None:
    now = utcnow()
    agent = users["agent"]
    lead_factory(
        full_name="Selin Converted",
        created_time=now - timedelta(hours=3),
        assignee_id=agent.id,
        status=Status.CONVERTED,
        first_contacted_at=now - timedelta(hours=2, minutes=50),
        converted_at=now - timedelta(hours=1),
    )
    lead_factory(full_name="Kerem New", created_time=now - timedelta(hours=2))
    lead_factory(full_name="Older Lead", created_time=now - timedelta(days=20))
    signed_in("admin")
    page = desk.page
    desk.goto("/analytics?period=7d")

    root = page.locator("#analytics")
    expect(root).to_have_attribute("data-loaded", "true")
    expect(_count(desk, "new")).to_have_text("2")
    expect(_count(desk, "converted")).to_have_text("1")
    assert page.evaluate("() => Boolean(window.Chart.getChart('funnel-chart'))")
    assert page.evaluate("() => Boolean(window.Chart.getChart('trends-chart'))")
    expect(page.locator("#staff-table tbody tr")).to_have_count(1)
    expect(page.locator("#staff-table tbody tr td").first).to_have_text(agent.name)

    page.locator("#analytics-filters").get_by_label("Period").select_option("30d")
    expect(page).to_have_url(re.compile(r"period=30d"))
    expect(root).to_have_attribute("data-loaded", "true")
    expect(_count(desk, "new")).to_have_text("3")

    _count(desk, "converted").get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/leads\?.*reached=converted"))
    rows = page.locator("#lead-table tbody tr[data-lead-id]")
    expect(rows).to_have_count(1)
    expect(page.get_by_role("link", name="Selin Converted")).to_be_visible()
    assert desk.console_errors == [] and desk.page_errors == []
