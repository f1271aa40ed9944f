"""Browser tests: Debian's chromium, driven by pytest-playwright, against a live LeadHub.

The server is the session's `app` (tests/conftest.py) behind a single-threaded werkzeug server
on 127.0.0.1 (harness.serve). The autouse `db_session` fixture binds the app's scoped session to
one connection inside a transaction that is rolled back after the test; serving one request at a
time keeps that connection used by one thread at a time, and the browser sees the rows the test
committed (a commit only releases a SAVEPOINT).

Never `playwright install` here: chromium comes from Debian (`apt-get install chromium`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from leadhub.auth.models import User
from leadhub.db import db
from tests.browser.harness import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, Desk, LiveServer, serve
from tests.realtime.conftest import (  # noqa: F401 - fixtures: a threaded server, its database
    Live,
    live,
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without Debian's chromium these tests cannot run: say so instead of failing obscurely."""
    if os.access(CHROMIUM, os.X_OK):
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing: apt-get install -y chromium")
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(skip)


_ARTIFACTS_FOLDER = pytest.StashKey["tempfile.TemporaryDirectory[str]"]()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Remove pytest-playwright's temporary artifacts folder when the session ends.

    The plugin removes it in a config cleanup; a pytest-xdist worker can be shut down before
    that runs, and the folder's finalizer then warns "ResourceWarning: Implicitly cleaning up
    <TemporaryDirectory ...>" at exit. Every test has handed over its artifacts by now, and a
    second cleanup() (the plugin's) does nothing.
    """
    folder = session.config.stash.get(_ARTIFACTS_FOLDER, None)
    if folder is not None:
        folder.cleanup()


# --- the browser (one per session, pytest-playwright's `browser` fixture) ----------------------


@pytest.fixture(scope="session")
def browser_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """HOME and XDG folders for chromium, so it neither needs nor writes the real HOME."""
    home = tmp_path_factory.mktemp("chromium-home")
    for sub in (".config", ".cache", ".local/share"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    return home


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any], browser_home: Path
) -> dict[str, Any]:
    """Debian's chromium, headless. Playwright gives it a temporary profile (--user-data-dir)."""
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "headless": True,
        "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS],
        "env": {
            **os.environ,
            "HOME": str(browser_home),
            "XDG_CONFIG_HOME": str(browser_home / ".config"),
            "XDG_CACHE_HOME": str(browser_home / ".cache"),
            "XDG_DATA_HOME": str(browser_home / ".local/share"),
        },
    }


@pytest.fixture(scope="session")
def base_url(pytestconfig: pytest.Config) -> str | None:
    """Replaces pytest-playwright 0.10's fallback `base_url` (used without pytest-base-url).

    That one is a session fixture defined as an instance method, which pytest 9 deprecates with
    a PytestRemovedIn10Warning: an error under `filterwarnings = error`. The tests build absolute
    URLs from `live_server`, so this only keeps `--base-url` working.
    """
    return pytestconfig.getoption("--base-url", default=None) or None


@pytest.fixture(scope="session")
def browser_context_args(
    browser_context_args: dict[str, Any],
    _pw_artifacts_folder: tempfile.TemporaryDirectory[str],
    pytestconfig: pytest.Config,
) -> dict[str, Any]:
    """English, UTC, one desktop size: texts and screenshots do not depend on the machine."""
    pytestconfig.stash[_ARTIFACTS_FOLDER] = _pw_artifacts_folder
    return {
        **browser_context_args,
        "locale": "en-US",
        "timezone_id": "UTC",
        "viewport": {"width": 1280, "height": 900},
    }


# --- the live server and the page --------------------------------------------------------------


@pytest.fixture
def live_server(app: Any, db_session: Any) -> Iterator[LiveServer]:
    """The app served for this test only; stopped (thread joined, socket closed) after it."""
    with serve(app) as server:
        yield server


def _watched(page: Page, server: LiveServer, *, csp: bool = False) -> Iterator[Desk]:
    """A page on `server`; a JavaScript dialog or an uncaught page error fails the test."""
    page.set_default_timeout(TIMEOUT_MS)
    page.set_default_navigation_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    desk = Desk(page=page, server=server)
    desk.watch()
    yield desk
    assert desk.dialogs == [], f"a JavaScript dialog opened: {desk.dialogs}"
    assert desk.page_errors == [], f"uncaught errors in the page: {desk.page_errors}"
    if csp:
        assert desk.csp_violations() == []


@pytest.fixture
def desk(live_server: LiveServer, page: Page) -> Iterator[Desk]:
    """A page on the live server.

    `live_server` is set up before `page`, so the browser context is closed before the server
    stops.
    """
    yield from _watched(page, live_server)


@pytest.fixture
def live_desk(live: Live, page: Page) -> Iterator[Desk]:  # noqa: F811 - the imported fixture
    """A tab on the threaded live server (Socket.IO needs one); `live` stops after the page."""
    yield from _watched(page, LiveServer(live.url), csp=True)


@pytest.fixture
def signed_in(desk: Desk, users: dict[str, User]) -> Callable[[str], User]:
    """Commit what the test made, then sign in as one of `users` through the sign-in form."""

    def sign_in(who: str) -> User:
        db.session.commit()  # releases the test's SAVEPOINT; the outer transaction rolls back
        user = users[who]
        desk.sign_in(user)
        return user

    return sign_in
