"""Real processes for tests: a database of their own, a live server, a `leadhub worker`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.serving import WSGIRequestHandler, make_server

from leadhub.db import Base

POLL_SECONDS = 0.02


def fresh_database(database_url: str, folder: Path, name: str) -> str:
    """An empty database other processes can see: a SQLite file, or `name` on PostgreSQL."""
    if not database_url.startswith("postgresql"):
        return f"sqlite:///{folder / f'{name}.db'}"
    url = make_url(database_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            found = conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if not found:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    fresh = url.set(database=name).render_as_string(hide_password=False)
    engine = create_engine(fresh)
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    return fresh


class Gate:
    """WSGI middleware that can hold requests at the door, counting the ones it holds."""

    def __init__(self, app: Any, *, hold_at_most: float = 30.0) -> None:
        self.app = app
        self.hold_at_most = hold_at_most
        self._open = threading.Event()
        self._open.set()
        self._lock = threading.Lock()
        self._held = 0

    @property
    def held(self) -> int:
        with self._lock:
            return self._held

    def close(self) -> None:
        self._open.clear()

    def open(self) -> None:
        self._open.set()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if not self._open.is_set():
            with self._lock:
                self._held += 1
            self._open.wait(self.hold_at_most)
        return self.app(environ, start_response)


class _QuietHandler(WSGIRequestHandler):
    """No request lines: Graph URLs carry access tokens, and hundreds of lines say nothing."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """A WSGI app on a free port of 127.0.0.1, one thread per request, until the block ends."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class Worker:
    """`leadhub worker` as a process of its own; what it prints goes to a file."""

    def __init__(self, env: dict[str, str], log_path: Path, *args: str) -> None:
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [sys.executable, "-m", "leadhub.cli", "worker", *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no handler runs, no job finishes, no transaction commits."""
        if self.running:
            os.kill(self.process.pid, signal.SIGKILL)
        self._reap()

    def stop(self) -> None:
        """Ctrl-C, as an operator would stop it: running jobs finish first."""
        if self.running:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._reap()

    def _reap(self) -> None:
        self.process.wait(15)
        self._log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def summary(self) -> str:
        """Its first traceback, if any, and how its output ends: for a failing test's message."""
        text = self.output()
        first = text.find("Traceback")
        head = text[first : first + 3000] + "\n[...]\n" if first >= 0 else ""
        return f"--- {self.log_path.name}\n{head}{text[-1500:]}"


def wait_for(
    condition: Callable[[], bool],
    *,
    what: str,
    timeout: float = 60.0,
    workers: Iterable[Worker] = (),
) -> None:
    """Poll until `condition` holds; fail with the workers' output if it never does."""
    workers = list(workers)
    deadline = time.monotonic() + timeout
    while not condition():
        stopped = [w for w in workers if not w.running]
        if stopped or time.monotonic() > deadline:
            reason = "a worker exited" if stopped else f"nothing after {timeout:g} s"
            outputs = "\n".join(w.summary() for w in workers)
            raise AssertionError(f"waiting for {what}: {reason}\n{outputs}")
        time.sleep(POLL_SECONDS)
