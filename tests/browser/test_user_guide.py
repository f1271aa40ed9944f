"""The user guide's tour in a real browser; with LEADHUB_SCREENSHOTS=1 it also saves the guide's
pictures into docs/images/ (`LEADHUB_SCREENSHOTS=1 .venv/bin/python -m pytest
tests/browser/test_user_guide.py`)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from leadhub.auth.models import User
from leadhub.leads.models import Status
from leadhub.scoring import service as scoring
from tests.browser.harness import Desk

pytestmark = pytest.mark.browser

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
PEOPLE = [
    ("Zeynep Kaya", "hair_transplant", Status.NEW, {"when_to_travel": "next_month"}),
    ("Oliver Hansen", "dental_implants", Status.ASSIGNED, {"when_to_travel": "this_month"}),
    ("Amira Haddad", "rhinoplasty", Status.CONTACTED, {}),
    ("Lukas Becker", "hair_transplant", Status.NEW, {"when_to_travel": "next_year"}),
    ("Sofia Rossi", "teeth_whitening", Status.CONVERTED, {"when_to_travel": "this_month"}),
]


def picture(desk: Desk, name: str) -> None:
    """Save the page for the user guide, only when asked (the PNGs are kept in the repository)."""
    if not os.environ.get("LEADHUB_SCREENSHOTS"):
        return
    IMAGES.mkdir(parents=True, exist_ok=True)
    desk.page.screenshot(path=str(IMAGES / name), full_page=False)


def test_the_guide_tour_desk_lead_scoring_analytics(
    desk: Desk,
    signed_in: Callable[[str], User],
    lead_factory: Callable[..., Any],
    users: Any,
    db_session: Any,
) -> None:
    for n, (name, treatment, status, answers) in enumerate(PEOPLE):
        lead = lead_factory(
            full_name=name,
            treatment=treatment,
            status=status,
            answers={"which_treatment": treatment, **answers},
            assignee_id=users["agent"].id if status is not Status.NEW else None,
            email=f"{name.split()[0].lower()}@example.com",
            phone=f"+9053211122{n:02d}",
        )
        scoring.score_lead(db_session, lead=lead)
    signed_in("admin")
    page = desk.page

    rows = page.locator("#lead-table tbody tr[data-lead-id]")
    expect(rows).to_have_count(len(PEOPLE))
    expect(page.get_by_role("heading", name="Leads")).to_be_visible()
    picture(desk, "lead-desk.png")

    page.locator("#lead-table").get_by_role("link", name="Zeynep Kaya").click()
    expect(page.get_by_role("heading", name="Zeynep Kaya")).to_be_visible()
    picture(desk, "lead-page.png")

    desk.goto("/scoring")
    expect(page.get_by_role("heading", name="Scoring", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Leads per level")).to_be_visible()
    picture(desk, "scoring.png")

    desk.goto("/analytics")
    expect(page.locator("#funnel-table tbody tr").first).to_be_visible()  # the numbers came
    page.wait_for_timeout(600)  # Chart.js animates the bars in
    picture(desk, "analytics.png")

    desk.goto("/settings/meta/")
    expect(page.get_by_role("heading", name="Meta Lead Ads")).to_be_visible()
    picture(desk, "meta-settings.png")
