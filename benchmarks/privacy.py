"""Privacy scenario (issue 10): what the access records cost an export.

  export with access records     GET /api/v1/leads/export?format=csv as admin: one access
                                 record per export and one access_record_lead row per lead,
                                 written per export batch (2,000 rows in one multi-row insert)
  export without access records  the same export with the recorder switched off

Both run in this process through the real API, alternately (each first in every other round),
`--repeat` times each (the first pair warms caches and is not counted); the median of each is
reported with the difference.
Target: the records add less than 25 % to an export.

`python -m benchmarks.privacy --size N` runs it on data already loaded (`--load` loads N
leads first). Use your own database files (--sqlite-path, --postgresql-url) when others share
the machine.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, func, select

from benchmarks.databases import Target
from benchmarks.queries import EMAILS
from benchmarks.scenarios import api_key, make_app
from leadhub.auth.models import User
from leadhub.extensions import db
from leadhub.privacy import access
from leadhub.privacy.models import AccessRecord, AccessRecordLead

TARGET_OVERHEAD = 0.25


def _export(client: Any, key: str) -> int:
    response = client.get(
        "/api/v1/leads/export?format=csv",
        headers={"Authorization": f"Bearer {key}"},
        buffered=False,
    )
    if response.status_code != 200:
        raise RuntimeError(f"export answered {response.status_code}: {response.get_data()[:300]}")
    lines = sum(chunk.count(b"\n") for chunk in response.response)
    response.close()
    return lines - 1


def _no_recorder(session: Any, *, user: Any) -> Callable[[list[int]], None]:
    return lambda ids: None


def measure(url: str, *, repeat: int) -> dict[str, Any]:
    """Median seconds of the export with and without access records, and the rows written."""
    app = make_app(url)
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.email == EMAILS["admin"]))
        key = api_key(admin)
        db.session.remove()
    client = app.test_client()
    recorder = access.export_recorder
    timings: dict[str, list[float]] = {"with": [], "without": []}
    rows = written = 0
    try:
        for round_ in range(repeat + 1):
            # alternate which goes first: work one leaves behind (a WAL checkpoint) is shared
            for mode in ("with", "without") if round_ % 2 else ("without", "with"):
                access.export_recorder = recorder if mode == "with" else _no_recorder
                started = time.perf_counter()
                rows = _export(client, key)
                if round_:
                    timings[mode].append(time.perf_counter() - started)
        with app.app_context():
            written = db.session.scalar(select(func.count()).select_from(AccessRecordLead))
            records = db.session.scalars(
                select(AccessRecord.id).where(AccessRecord.actor_id == admin.id)
            ).all()
            # leave the database as it was: the benchmark's own records go
            db.session.execute(
                delete(AccessRecordLead).where(AccessRecordLead.record_id.in_(records))
            )
            db.session.execute(delete(AccessRecord).where(AccessRecord.id.in_(records)))
            db.session.commit()
    finally:
        access.export_recorder = recorder
    with_s = statistics.median(timings["with"])
    without_s = statistics.median(timings["without"])
    return {
        "rows": rows,
        "with_s": with_s,
        "without_s": without_s,
        "overhead": (with_s - without_s) / without_s if without_s else 0.0,
        "rows_written": written,
        "exports_recorded": len(records),
    }


def main(argv: list[str] | None = None) -> int:
    from rich.console import Console
    from rich.table import Table

    from benchmarks.load import loaded_targets, standalone_parser

    parser = standalone_parser("python -m benchmarks.privacy", __doc__)
    parser.add_argument("--repeat", type=int, default=3, help="measured exports of each kind")
    args = parser.parse_args(argv)
    console = Console() if sys.stdout.isatty() else Console(width=200)
    failed = False
    for t in loaded_targets(args, console.print):
        found = run(t, repeat=args.repeat)
        table = Table(
            title=f"{t.name}: export with and without access records, {args.size:,} leads"
        )
        for column in ("rows", "with records", "without", "overhead", "target", "result", "note"):
            table.add_column(column)
        ok = found["overhead"] < TARGET_OVERHEAD
        failed |= not ok
        table.add_row(
            f"{found['rows']:,}",
            f"{found['with_s']:.2f} s",
            f"{found['without_s']:.2f} s",
            f"{found['overhead']:+.0%}",
            f"< {TARGET_OVERHEAD:.0%}",
            "pass" if ok else "FAIL",
            f"{found['rows_written']:,} access rows for {found['exports_recorded']} exports",
        )
        console.print(table)
    return 1 if failed else 0


def run(t: Target, *, repeat: int = 3) -> dict[str, Any]:
    return measure(t.url, repeat=repeat)


if __name__ == "__main__":
    sys.exit(main())
