"""Settings → Meta in a real browser, against a live simulated Meta: connect a Page, see its forms
and what its token may do, map a form, and replay a delivery Meta refused."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from leadhub.auth.models import User
from leadhub.db import db
from leadhub.leads.models import Lead
from leadhub.meta.models import LeadForm
from leadhub.simulator import World, build_payload, sign
from leadhub.simulator import create_app as create_simulator
from leadhub.simulator.graph import unsupported
from tests.browser.harness import Desk
from tests.meta.processes import serve

pytestmark = pytest.mark.browser

VERSION = "v27.0"


@dataclass
class LeadAccessManager:
    """Meta's Lead Access Manager in front of the simulator: until LeadHub is allowed again, the
    leads in `blocked` cannot be read, and Meta answers code 100 as it does to such a CRM."""

    graph_app: Any
    blocked: set[str] = field(default_factory=set)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        object_id = environ.get("PATH_INFO", "").rstrip("/").rsplit("/", 1)[-1]
        if object_id in self.blocked:
            return unsupported("GET", object_id).response()(environ, start_response)
        return self.graph_app(environ, start_response)


@dataclass(frozen=True)
class SimulatedMeta:
    world: World
    access: LeadAccessManager


@pytest.fixture
def simulated_meta(app: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimulatedMeta]:
    """A simulated Meta on a real port, and LeadHub's Meta settings pointing at it."""
    world = World.seed_default(pages=1, forms_per_page=2, seed=21)
    access = LeadAccessManager(create_simulator(world, version=VERSION))
    with serve(access) as graph_url:
        for name, value in {
            "META_GRAPH_URL": graph_url,
            "META_GRAPH_VERSION": VERSION,
            "META_APP_ID": world.app_id,
            "META_APP_SECRET": world.app_secret,
        }.items():
            monkeypatch.setitem(app.config, name, value)
        yield SimulatedMeta(world, access)


def deliver(desk: Desk, body: bytes, app_secret: str) -> None:
    """A signed webhook to the live LeadHub, as Meta sends it (jobs run at once in tests)."""
    response = httpx.post(
        desk.url("/api/v1/meta/webhook"),
        content=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, app_secret)},
        timeout=15,
    )
    assert response.status_code == 200, response.text


def test_connect_a_page_map_a_form_and_replay_a_refused_delivery(
    simulated_meta: SimulatedMeta,
    desk: Desk,
    signed_in: Callable[[str], User],
    distributor: Any,
) -> None:
    world = simulated_meta.world
    fb_page = world.pages()[0]
    forms = world.forms(fb_page.id)
    signed_in("admin")
    page = desk.page

    page.get_by_role("link", name="Meta", exact=True).click()
    expect(page).to_have_url(desk.url("/settings/meta/"))
    expect(page.get_by_role("heading", name="Meta Lead Ads")).to_be_visible()
    expect(page.get_by_text("No Page is connected yet.")).to_be_visible()

    # Connect the distributor's Page with the token the simulated Meta gave it.
    connect = page.locator("#connect-page-form")
    connect.get_by_label("Distributor").select_option(label=distributor.name)
    connect.get_by_label("Facebook Page id").fill(fb_page.id)
    connect.get_by_label("Page access token").fill(fb_page.access_token)
    connect.get_by_role("button", name="Check and connect").click()

    expect(page).to_have_url(desk.url("/settings/meta/"))
    expect(
        page.get_by_role("alert").filter(has_text=f"Connected {fb_page.name} with 2 lead forms.")
    ).to_be_visible()
    card = page.locator(".card", has_text=fb_page.name)
    expect(card).to_contain_text(distributor.name)
    expect(card).to_contain_text("subscribed")
    for form in forms:
        expect(card.locator("tr", has_text=form.name)).to_be_visible()
    token = card.locator(".token-info")
    expect(token.locator(".token-validity")).to_contain_text("valid PAGE token")
    for scope in ("leads_retrieval", "pages_manage_metadata", "pages_read_engagement"):
        expect(token.locator(".token-scopes")).to_contain_text(scope)
    expect(token.locator(".token-expires")).to_have_text("never")
    expect(token.locator(".token-checked")).not_to_be_empty()
    expect(token.locator(".token-missing")).to_have_count(0)
    expect(token.get_by_role("button", name="Check token again")).to_be_visible()
    assert fb_page.access_token not in page.content()

    # Check the token again: Meta still says it works.
    token.get_by_role("button", name="Check token again").click()
    expect(
        page.get_by_role("alert").filter(has_text=f"Meta says the token of {fb_page.name} works.")
    ).to_be_visible()

    # Map a form: its treatment question fills the lead's treatment; it sells veneers.
    form = forms[0]
    card.locator("tr", has_text=form.name).get_by_role("link", name="Mapping").click()
    expect(page.get_by_role("heading", name=form.name)).to_be_visible()
    page.get_by_label("which_treatment").select_option("treatment")
    page.get_by_label("Treatment this form sells").select_option("veneers")
    page.get_by_role("button", name="Save").click()

    expect(page).to_have_url(desk.url("/settings/meta/"))
    expect(page.get_by_role("alert").filter(has_text="Saved.")).to_be_visible()
    expect(card.locator("tr", has_text=form.name)).to_contain_text("Veneers")
    saved = db.session.scalars(select(LeadForm).where(LeadForm.form_id == form.id)).one()
    assert saved.field_mapping == {"which_treatment": "treatment"}
    assert saved.treatment == "veneers"
    db.session.rollback()  # leave the connection to the server's next request

    # A new lead whose reading Meta refuses (LeadHub was left out of the Lead Access Manager).
    lead = world.add_leads(1, form.id, organic=False)[0]
    simulated_meta.access.blocked.add(lead.id)
    deliver(desk, build_payload([lead]), world.app_secret)

    desk.goto("/settings/meta/")
    row = page.locator("#problems tbody tr", has_text=lead.id)
    expect(row).to_contain_text("Failed")
    expect(row).to_contain_text("Meta refused to give this lead")
    expect(row).to_contain_text("does not exist")
    assert desk.screenshot("meta_page.png").stat().st_size > 10_000

    # The admin lets LeadHub in at Meta, then replays the delivery: now it is a lead.
    simulated_meta.access.blocked.clear()
    row.get_by_role("button", name="Replay").click()
    expect(page.get_by_role("alert").filter(has_text="Sent again.")).to_be_visible()
    expect(page.locator("#problems")).to_contain_text(
        "Nothing waiting: every delivery became a lead."
    )
    expect(card.locator("tr", has_text=form.name).locator("td").nth(2)).to_have_text("1")

    page.get_by_role("link", name="Leads", exact=True).click()
    expect(page.locator("#lead-table tbody tr[data-lead-id]")).to_have_count(1)
    stored = db.session.scalars(select(Lead).where(Lead.meta_lead_id == lead.id)).one()
    assert stored.form_id == form.id and stored.distributor_id == distributor.id
    db.session.rollback()
    assert desk.csp_violations() == [], desk.console_errors
