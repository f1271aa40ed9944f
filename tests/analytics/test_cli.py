"""`leadhub report` and `leadhub analytics report`, run as an operator would."""

from __future__ import annotations

from datetime import UTC, datetime

from click.testing import CliRunner
from pypdf import PdfReader

from leadhub.cli import main
from leadhub.db import db
from leadhub.leads.models import Lead
from tests.test_cli import cli_env  # noqa: F401 - a fresh SQLite database and instance folder


def run(*args: str):  # noqa: ANN201
    return CliRunner().invoke(main, list(args))


def test_monthly_pdf_and_weekly_csv(cli_env, tmp_path):  # noqa: F811
    assert run("db", "upgrade").exit_code == 0
    assert run("create-distributor", "İzmir Güler Sağlık").exit_code == 0
    with db.transaction() as session:
        session.add(
            Lead(
                distributor_id=1,
                full_name="مريم",
                phone="+905321000001",
                created_time=datetime(2026, 10, 12, 9, tzinfo=UTC),
                campaign_id="C1",
                campaign_name="حملة الأسنان",
            )
        )
    out = tmp_path / "monthly.pdf"
    result = run(
        "analytics", "report", "--period", "monthly", "--date", "2026-10-01", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    text = "".join(page.extract_text() for page in PdfReader(out).pages)
    assert "Monthly report: 2026-10-01 – 2026-10-31" in text
    assert "İzmir Güler Sağlık" in text  # Turkish letters from the Unicode font
    assert "حملة الأسنان" in text  # Arabic, shaped and right to left
    csv_file = tmp_path / "weekly.csv"
    result = run(
        "report", "weekly", "--format", "csv", "--date", "2026-10-12", "--out", str(csv_file)
    )
    assert result.exit_code == 0, result.output
    assert "Funnel" in csv_file.read_text(encoding="utf-8-sig")


def test_unknown_names_fail_clearly(cli_env, tmp_path):  # noqa: F811
    assert run("db", "upgrade").exit_code == 0
    out = str(tmp_path / "x.pdf")
    result = run("report", "daily", "--distributor", "Nobody", "--out", out)
    assert result.exit_code == 1 and "No distributor named" in result.output
    result = run("report", "daily", "--as", "nobody@example.com", "--out", out)
    assert result.exit_code == 1 and "No user with the email" in result.output
