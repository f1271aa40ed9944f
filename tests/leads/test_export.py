"""Export: formats, chosen columns, scope, formula cells, audit, batches."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import pytest
from sqlalchemy import select

from leadhub.audit.models import AuditEvent
from leadhub.extensions import db
from leadhub.leads import export
from leadhub.leads.models import Status
from leadhub.leads.schemas import LeadFilter
from tests.factories import LeadFactory


def _csv_rows(response) -> list[list[str]]:
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(raw[3:].decode())))


def _xlsx_rows(response) -> list[list[str]]:
    """Cell texts of the first sheet, read from the workbook's XML (inline strings, numbers)."""
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
        assert "<f>" not in sheet  # no formula anywhere
    rows = []
    for row in re.findall(r"<row [^>]*>(.*?)</row>", sheet):
        cells = re.findall(r"<c [^>]*?(?:/>|>(.*?)</c>)", row)
        rows.append([re.sub(r"<[^>]+>", "", cell) for cell in cells])
    return rows


def _export_events() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "lead.export")))


def test_csv_has_a_bom_the_chosen_columns_and_every_lead(client, api_as, lead_factory):
    first = lead_factory(full_name="Ayşe Yılmaz", phone="+905321112233")
    second = lead_factory(full_name="محمد علي", email="m@example.com")
    response = client.get(
        "/api/v1/leads/export?format=csv&columns=id,full_name,phone,email",
        headers=api_as("admin"),
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _csv_rows(response)
    assert rows[0] == ["id", "full_name", "phone", "email"]
    by_id = {row[0]: row for row in rows[1:]}
    assert by_id[str(first.id)][1:3] == ["Ayşe Yılmaz", "+905321112233"]
    assert by_id[str(second.id)][1] == "محمد علي"
    assert by_id[str(second.id)][3] == "m@example.com"
    assert len(rows) == 3


def test_jsonl_has_one_object_per_lead_with_typed_values(client, api_as, lead_factory, db_session):
    lead = lead_factory(score=73)
    lead.tags = []
    response = client.get(
        "/api/v1/leads/export?format=jsonl&columns=id,score,status,tags,distributor",
        headers=api_as("admin"),
    )
    assert response.status_code == 200
    lines = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    assert lines == [
        {"id": lead.id, "score": 73, "status": "new", "tags": "", "distributor": "Istanbul Smile"}
    ]


def test_xlsx_is_a_workbook_with_strings_never_formulas(client, api_as, lead_factory):
    lead = lead_factory(full_name='=HYPERLINK("http://evil")', city="+90 ilçe", score=12)
    response = client.get(
        "/api/v1/leads/export?format=xlsx&columns=id,full_name,city,score",
        headers=api_as("admin"),
    )
    assert response.status_code == 200
    rows = _xlsx_rows(response)
    assert rows[0] == ["id", "full_name", "city", "score"]
    assert rows[1] == [str(lead.id), '\'=HYPERLINK("http://evil")', "'+90 ilçe", "12"]


@pytest.mark.parametrize(
    "value", ["=1+2", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx", "+905321112233x"]
)
def test_csv_neutralises_formula_cells(client, api_as, lead_factory, value):
    lead_factory(full_name=value)
    response = client.get("/api/v1/leads/export?columns=full_name", headers=api_as("admin"))
    assert _csv_rows(response)[1] == ["'" + value]


def test_plain_cells_and_signed_numbers_are_left_alone():
    assert export.neutralise("Ali") == "Ali"
    assert export.neutralise("a=b") == "a=b"
    assert export.neutralise("+905321112233") == "+905321112233"  # a phone, read as a number
    assert export.neutralise("-12.5") == "-12.5"


def test_a_manager_exports_only_their_distributor(client, api_as, lead_factory, other_distributor):
    mine = lead_factory()
    lead_factory(distributor_id=other_distributor.id)
    rows = _csv_rows(client.get("/api/v1/leads/export?columns=id", headers=api_as("manager")))
    assert rows[1:] == [[str(mine.id)]]
    other = _csv_rows(
        client.get("/api/v1/leads/export?columns=id", headers=api_as("manager_other"))
    )
    assert [str(mine.id)] not in other[1:] and len(other) == 2


def test_the_desk_filters_apply(client, api_as, lead_factory):
    lead_factory(status=Status.NEW)
    won = lead_factory(status=Status.CONVERTED)
    rows = _csv_rows(
        client.get("/api/v1/leads/export?columns=id&status=converted", headers=api_as("admin"))
    )
    assert rows[1:] == [[str(won.id)]]


@pytest.mark.parametrize("role", ["agent", "viewer"])
def test_agents_and_viewers_may_not_export(client, api_as, role):
    response = client.get("/api/v1/leads/export", headers=api_as(role))
    assert response.status_code == 403


@pytest.mark.parametrize(
    "query, words",
    [
        ("format=pdf", "format"),
        ("columns=id,password_hash", "password_hash"),
        ("format=csv&status=unknown", "filters"),
    ],
)
def test_bad_format_column_or_filter_is_a_clear_400(client, api_as, query, words):
    response = client.get(f"/api/v1/leads/export?{query}", headers=api_as("admin"))
    assert response.status_code == 400
    error = response.json["error"]
    assert words in (error["message"] + json.dumps(error.get("details"))).lower()


def test_an_export_is_audited_once_with_filter_columns_and_count(
    client, api_as, lead_factory, users
):
    lead_factory(status=Status.NEW)
    lead_factory(status=Status.NEW)
    lead_factory(status=Status.LOST, lost_reason="price")
    response = client.get(
        "/api/v1/leads/export?format=jsonl&columns=id,email&status=new", headers=api_as("admin")
    )
    assert len(response.get_data(as_text=True).splitlines()) == 2
    (event,) = _export_events()
    assert event.actor_id == users["admin"].id
    assert event.after == {
        "format": "jsonl",
        "columns": ["id", "email"],
        "filter": {"status": ["new"]},
        "rows": 2,
        "complete": True,
    }


def test_rows_are_read_in_keyset_batches_each_once(users, distributor, db_session):
    leads = [LeadFactory(distributor_id=distributor.id) for _ in range(7)]
    seen: list[int] = []
    rows = list(
        export.rows(
            db_session,
            user=users["admin"],
            filters=LeadFilter(),
            columns=["id", "tags"],
            batch_size=2,
            between_batches=lambda: seen.append(1),
        )
    )
    assert sorted(row[0] for row in rows) == sorted(lead.id for lead in leads)
    assert len(rows) == len({row[0] for row in rows}) == 7
    assert len(seen) == 4  # 2 + 2 + 2 + 1


def test_the_desk_offers_an_export_of_its_filter(client, login_as, lead_factory):
    lead_factory(full_name="Deniz Kaya", status=Status.NEW)
    lead_factory(full_name="Selin Ak", status=Status.CONVERTED)
    login_as("manager")
    page = client.get("/leads?status=new").get_data(as_text=True)
    assert 'id="export-form"' in page and 'name="columns"' in page
    response = client.get("/leads/export?status=new&format=csv&columns=full_name&columns=status")
    assert response.status_code == 200
    assert _csv_rows(response) == [["full_name", "status"], ["Deniz Kaya", "new"]]


def test_the_desk_hides_export_from_agents(client, login_as):
    login_as("agent")
    assert 'id="export-form"' not in client.get("/leads").get_data(as_text=True)
    assert client.get("/leads/export").status_code == 403


def test_a_download_cut_short_is_audited_as_incomplete(client, api_as, lead_factory, monkeypatch):
    monkeypatch.setattr(export, "BATCH_SIZE", 2)
    for _ in range(5):
        lead_factory()
    response = client.get(
        "/api/v1/leads/export?columns=id", headers=api_as("admin"), buffered=False
    )
    chunks = iter(response.response)
    assert next(chunks).startswith(b"\xef\xbb\xbfid")
    next(chunks)  # the first batch of two
    response.close()
    (event,) = _export_events()
    assert event.after["complete"] is False and event.after["rows"] <= 4


def test_a_large_filter_streams_every_row_once_across_batches(
    client, api_as, lead_factory, monkeypatch
):
    monkeypatch.setattr(export, "BATCH_SIZE", 3)
    made = {lead_factory().id for _ in range(10)}
    rows = _csv_rows(client.get("/api/v1/leads/export?columns=id", headers=api_as("admin")))
    ids = [int(row[0]) for row in rows[1:]]
    assert sorted(ids) == sorted(made) and len(ids) == len(set(ids))
