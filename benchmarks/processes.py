"""Real processes for the Meta scenarios: `leadhub serve`, `leadhub worker`, a backfill.

Each runs as its own process group on a free port, logs to a file, and is stopped (then killed
if it must be) when its scenario ends, whatever happened in it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent  # `python -m benchmarks...` runs from here
BIN = Path(sys.executable).parent
LEADHUB = str(BIN / "leadhub")
# Settings of the shell that must not leak into the processes a scenario starts.
LEADHUB_SETTINGS = (
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "LEADHUB_ENCRYPTION_KEY",
    "LEADHUB_ENV",
    "API_RATE_LIMIT",
    "LEADHUB_INSTANCE_PATH",
    "META_APP_ID",
    "META_APP_SECRET",
    "META_VERIFY_TOKEN",
    "META_GRAPH_URL",
    "META_GRAPH_VERSION",
    "PORT",
    "PUBLIC_BASE_URL",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(settings: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without LeadHub's settings, then `settings`."""
    env = {k: v for k, v in os.environ.items() if k not in LEADHUB_SETTINGS}
    return env | {"PYTHONUNBUFFERED": "1"} | dict(settings)


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _stop(process: subprocess.Popen[bytes], grace: float = 15.0) -> None:
    """SIGTERM to the process group, then SIGKILL if it is still there after `grace` seconds."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def running(
    argv: list[str],
    *,
    env: Mapping[str, str],
    log: Path,
    ready_url: str | None = None,
    timeout: float = 60.0,
) -> Iterator[subprocess.Popen[bytes]]:
    """A process for the length of the block; with `ready_url`, once that answers 200."""
    process = _spawn(argv, env=env, log=log, mode="ab")
    try:
        if ready_url:
            _wait_ready(process, ready_url, log, timeout)
        yield process
    finally:
        _stop(process)


def _spawn(
    argv: list[str], *, env: Mapping[str, str], log: Path, mode: str
) -> subprocess.Popen[bytes]:
    """Start one of our own commands in its own session, its output into `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open(mode) as output:
        return subprocess.Popen(  # noqa: S603 - our own commands
            argv,
            cwd=ROOT,
            env=dict(env),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}:\n{tail(log)}")
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s:\n{tail(log)}")


@dataclass(frozen=True)
class Finished:
    """A command run to its end: exit code, wall and CPU time, its own peak resident memory."""

    returncode: int
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    output: str


def run_measured(argv: list[str], *, env: Mapping[str, str], log: Path, timeout: float) -> Finished:
    """Run a command to its end through benchmarks.peak_memory, which reads its peak RSS."""
    report = log.with_suffix(".memory.json")
    report.unlink(missing_ok=True)
    launcher = [sys.executable, "-m", "benchmarks.peak_memory", str(report), "--", *argv]
    process = _spawn(launcher, env=env, log=log, mode="wb")
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        _stop(process, grace=5.0)
        raise RuntimeError(f"{argv[0]} ran past {timeout:.0f} s:\n{tail(log)}") from None
    finally:
        _stop(process)
    if not report.exists():
        raise RuntimeError(f"{argv[0]} left no measurement ({process.returncode}):\n{tail(log)}")
    measured = json.loads(report.read_text())
    return Finished(
        returncode=int(measured["returncode"]),
        seconds=float(measured["seconds"]),
        cpu_seconds=float(measured["cpu_seconds"]),
        peak_rss_mb=measured["peak_rss_kb"] / 1024,
        output=log.read_text(errors="replace"),
    )


def answer_of(code: str, *args: str, log: Path, timeout: float) -> tuple[dict[str, Any], Finished]:
    """Run `python -c code args...` measured (run_measured); its last JSON line is its answer."""
    finished = run_measured(
        [sys.executable, "-c", code, *args], env=os.environ, log=log, timeout=timeout
    )
    if finished.returncode != 0:
        raise RuntimeError(f"the child exited with {finished.returncode}:\n{tail(log)}")
    answers = [line for line in finished.output.splitlines() if line.startswith("{")]
    if not answers:
        raise RuntimeError(f"the child printed no answer:\n{tail(log)}")
    return json.loads(answers[-1]), finished
