"""The analytics API and reports end to end through HTTP: shapes, scope and errors."""

from __future__ import annotations

import io
from typing import Any

import pytest
from pypdf import PdfReader

from leadhub.db import db

WEEK = "from=2026-11-10&to=2026-11-16"


@pytest.fixture
def istanbul(users: dict[str, Any]) -> None:
    for user in users.values():
        user.timezone = "Europe/Istanbul"
    db.session.commit()


@pytest.mark.usefixtures("istanbul")
def test_funnel_stages_in_pipeline_order(client: Any, api_as: Any, world: Any) -> None:
    response = client.get(f"/api/v1/analytics/funnel?{WEEK}", headers=api_as("admin"))
    assert response.status_code == 200
    body = response.get_json()
    assert [(s["status"], s["count"]) for s in body["stages"]] == [
        ("new", 10),
        ("assigned", 6),
        ("contacted", 5),
        ("converted", 2),
    ]
    assert body["stages"][1]["rate"] == 0.6
    assert body["period"] == {
        "kind": "custom",
        "from": "2026-11-10",
        "to": "2026-11-16",
        "previous_from": "2026-11-03",
        "previous_to": "2026-11-09",
        "timezone": "Europe/Istanbul",
    }


@pytest.mark.usefixtures("istanbul")
@pytest.mark.parametrize(
    "panel, key",
    [
        ("speed", "median_seconds"),
        ("distributors", "items"),
        ("staff", "items"),
        ("campaigns", "items"),
        ("trends", "leads"),
    ],
)
def test_every_panel_answers(client: Any, api_as: Any, world: Any, panel: str, key: str) -> None:
    response = client.get(f"/api/v1/analytics/{panel}?{WEEK}", headers=api_as("manager"))
    assert response.status_code == 200, response.get_json()
    assert key in response.get_json()


@pytest.mark.usefixtures("istanbul")
def test_speed_over_http(client: Any, api_as: Any, world: Any) -> None:
    body = client.get(
        f"/api/v1/analytics/speed?{WEEK}&sla_minutes=5", headers=api_as("admin")
    ).get_json()
    assert (body["median_seconds"], body["p90_seconds"], body["within_sla"]) == (600.0, 2880.0, 2)


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-13-01",
        "from=yesterday",
        "from=2026-11-10&to=2026-11-01",
        "from=2025-01-01&to=2026-11-01",
        "period=year",
        "distributor_id=abc",
        "sla_minutes=0",
    ],
)
def test_bad_parameters_are_400(client: Any, api_as: Any, users: Any, query: str) -> None:
    response = client.get(f"/api/v1/analytics/funnel?{query}", headers=api_as("admin"))
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_input"


def test_bad_sort_and_grouping_are_400(client: Any, api_as: Any, users: Any) -> None:
    headers = api_as("admin")
    assert client.get("/api/v1/analytics/distributors?sort=x", headers=headers).status_code == 400
    assert client.get("/api/v1/analytics/campaigns?by=x", headers=headers).status_code == 400
    assert client.get("/api/v1/analytics/trends?bucket=x", headers=headers).status_code == 400


def test_a_distributor_out_of_scope_is_404(
    client: Any, api_as: Any, users: Any, other_distributor: Any
) -> None:
    url = f"/api/v1/analytics/funnel?distributor_id={other_distributor.id}"
    assert client.get(url, headers=api_as("manager")).status_code == 404
    assert client.get(url, headers=api_as("viewer")).status_code == 404
    assert client.get(url, headers=api_as("admin")).status_code == 200


def test_signed_out_is_401(client: Any) -> None:
    assert client.get("/api/v1/analytics/funnel").status_code == 401
    assert client.get("/api/v1/reports/daily").status_code == 401


def test_panels_are_in_the_api_document(client: Any) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for panel in ("funnel", "speed", "distributors", "staff", "campaigns", "trends"):
        assert f"/api/v1/analytics/{panel}" in paths
    assert "/api/v1/reports/{kind}" in paths


@pytest.mark.usefixtures("istanbul")
def test_reports_in_every_format(client: Any, api_as: Any, world: Any) -> None:
    headers = api_as("manager")
    base = "/api/v1/reports/weekly?date=2026-11-12"
    as_json = client.get(f"{base}&format=json", headers=headers)
    assert as_json.status_code == 200
    data = as_json.get_json()
    assert data["period"]["from"] == "2026-11-09" and data["period"]["to"] == "2026-11-15"
    assert data["funnel"]["stages"][0]["count"] == 8  # Istanbul Smile, 9th to 15th: 1-6, 11, 12
    as_csv = client.get(f"{base}&format=csv", headers=headers)
    assert as_csv.mimetype == "text/csv"
    assert "attachment" in as_csv.headers["Content-Disposition"]
    text = as_csv.get_data(as_text=True)
    assert "Funnel" in text and "Price" in text
    as_html = client.get(f"{base}&format=html", headers=headers)
    assert as_html.mimetype == "text/html"
    assert "Weekly report" in as_html.get_data(as_text=True)
    as_pdf = client.get(f"{base}&format=pdf", headers=headers)
    assert as_pdf.mimetype == "application/pdf"
    pdf_text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(as_pdf.data)).pages)
    assert "Weekly report" in pdf_text and "Istanbul Smile" in pdf_text


def test_report_errors(client: Any, api_as: Any, users: Any, other_distributor: Any) -> None:
    headers = api_as("manager")
    assert client.get("/api/v1/reports/yearly", headers=headers).status_code == 400
    assert client.get("/api/v1/reports/daily?format=doc", headers=headers).status_code == 400
    assert client.get("/api/v1/reports/daily?date=2026-02-30", headers=headers).status_code == 400
    url = f"/api/v1/reports/daily?distributor_id={other_distributor.id}"
    assert client.get(url, headers=headers).status_code == 404


def test_the_page_renders_for_every_role(client: Any, login_as: Any, users: Any) -> None:
    for role in ("admin", "manager", "agent", "viewer"):
        login_as(role)
        page = client.get("/analytics")
        assert page.status_code == 200
        assert 'id="funnel-table"' in page.get_data(as_text=True)
    assert client.get("/analytics?from=2026-02-31").status_code == 400


def test_desk_filters_for_analytics_links(
    client: Any, login_as: Any, world: Any, istanbul: None
) -> None:
    login_as("admin")
    page = client.get("/leads?reached=contacted&created_from=2026-11-10&created_to=2026-11-16")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    for n in (3, 4, 5, 7, 8):
        assert f"Lead {n}<" in text
    assert "Lead 1<" not in text and "Lead 2<" not in text
    page = client.get("/leads?campaign_id=C2").get_data(as_text=True)
    assert "Lead 4<" in page and "Lead 3<" not in page
