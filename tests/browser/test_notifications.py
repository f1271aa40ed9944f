"""The bell in a real browser: a lead given to you lights it up live; the list marks it read."""

from __future__ import annotations

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


def _assign(live: Live, key: str, lead: LeadFactory, assignee_id: int) -> None:  # noqa: F811
    current = httpx.get(
        f"{live.url}/api/v1/leads/{lead.id}",
        headers={"Authorization": f"Bearer {key}"},
        timeout=WAIT,
    ).json()
    response = httpx.patch(
        f"{live.url}/api/v1/leads/{lead.id}",
        json={"version": current["version"], "assignee_id": assignee_id},
        headers={"Authorization": f"Bearer {key}"},
        timeout=WAIT,
    )
    assert response.status_code == 200, response.text


def test_the_bell_counts_up_live_and_the_list_marks_read(
    live: Live,  # noqa: F811
    live_desk: Desk,
) -> None:
    distributor = DistributorFactory(name="Bell Agency")
    agent = UserFactory(role=Role.AGENT, distributor=distributor, name="Berk Bell")
    manager = UserFactory(role=Role.MANAGER, distributor=distributor, name="Mina Manager")
    leads = [
        LeadFactory(distributor_id=distributor.id, full_name=name, score=5)
        for name in ("Lale Live", "Onur Live")
    ]
    key = live.api_key(manager)
    live_desk.sign_in(agent)
    page = live_desk.page
    badge = page.locator("#notification-count")
    expect(badge).to_be_hidden()
    expect(page.locator("html")).to_have_attribute("data-realtime", "connected")

    _assign(live, key, leads[0], agent.id)
    expect(badge).to_be_visible()
    expect(badge).to_have_text("1")
    _assign(live, key, leads[1], agent.id)
    expect(badge).to_have_text("2")

    page.locator("#notification-bell").click()
    expect(page).to_have_url(live_desk.url("/notifications"))
    items = page.locator("#notification-list li")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("Lead assigned to you: Onur Live")
    items.first.get_by_role("button", name="Mark read").click()
    expect(page.locator("#notification-count")).to_have_text("1")
    page.locator("#mark-all-read").click()
    expect(page.locator("#notification-count")).to_be_hidden()
    expect(page.locator('#notification-list li[data-unread="1"]')).to_have_count(0)
    items.nth(1).get_by_role("link").click()
    expect(page).to_have_url(live_desk.url(f"/leads/{leads[0].id}"))
    live_desk.screenshot("notifications-bell.png")


def test_watch_and_preferences_pages_work_in_the_browser(
    live: Live,  # noqa: F811
    live_desk: Desk,
) -> None:
    distributor = DistributorFactory(name="Watch Agency")
    manager = UserFactory(role=Role.MANAGER, distributor=distributor, name="Wes Watcher")
    lead = LeadFactory(distributor_id=distributor.id, full_name="Pelin Watch")
    live_desk.sign_in(manager)
    page = live_desk.page
    live_desk.goto(f"/leads/{lead.id}")
    page.locator("#watch-button").click()
    expect(page.locator("#watch-button")).to_have_text("Watching")

    live_desk.goto("/settings/notifications")
    page.locator("#kind_status_changed").select_option("summary")
    page.locator("#summary-hour").select_option("7")
    page.locator("#pref-email").uncheck()
    page.locator("#preferences-form button[type=submit]").click()
    expect(page.get_by_role("alert")).to_contain_text("Saved.")
    expect(page.locator("#kind_status_changed")).to_have_value("summary")
    expect(page.locator("#summary-hour")).to_have_value("7")
    expect(page.locator("#pref-email")).not_to_be_checked()


def test_an_admin_reads_the_outbox_retries_a_message_and_previews_templates(
    desk: Desk, signed_in, users
) -> None:
    from leadhub.db import db
    from leadhub.notifications.models import Kind, OutboxMessage, OutboxStatus

    failed = OutboxMessage(
        event_key="browser:failed",
        recipient_id=users["agent"].id,
        to_address=users["agent"].email,
        kind=Kind.ASSIGNED,
        template="assigned",
        language="en",
        params={"name": "Derin Retry"},
        subject="Lead assigned to you: Derin Retry",
        body_text="Plain body of the failed message",
        status=OutboxStatus.FAILED,
        attempts=5,
        last_error="SMTPDataError: 451 Try again later",
    )
    db.session.add(failed)
    db.session.commit()
    signed_in("admin")
    page = desk.page
    desk.goto("/settings/notifications/outbox")
    page.locator("#outbox-filter").get_by_role("link", name="Failed").click()
    table = page.locator("#outbox-table")
    expect(table).to_contain_text("Derin Retry")
    table.get_by_role("link", name="Lead assigned to you: Derin Retry").click()
    expect(page.locator("#message-text")).to_contain_text("Plain body of the failed message")
    page.locator("#retry-button").click()
    expect(page.get_by_role("alert")).to_contain_text("The message will be sent again.")
    expect(page.locator("#message-status")).to_have_text("Kept (no SMTP server)")

    desk.goto("/settings/notifications/templates")
    page.locator("#template").select_option("speed_to_lead_escalation")
    page.locator("#language").select_option("ar")
    page.locator("#template-picker button[type=submit]").click()
    expect(page.locator("#preview-html")).to_contain_text('dir="rtl"')
    expect(page.locator("#preview-subject")).to_contain_text("John Smith")


def test_a_manager_sets_the_distributors_alert_thresholds(desk: Desk, signed_in, users) -> None:
    manager = signed_in("manager")
    page = desk.page
    desk.goto("/settings/notifications")
    page.locator("#distributor-settings-links a").first.click()
    page.locator("#speed-minutes").fill("25")
    page.locator("#score-threshold").fill("45")
    page.locator("#kind_assigned").select_option("summary")
    page.locator("#distributor-settings-form button[type=submit]").click()
    expect(page.get_by_role("alert")).to_contain_text("Saved.")
    expect(page.locator("#speed-minutes")).to_have_value("25")
    expect(page.locator("#score-threshold")).to_have_value("45")
    expect(page.locator("#kind_assigned")).to_have_value("summary")
    assert manager.distributor_id is not None
