"""Bulk actions in a real browser: tick rows, change their status, watch the job, undo it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Route, expect

from leadhub.auth.models import User
from leadhub.bulk import jobs, service
from leadhub.bulk.schemas import BulkRequest
from leadhub.db import db
from leadhub.leads.models import Lead, Status
from tests.browser.harness import Desk

pytestmark = pytest.mark.browser


def _status(lead_id: int) -> Status:
    db.session.expire_all()
    return db.session.get(Lead, lead_id).status


def test_tick_rows_change_status_see_the_result_and_undo(
    desk: Desk, signed_in: Callable[[str], User], lead_factory: Callable[..., Any]
) -> None:
    first = lead_factory(full_name="Ada One")
    second = lead_factory(full_name="Ben Two")
    closed = lead_factory(full_name="Cem Closed", status=Status.CONVERTED)
    lead_factory(full_name="Dan Untouched")
    signed_in("admin")
    page = desk.page

    for lead in (first, second, closed):
        page.locator(f'tr[data-lead-id="{lead.id}"] input.bulk-pick').check()
    expect(page.locator("#bulk-selected")).to_have_text("3 leads ticked")
    bar = page.locator("#bulk-form")
    bar.get_by_label("Bulk action").select_option("status")
    expect(bar.get_by_label("Why lost")).to_be_hidden()
    bar.get_by_label("New status").select_option("lost")
    expect(bar.get_by_label("Why lost")).to_be_visible()
    bar.get_by_label("Why lost").select_option(label="Price")
    bar.get_by_role("button", name="Apply").click()

    expect(page.locator("h1")).to_contain_text("Change status")
    expect(page.locator("#bulk-status")).to_have_text("Finished")
    expect(page.locator('[data-count="done"]')).to_have_text("2")
    expect(page.locator('[data-count="skipped"]')).to_have_text("1")
    skipped = page.locator("#bulk-skipped tbody tr")
    expect(skipped).to_have_count(1)
    expect(skipped).to_contain_text(f"#{closed.id}")
    expect(skipped).to_contain_text("not allowed")
    assert (_status(first.id), _status(second.id)) == (Status.LOST, Status.LOST)

    expect(page.locator("#bulk-undo").get_by_role("button", name="Undo")).to_be_visible()
    with page.expect_navigation():  # submit() skips the confirm dialog the button asks
        page.locator("#bulk-undo").evaluate("form => form.submit()")
    expect(page.locator("h1")).to_contain_text("Undo")
    expect(page.locator('[data-count="done"]')).to_have_text("2")
    assert (_status(first.id), _status(second.id)) == (Status.NEW, Status.NEW)
    assert desk.csp_violations() == []


def test_select_all_matching_the_filter_shows_its_count(
    desk: Desk, signed_in: Callable[[str], User], lead_factory: Callable[..., Any]
) -> None:
    for n in range(3):
        lead_factory(full_name=f"Veneer {n}", treatment="veneers")
    lead_factory(full_name="Nose", treatment="rhinoplasty")
    signed_in("admin")
    page = desk.page
    desk.goto("/leads?treatment=veneers")
    page.locator("#bulk-all").check()
    expect(page.locator("#bulk-selected")).to_have_text("3 leads ticked")
    page.locator("#bulk-scope-filter").check()
    expect(page.locator("#bulk-all-label")).to_have_text("All 3 leads matching this filter")
    bar = page.locator("#bulk-form")
    bar.get_by_label("Bulk action").select_option("tag_add")
    bar.get_by_label("Tag").fill("smile")
    bar.get_by_role("button", name="Apply").click()
    expect(page.locator('[data-count="done"]')).to_have_text("3")


def test_the_job_page_shows_progress_live(
    desk: Desk, signed_in: Callable[[str], User], lead_factory: Callable[..., Any], users: Any
) -> None:
    leads = [lead_factory() for _ in range(3)]
    operation = service.create(
        db.session,
        data=BulkRequest(action="status", status="contacted", ids=[x.id for x in leads]),
        actor=users["admin"],
    )
    signed_in("admin")  # commits the queued operation: its job has not run
    page = desk.page
    running = {"faking": True}

    def poll(route: Route) -> None:
        # Answers in place of the server while the job is about to run and runs.
        if running["faking"]:
            report = {"status": "running", "progress": 40, "total": 3, "done": 1}
            route.fulfill(json=report | {"skipped": 0, "failed": 0})
        else:
            route.continue_()

    page.route(f"**/api/v1/jobs/{operation.id}", poll)
    desk.goto(f"/leads/bulk/{operation.id}")
    expect(page.locator("#bulk-status")).to_have_text("Waiting to start")
    expect(page.locator("#bulk-status")).to_have_text("Running")
    expect(page.locator('[data-count="done"]')).to_have_text("1")
    assert page.locator("#bulk-progress").evaluate("el => el.value") == 40

    with desk.server.paused():  # the job uses the test's connection: the page's requests wait
        jobs.run_operation(operation.id)
    running["faking"] = False

    expect(page.locator("#bulk-status")).to_have_text("Finished")
    expect(page.locator('[data-count="done"]')).to_have_text("3")
    assert page.locator("#bulk-progress").evaluate("el => el.value") == 100
    assert (
        json.loads(page.locator("#bulk-status").get_attribute("data-words"))["done"] == "Finished"
    )
