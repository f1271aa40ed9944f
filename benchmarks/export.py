"""Export scenario (issue 5): every lead to CSV through the real API, streamed.

  export to CSV                GET /api/v1/leads/export?format=csv as admin, the default
                               columns, in a process of its own
                               < 30 s per 1,000,000 leads; peak memory < 200 MB

The export runs in a child process that reads the streamed response chunk by chunk and counts
rows, as a browser saving the file would. It is started through benchmarks.peak_memory, so its
peak memory is its own (a child forked straight from the benchmark, which may just have
generated the leads, would inherit the benchmark's high-water mark).

`python -m benchmarks.export --size N` runs it on data already loaded
(`--load` loads N leads first when the database does not hold them).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from benchmarks import databases, processes, report
from benchmarks.databases import Target
from benchmarks.queries import EMAILS
from benchmarks.scenarios import api_key, make_app
from benchmarks.timing import Result
from leadhub.auth.models import User
from leadhub.extensions import db

TARGET_S = 30.0  # for 1,000,000 leads
MEMORY_MB = 200.0
MILLION = 1_000_000


@dataclass
class ExportResult(Result):
    """An export passes on time and on memory."""

    peak_mb: float = 0.0

    @property
    def passed(self) -> bool | None:
        return self.p95_ms < (self.target_ms or 0) and self.peak_mb < MEMORY_MB


def export_once(url: str, fmt: str = "csv") -> dict[str, Any]:
    """One export of every lead as the admin, run in a process of its own (see run)."""
    app = make_app(url)
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.email == EMAILS["admin"]))
        key = api_key(admin)
        db.session.remove()
    client = app.test_client()
    started = time.perf_counter()
    response = client.get(
        f"/api/v1/leads/export?format={fmt}",
        headers={"Authorization": f"Bearer {key}"},
        buffered=False,
    )
    if response.status_code != 200:
        raise RuntimeError(f"export answered {response.status_code}: {response.get_data()[:500]}")
    size = lines = 0
    for chunk in response.response:
        size += len(chunk)
        lines += chunk.count(b"\n")
    response.close()
    seconds = time.perf_counter() - started
    # CSV: one header line; a quoted field with a line break would add lines, which names lack.
    return {"seconds": seconds, "rows": lines - 1, "bytes": size}


CHILD = "import json, sys; from benchmarks.export import export_once; " + (
    "print(json.dumps(export_once(sys.argv[1])))"
)


def run(t: Target, *, log: Callable[[str], None]) -> ExportResult:
    log("export of every lead to CSV (a process of its own)")
    found, finished = processes.answer_of(
        CHILD, t.url, log=databases.DATA / "logs" / f"export-{t.name}.log", timeout=1800
    )
    peak_mb = finished.peak_rss_mb
    seconds, rows, size = (found[k] for k in ("seconds", "rows", "bytes"))
    target_s = TARGET_S * max(rows, 1) / MILLION
    ms = round(seconds * 1000, 1)
    return ExportResult(
        scenario=f"export to CSV, {rows:,} leads",
        role="admin",
        iterations=1,
        p50_ms=ms,
        p95_ms=ms,
        max_ms=ms,
        target_ms=round(target_s * 1000, 1),
        note=(
            f"{rows / seconds:,.0f} rows/s, so {seconds * MILLION / max(rows, 1):.1f} s per "
            f"million (target {TARGET_S:.0f} s); {size / 2**20:,.1f} MiB; peak memory "
            f"{peak_mb:.0f} MB (target < {MEMORY_MB:.0f} MB)"
        ),
        peak_mb=peak_mb,
    )


def main(argv: list[str] | None = None) -> int:
    """Only the export scenario, printed (benchmarks/results/ is left alone)."""
    from rich.console import Console

    from benchmarks.load import loaded_targets, standalone_parser

    args = standalone_parser("python -m benchmarks.export", __doc__).parse_args(argv)
    console = Console() if sys.stdout.isatty() else Console(width=220)
    for t in loaded_targets(args, console.print):
        result = run(t, log=lambda m: console.print(f"  {m}", style="dim"))
        report.print_results(console, f"{t.name}: export, {args.size:,} leads", [result])
    return 0


if __name__ == "__main__":
    sys.exit(main())
