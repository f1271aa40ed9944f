"""The lead desk in a real browser: sign in, filter, open a lead, log work, languages, sign out."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from leadhub.auth.models import User
from leadhub.leads.models import Status
from tests.browser.harness import Desk

pytestmark = pytest.mark.browser

XSS = "<script>alert(1)</script>"


def _rows(desk: Desk) -> Any:
    return desk.page.locator("#lead-table tbody tr[data-lead-id]")


def test_sign_in_filter_and_open_a_lead(
    desk: Desk,
    signed_in: Callable[[str], User],
    lead_factory: Callable[..., Any],
    other_distributor: Any,
) -> None:
    wanted = lead_factory(
        full_name="Zeynep Kaya",
        phone="+905321112233",
        email="zeynep.kaya@example.com",
        answers={"which_treatment": "hair_transplant", "when_to_travel": "next_month"},
    )
    lead_factory(full_name="Zeynep Demir", status=Status.CONTACTED)
    lead_factory(full_name="John Carter")
    lead_factory(full_name="Omar Haddad", distributor_id=other_distributor.id)
    signed_in("admin")
    page = desk.page

    names = ["Zeynep Kaya", "Zeynep Demir", "John Carter", "Omar Haddad"]
    expect(_rows(desk)).to_have_count(4)
    for name in names:
        expect(page.locator("#lead-table").get_by_role("link", name=name)).to_be_visible()

    filters = page.locator("#lead-filters")
    filters.get_by_label("Search name, email or phone").fill("zeyn")
    filters.get_by_label("Status").select_option("new")
    filters.get_by_role("button", name="Apply").click()

    expect(page).to_have_url(re.compile(r"/leads\?.*q=zeyn"))
    expect(page).to_have_url(re.compile(r"[?&]status=new(&|$)"))
    expect(_rows(desk)).to_have_count(1)
    expect(_rows(desk).first).to_have_attribute("data-lead-id", str(wanted.id))
    for gone in ("Zeynep Demir", "John Carter", "Omar Haddad"):
        expect(page.get_by_role("link", name=gone)).to_have_count(0)
    # The form keeps what was asked.
    expect(filters.get_by_label("Search name, email or phone")).to_have_value("zeyn")
    expect(filters.get_by_label("Status")).to_have_value("new")

    page.locator("#lead-table").get_by_role("link", name="Zeynep Kaya").click()
    expect(page).to_have_url(desk.url(f"/leads/{wanted.id}"))
    expect(page.locator("#lead-name")).to_have_text("Zeynep Kaya")
    expect(page.locator("a[href='tel:+905321112233']")).to_have_text("+905321112233")
    expect(page.locator("a[href='mailto:zeynep.kaya@example.com']")).to_be_visible()
    answers = page.locator("#lead-answers")
    expect(answers).to_contain_text("when_to_travel")
    expect(answers).to_contain_text("next_month")
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()

    log_work = page.locator("#interaction-form")
    expect(page.get_by_role("heading", name="Log work")).to_be_visible()
    expect(log_work.get_by_label("What")).to_have_value("note")
    note = "Called her: she wants a video consultation on Monday."
    log_work.get_by_label("Note").fill(note)
    log_work.get_by_role("button", name="Add to timeline").click()

    expect(page).to_have_url(desk.url(f"/leads/{wanted.id}"))
    expect(page.get_by_role("alert").filter(has_text="Saved.")).to_be_visible()
    expect(page.locator("#timeline .timeline-body", has_text=note)).to_have_count(1)
    expect(page.locator("#timeline")).to_contain_text("Ali Admin")

    assert desk.screenshot("lead_desk.png").stat().st_size > 10_000
    assert desk.csp_violations() == []


def test_manager_sees_only_their_distributor(
    desk: Desk,
    signed_in: Callable[[str], User],
    lead_factory: Callable[..., Any],
    other_distributor: Any,
) -> None:
    own = lead_factory(full_name="Mina Own")
    foreign = lead_factory(full_name="Omar Foreign", distributor_id=other_distributor.id)
    signed_in("manager")
    page = desk.page

    expect(_rows(desk)).to_have_count(1)
    expect(page.get_by_role("link", name="Mina Own")).to_be_visible()
    expect(page.get_by_text("Omar Foreign")).to_have_count(0)
    expect(page.locator("[data-count=total]")).to_have_text("1")

    # Searching for it by name does not reveal it either.
    page.locator("#lead-filters").get_by_label("Search name, email or phone").fill("omar")
    page.locator("#lead-filters").get_by_role("button", name="Apply").click()
    expect(page.get_by_text("No leads match these filters.")).to_be_visible()

    response = desk.goto(f"/leads/{foreign.id}")
    assert response.status == 404
    expect(page.locator("main h1")).to_have_text("404")
    expect(page.get_by_role("link", name="Back to the leads")).to_be_visible()
    expect(page.get_by_text("Omar Foreign")).to_have_count(0)
    foreign_message = page.locator("main p.lead").inner_text()

    # Exactly like a lead that does not exist: the URL does not tell that the lead is there.
    response = desk.goto(f"/leads/{foreign.id + 10_000}")
    assert response.status == 404
    expect(page.locator("main p.lead")).to_have_text(foreign_message)

    # Their own lead opens.
    response = desk.goto(f"/leads/{own.id}")
    assert response.status == 200
    expect(page.locator("#lead-name")).to_have_text("Mina Own")


def test_markup_in_data_is_shown_as_text(
    desk: Desk,
    signed_in: Callable[[str], User],
    lead_factory: Callable[..., Any],
) -> None:
    lead = lead_factory(
        full_name=XSS,
        answers={"<b>question</b>": '<img src="x" onerror="alert(2)">'},
    )
    signed_in("admin")
    page = desk.page

    link = page.locator("#lead-table").get_by_role("link", name=XSS)
    expect(link).to_have_text(XSS)
    expect(page.locator("script", has_text="alert(")).to_have_count(0)

    link.click()
    expect(page).to_have_url(desk.url(f"/leads/{lead.id}"))
    expect(page.locator("#lead-name")).to_have_text(XSS)
    expect(page).to_have_title(re.compile(re.escape(XSS)))
    answers = page.locator("#lead-answers")
    expect(answers).to_contain_text("<b>question</b>")
    expect(answers).to_contain_text('<img src="x" onerror="alert(2)">')
    expect(answers.locator("b, img")).to_have_count(0)

    # Markup typed into a note is text on the timeline too.
    note = "<img src=x onerror=alert(3)> <script>alert(4)</script>"
    page.locator("#interaction-form").get_by_label("Note").fill(note)
    page.locator("#interaction-form").get_by_role("button", name="Add to timeline").click()
    expect(page.locator("#timeline .timeline-body")).to_have_text(note)
    expect(page.locator("#timeline img, #timeline script")).to_have_count(0)

    # Other ordinary pages: none of them breaks the Content-Security-Policy.
    pages = (
        "/leads",
        "/leads/new",
        "/settings/account",
        "/settings/users",
        "/settings/distributors",
    )
    for path in pages:
        response = desk.goto(path)
        assert response.ok, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        expect(page.locator("main h1")).to_be_visible()

    page.wait_for_timeout(100)  # let late console messages arrive
    assert desk.dialogs == []
    assert desk.page_errors == []
    assert desk.csp_violations() == [], desk.console_errors

    # The guard is real: an inline handler slipped past the templates is refused, and reported.
    page.evaluate(
        """() => document.body.insertAdjacentHTML(
            'beforeend', '<img src="/static/missing.png" onerror="alert(5)">')"""
    )
    page.wait_for_function("() => document.querySelector('img[onerror]').complete")
    page.wait_for_timeout(100)
    assert desk.dialogs == []
    assert any("inline event handler" in text for text in desk.csp_violations()), (
        desk.console_errors
    )


def test_arabic_switches_the_page_to_right_to_left(
    desk: Desk,
    signed_in: Callable[[str], User],
    lead_factory: Callable[..., Any],
) -> None:
    lead_factory(full_name="ليلى حسن", language="ar", country="AE", phone="+971501234567")
    lead_factory(full_name="Zeynep Kaya")
    signed_in("admin")
    page = desk.page
    html = page.locator("html")
    expect(html).to_have_attribute("dir", "ltr")
    expect(html).to_have_attribute("lang", "en")

    switcher = page.locator("form.language-switcher select[name=language]")
    switcher.select_option("ar")  # the switcher submits itself (static/js/leadhub.js)

    expect(html).to_have_attribute("dir", "rtl")
    expect(html).to_have_attribute("lang", "ar")
    expect(page).to_have_url(desk.url("/leads"))
    expect(
        page.locator("link[rel=stylesheet][href$='/vendor/bootstrap.rtl.min.css']")
    ).to_have_count(1)
    expect(page.locator("link[rel=stylesheet][href$='/vendor/bootstrap.min.css']")).to_have_count(0)
    # Waits until the stylesheet is parsed (raises on timeout, so a sheet that never loads fails).
    page.wait_for_function(
        """() => Array.from(document.styleSheets).some(
            (sheet) => sheet.href && sheet.href.endsWith('/bootstrap.rtl.min.css')
                && sheet.cssRules.length > 0)"""
    )
    expect(switcher).to_have_value("ar")
    expect(page.get_by_role("link", name="ليلى حسن")).to_be_visible()
    assert desk.screenshot("lead_desk_ar.png").stat().st_size > 10_000

    # The choice sticks to the user: a new page in Arabic too, and back to English works.
    desk.goto("/settings/account")
    expect(html).to_have_attribute("dir", "rtl")
    switcher.select_option("en")
    expect(html).to_have_attribute("dir", "ltr")
    expect(html).to_have_attribute("lang", "en")
    expect(page).to_have_url(desk.url("/settings/account"))
    assert desk.csp_violations() == []


def test_sign_out(desk: Desk, signed_in: Callable[[str], User]) -> None:
    signed_in("agent")
    page = desk.page
    expect(page.get_by_role("heading", name="Leads", exact=True)).to_be_visible()

    desk.sign_out()
    expect(page.get_by_role("alert").filter(has_text="You are signed out.")).to_be_visible()
    expect(page.locator("form[action='/logout']")).to_have_count(0)

    desk.goto("/leads")
    expect(page).to_have_url(re.compile(re.escape(desk.url("/login")) + r"(\?|$)"))
    expect(page.get_by_role("heading", name="Sign in to LeadHub")).to_be_visible()
    assert parse_qs(urlsplit(page.url).query) == {"next": ["/leads"]}
