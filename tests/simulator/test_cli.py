"""The `simulate` command: explains itself, serves, makes leads and stops cleanly."""

from __future__ import annotations

from click.testing import CliRunner

from leadhub.simulator.cli import simulate


def test_help_explains_every_option() -> None:
    result = CliRunner().invoke(simulate, ["--help"])
    assert result.exit_code == 0
    for option in (
        "--host",
        "--port",
        "--app-id",
        "--app-secret",
        "--pages",
        "--forms-per-page",
        "--seed",
        "--webhook-url",
        "--rate",
        "--count",
        "--duplicate-rate",
        "--out-of-order",
        "--fail-rate",
        "--latency-ms",
        "simulator_app_secret",
        "META_GRAPH_URL",
    ):
        assert option in result.output


def test_serves_makes_leads_and_exits() -> None:
    args = ["--port", "0", "--count", "3", "--rate", "500", "--backlog", "0", "--exit-when-done"]
    result = CliRunner().invoke(simulate, args)
    assert result.exit_code == 0, result.output
    assert "META_GRAPH_URL=http://127.0.0.1:" in result.output
    assert "META_APP_SECRET=simulator_app_secret" in result.output
    assert "EAA" in result.output
