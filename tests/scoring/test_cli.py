"""`leadhub scoring rescore`, run as an operator would after an upgrade."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from leadhub.cli import main
from leadhub.db import db
from leadhub.leads.models import Lead
from tests.test_cli import cli_env  # noqa: F401 - a fresh SQLite database and instance folder


def run(*args: str):  # noqa: ANN201
    return CliRunner().invoke(main, list(args))


def add_leads(distributor_id: int, count: int) -> None:
    with db.transaction() as session:
        for n in range(count):
            session.add(
                Lead(
                    distributor_id=distributor_id,
                    full_name=f"Person {n}",
                    phone=f"+9053210000{n:02d}",
                    treatment="veneers",
                )
            )


def test_rescore_scores_what_is_not_scored_yet_then_everything(cli_env):  # noqa: F811
    assert run("db", "upgrade").exit_code == 0
    assert run("create-distributor", "Istanbul Smile").exit_code == 0
    assert run("create-distributor", "Dubai Care").exit_code == 0
    add_leads(1, 3)
    add_leads(2, 2)
    result = run("scoring", "rescore", "--distributor", "Istanbul Smile")
    assert result.exit_code == 0, result.output
    assert "Rescored 3 leads with version 1: 3 changed." in result.output
    with db.transaction() as session:
        versions = session.execute(select(Lead.distributor_id, Lead.score_version)).all()
    assert sorted(versions) == [(1, 1), (1, 1), (1, 1), (2, None), (2, None)]
    assert "Rescored 2 leads" in run("scoring", "rescore").output
    assert "Rescored 0 leads" in run("scoring", "rescore").output
    again = run("scoring", "rescore", "--all")
    assert "Rescored 5 leads with version 1: 0 changed." in again.output


def test_rescore_names_a_missing_distributor(cli_env):  # noqa: F811
    run("db", "upgrade")
    result = run("scoring", "rescore", "--distributor", "Nowhere")
    assert result.exit_code == 1 and "No distributor named 'Nowhere'" in result.output


def test_the_scoring_commands_have_help():
    group = run("scoring", "--help")
    assert group.exit_code == 0 and "rescore" in group.output
    command = run("scoring", "rescore", "--help")
    assert (
        command.exit_code == 0 and "--all" in command.output and "--distributor" in command.output
    )
