"""`leadhub meta connect-page` and `leadhub meta backfill` against a simulator on loopback."""

from __future__ import annotations

import threading

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

from leadhub.cli import main
from leadhub.simulator import World, create_app
from tests.test_cli import cli_env  # noqa: F401 - a fresh SQLite database and instance folder

VERSION = "v27.0"


@pytest.fixture
def simulator(cli_env, monkeypatch):  # noqa: F811
    world = World.seed_default(pages=1, forms_per_page=2, seed=3)
    server = make_server("127.0.0.1", 0, create_app(world, version=VERSION), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("META_GRAPH_URL", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("META_GRAPH_VERSION", VERSION)
    monkeypatch.setenv("META_APP_ID", world.app_id)
    monkeypatch.setenv("META_APP_SECRET", world.app_secret)
    yield world
    server.shutdown()
    server.server_close()
    thread.join(5)


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input)


def test_connect_a_page_then_backfill_it(simulator):
    world = simulator
    page = world.pages()[0]
    world.add_leads(15)
    assert run("db", "upgrade").exit_code == 0
    assert run("create-distributor", "Istanbul Smile", "--country", "TR").exit_code == 0
    result = run(
        "meta",
        "connect-page",
        "--distributor",
        "Istanbul Smile",
        "--page-id",
        page.id,
        "--token-stdin",
        input=page.access_token + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "subscribed: yes" in result.output and page.access_token not in result.output
    result = run("meta", "backfill", "--since", "30")
    assert result.exit_code == 0, result.output
    assert "15 new" in result.output
    again = run("meta", "backfill", "--since", "30")
    assert "0 new, 15 already here" in again.output


def test_a_wrong_token_is_refused_clearly(simulator):
    page = simulator.pages()[0]
    run("db", "upgrade")
    run("create-distributor", "Istanbul Smile")
    result = run(
        "meta",
        "connect-page",
        "--distributor",
        "Istanbul Smile",
        "--page-id",
        page.id,
        "--token-stdin",
        input="not-a-token\n",
    )
    assert result.exit_code == 1
    assert "not valid" in result.output or "Meta refused" in result.output
    assert "not-a-token" not in result.output
