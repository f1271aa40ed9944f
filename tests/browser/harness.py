"""The pieces of the browser harness: a live server for the app and a page wrapper with guards.

The fixtures that assemble them are in conftest.py next to this file.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import ConsoleMessage, Dialog, Page, Response, expect
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from leadhub.auth.models import User
from tests.factories import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
)
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
TIMEOUT_MS = 15_000  # a page of this app loads in milliseconds; fail fast when it does not

log = logging.getLogger("werkzeug")


class _QuietHandler(WSGIRequestHandler):
    """Request lines at DEBUG on the `werkzeug` logger: pytest shows them when a test fails."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug('"%s" %s %s', self.requestline, code, size)


@dataclass(frozen=True)
class LiveServer:
    url: str
    # Held while the server answers a request. A test that uses the database itself while the
    # page is open (a job run in the test) holds it too (`paused`): the one connection is
    # never used by both at once, whatever the page asks for meanwhile (polls, its icon).
    busy: threading.Lock = field(default_factory=threading.Lock)

    def paused(self) -> threading.Lock:
        return self.busy

    def __call__(self, path: str = "/") -> str:
        return self.url + path


@contextmanager
def serve(app: Any) -> Iterator[LiveServer]:
    """`app` on 127.0.0.1 at a free port, one request at a time, in a background thread.

    Single-threaded on purpose: every request uses the one database connection of the test
    (see `db_session` in tests/conftest.py), so requests must never overlap. Werkzeug speaks
    HTTP/1.0 when single-threaded, so no idle keep-alive connection holds the only worker.
    """
    busy = threading.Lock()

    def one_at_a_time(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with busy:
            response = app(environ, start_response)
            try:
                return [b"".join(response)]  # the whole body while the lock is held
            finally:
                getattr(response, "close", lambda: None)()

    server: BaseWSGIServer = make_server(
        "127.0.0.1", 0, one_at_a_time, threaded=False, request_handler=_QuietHandler
    )
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name=f"live-server-{server.port}",
        daemon=True,
    )
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.port}", busy)
    finally:
        server.shutdown()  # waits for the request in progress, then ends serve_forever
        thread.join(timeout=10)
        server.server_close()
    if thread.is_alive():
        raise RuntimeError("the live server thread did not stop")


@dataclass
class Desk:
    """A browser tab on the live LeadHub, and what the page reported while the test ran."""

    page: Page
    server: LiveServer
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def watch(self) -> None:
        """Record console errors and uncaught errors; record and dismiss any dialog."""

        def on_dialog(dialog: Dialog) -> None:
            self.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                self.console_errors.append(message.text)

        self.page.on("dialog", on_dialog)
        self.page.on("console", on_console)
        self.page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    def url(self, path: str = "/") -> str:
        return self.server(path)

    def goto(self, path: str) -> Response:
        response = self.page.goto(self.url(path))
        assert response is not None, f"no response for {path}"
        return response

    def sign_in(self, user: User, password: str = PASSWORD) -> None:
        """Through the real sign-in form (its CSRF token included), landing on the lead list."""
        page = self.page
        self.goto("/login")
        form = page.locator("form[action='/login']")
        form.get_by_label("Email").fill(user.email)
        form.get_by_label("Password").fill(password)
        form.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(self.url("/leads"))
        # The URL changes before the page's deferred scripts run; as goto() does, wait for them,
        # or a control used at once (the language picker submits on change) has no listener yet.
        page.wait_for_load_state("load")

    def sign_out(self) -> None:
        self.page.locator("form[action='/logout'] button[type=submit]").click()
        expect(self.page).to_have_url(re.compile(re.escape(self.url("/login"))))

    def screenshot(self, name: str) -> Path:
        """A full-page PNG in tests/artifacts/ (git-ignored)."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / name
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def csp_violations(self) -> list[str]:
        return [text for text in self.console_errors if "Content Security Policy" in text]
