"""Patients' data in a real browser: find a person, download their file, request and approve
an erasure (two people), and see the lead anonymised."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from leadhub.auth.models import User
from tests.browser.harness import Desk

pytestmark = pytest.mark.browser

NAME = "Zeynep Kılıçaslan"
PHONE = "+905321234567"


def test_find_a_person_download_then_request_and_approve_erasure(
    desk: Desk,
    signed_in: Callable[[str], User],
    lead_factory: Callable[..., Any],
    other_distributor: Any,
    tmp_path: Path,
) -> None:
    lead = lead_factory(
        full_name=NAME,
        phone=PHONE,
        email="zeynep.k@example.org",
        answers={"medical_history": "Type 2 diabetes"},
    )
    lead_factory(
        full_name="Omar Haddad", phone="+971501112233", distributor_id=other_distributor.id
    )
    signed_in("admin")
    page = desk.page

    page.get_by_role("link", name="Patients' data").click()
    expect(page.locator("main h1")).to_have_text("Patients' data")
    search = page.locator("#person-search")
    search.get_by_label("Phone").fill("0532 123 45 67")  # as the person says it: normalised
    search.get_by_role("button", name="Find").click()
    rows = page.locator("#person-leads tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(NAME)
    expect(page.locator("#person-leads")).not_to_contain_text("Omar Haddad")

    with page.expect_download() as download_info:
        page.locator("#download-json").click()
    saved = tmp_path / "person.json"
    download_info.value.save_as(saved)
    data = json.loads(saved.read_text())
    assert [item["id"] for item in data["leads"]] == [lead.id]
    assert data["leads"][0]["answers"] == {"medical_history": "Type 2 diabetes"}

    erasure = page.locator("#erasure-form")
    erasure.get_by_label("Why").fill("Asked by email, ticket 4411")
    erasure.get_by_role("button", name="Request erasure").click()
    expect(page.locator(".alert-success")).to_contain_text("a superadmin must approve it")
    pending = page.locator("#erasure-requests tbody tr[data-status='pending']")
    expect(pending).to_have_count(1)
    expect(pending.get_by_role("button", name="Approve and erase")).to_have_count(0)

    desk.sign_out()
    signed_in("superadmin")
    desk.goto("/settings/privacy")
    pending = page.locator("#erasure-requests tbody tr[data-status='pending']")
    expect(pending).to_contain_text("Asked by email, ticket 4411")
    page.evaluate("window.confirm = () => true")  # the irreversible step asks first
    pending.get_by_role("button", name="Approve and erase").click()
    expect(page.locator(".alert-success")).to_contain_text("Erased.")
    expect(page.locator("#erasure-requests tbody tr[data-status='done']")).to_have_count(1)

    desk.goto(f"/leads/{lead.id}")
    expect(page.locator("#lead-anonymised")).to_be_visible()
    expect(page.locator("#lead-name")).to_have_text("(no name)")
    expect(page.locator("main")).not_to_contain_text(NAME)
    expect(page.locator("main")).not_to_contain_text("Type 2 diabetes")


def test_consent_and_access_panels_on_a_lead_page(
    desk: Desk, signed_in: Callable[[str], User], lead_factory: Callable[..., Any]
) -> None:
    lead = lead_factory(
        consent={"kvkk_consent": True},
        privacy_policy_url="https://clinic.example.com/privacy",
    )
    signed_in("admin")
    page = desk.page
    desk.goto(f"/leads/{lead.id}")
    expect(page.locator("#consent-warning")).to_contain_text("phone, WhatsApp, email")
    expect(page.locator("#privacy-policy-url")).to_have_text("https://clinic.example.com/privacy")
    page.get_by_text("Record consent").click()
    form = page.locator("#consent-form")
    form.get_by_label("Purpose").select_option("whatsapp")
    form.get_by_label("Source").select_option("written")
    form.get_by_role("button", name="Save consent").click()
    expect(page.locator(".alert-success")).to_contain_text("Consent recorded.")
    expect(page.locator("#consent-purposes tr[data-purpose='whatsapp']")).to_contain_text("yes")
    expect(page.locator("#consent-warning")).to_contain_text("phone, email")
    expect(page.locator("#access-records")).to_contain_text("opened the lead page")
    assert desk.csp_violations() == [], desk.console_errors
