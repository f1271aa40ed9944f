"""The scoring pages in a real browser: the chart, the 30-second refresh, the rescore's progress."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (  # noqa: F401 - the browser harness's fixtures
    base_url,
    browser_context_args,
    browser_home,
    browser_type_launch_args,
    desk,
    live_server,
    signed_in,
)

pytestmark = pytest.mark.browser

CHART_DATA = "() => Chart.getChart(document.getElementById('level-chart')).data.datasets[0].data"


def test_the_dashboard_draws_its_chart_and_refreshes_itself(
    desk: Any,  # noqa: F811 - the harness's fixture
    signed_in: Any,  # noqa: F811
    lead_factory: Any,
    db_session: Any,
) -> None:
    lead_factory(score=90, full_name="Hot Lead")
    lead_factory(score=10, full_name="Cold Lead")
    signed_in("manager")
    page = desk.page
    page.clock.install()
    desk.goto("/scoring")
    assert page.evaluate(CHART_DATA) == [1, 0, 0, 0, 1]
    lead_factory(score=95, full_name="Hotter Lead")
    db_session.commit()
    page.clock.run_for(31_000)
    expect(page.locator('#level-counts [data-level="hot"] [data-count]')).to_have_text("2")
    expect(page.locator('[data-recommendation="high_unassigned"] [data-count]')).to_have_text("2")
    expect(page.locator("#top-leads tbody tr").first).to_contain_text("Hotter Lead")
    assert page.evaluate(CHART_DATA) == [2, 0, 0, 0, 1]
    assert desk.csp_violations() == []


def test_saving_rules_shows_the_rescore_finished(
    desk: Any,  # noqa: F811 - the harness's fixture
    signed_in: Any,  # noqa: F811
    lead_factory: Any,
) -> None:
    lead_factory(score=50, score_version=1)
    signed_in("superadmin")
    page = desk.page
    desk.goto("/scoring/rules")
    page.get_by_label("Contact information").fill("20")
    page.get_by_label("Freshness").fill("30")
    with page.expect_navigation():  # submit() skips the confirm dialog the button asks
        page.evaluate("() => document.getElementById('rules-form').submit()")
    progress = page.locator("#rescore-progress")
    expect(progress.locator("[data-run-word]")).to_have_text("Done")
    expect(progress.locator("[data-run-done]")).to_have_text("1")
    assert progress.locator("progress").get_attribute("value") == "100"
    assert desk.csp_violations() == []
