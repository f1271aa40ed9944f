"""`python -m benchmarks`: load N leads into SQLite and PostgreSQL, time the desk, report."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from benchmarks import databases, report, scenarios
from benchmarks.databases import Target
from benchmarks.load import describe, load, loaded_size
from leadhub.migrate import upgrade

DESCRIPTION = """\
Load a realistic data set of N leads (distributors, 200 staff, Meta ids, Turkish, Arabic and
English names, 5% duplicates, 1% deleted, search terms and status counts as the app keeps them)
into each database, then time the lead desk through the real Flask app, signed in as an admin,
a manager (one distributor) and an agent:

  load                         generate + write + indexes + ANALYZE            target < 180 s
  list, first page             /leads with 50 filter combinations, 25-100 rows  p95 < 50 ms
  list, page 21                /leads at a cursor found 20 pages deep via the API  p95 < 50 ms
  search                       /leads?q= by phone (3 spellings), e-mail, name    p95 < 50 ms
  lead page, 50 interactions   /leads/<id> with its timeline                    p95 < 30 ms
  API list, first page         /api/v1/leads (report only)

Results go to the terminal and to benchmarks/results/latest.json and latest.md. The exit code
is 0 even when a target is missed: this is a report, and misses are listed in red at the end.
PostgreSQL uses its own database (created when missing); the tests' database is never touched.
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--size", type=int, default=1_000_000, help="number of leads (default: 1000000)"
    )
    parser.add_argument(
        "--databases",
        default="sqlite,postgresql",
        help="comma-separated, from: sqlite, postgresql (default: both)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="skip loading when a database already holds exactly --size leads (indexes are "
        "still brought in line with the models, so index changes take effect)",
    )
    parser.add_argument(
        "--iterations",
        type=int,
        default=scenarios.ITERATIONS,
        help=f"timed requests per scenario, after one warm-up pass (default: "
        f"{scenarios.ITERATIONS})",
    )
    parser.add_argument(
        "--seed", type=int, default=2026, help="random seed for data and scenarios (default: 2026)"
    )
    parser.add_argument(
        "--sqlite-path",
        type=Path,
        default=databases.SQLITE_PATH,
        help=f"SQLite file (default: {databases.SQLITE_PATH})",
    )
    parser.add_argument(
        "--postgresql-url",
        default=databases.POSTGRESQL_URL,
        help=f"PostgreSQL database of its own (default: {databases.POSTGRESQL_URL})",
    )
    parser.add_argument(
        "--load-only", action="store_true", help="load the data and report its time, no scenarios"
    )
    args = parser.parse_args(argv)
    if args.size < 1000:
        parser.error("--size must be at least 1000")
    return args


def _sidecar(t: Target) -> Path:
    return databases.DATA / f"load-{t.name}.json"


def _version(t: Target) -> str:
    """The server and the settings that matter most for these timings."""
    engine = databases.engine_for(t)
    with engine.connect() as conn:
        if t.is_sqlite:
            version = f"SQLite {conn.exec_driver_sql('SELECT sqlite_version()').scalar()}"
        else:
            show = {n: conn.exec_driver_sql(f"SHOW {n}").scalar() for n in ("shared_buffers",)}
            version = f"PostgreSQL {conn.exec_driver_sql('SHOW server_version').scalar()}"
            version += "".join(f", {name} {value}" for name, value in show.items())
    engine.dispose()
    return version


def prepare(t: Target, args: argparse.Namespace, console: Console) -> dict[str, Any]:
    """Load the data (or reuse it) and say how long loading took."""
    if args.reuse and loaded_size(t) == args.size:
        upgrade(t.url)  # migrations written since the load
        engine = databases.engine_for(t)
        changed = databases.create_indexes(engine)
        engine.dispose()
        if changed:
            console.print(f"  indexes rebuilt to match the models: {', '.join(changed)}")
            databases.analyze(t, databases.engine_for(t))
        earlier = json.loads(_sidecar(t).read_text()) if _sidecar(t).exists() else {}
        console.print(f"  reusing {args.size:,} leads (loaded {earlier.get('at', 'earlier')})")
        seconds = float(earlier["seconds"]) if earlier.get("size") == args.size else None
        return report.load_result(seconds, reused=True, steps=earlier.get("steps", {}))
    with Progress(
        TextColumn("  {task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} leads"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("generating and writing", total=args.size)

        def advance(stage: str, n: int) -> None:
            if stage == "write":
                progress.advance(task, n)
            else:
                progress.update(task, description=f"building {stage}")

        result = load(t, size=args.size, seed=args.seed, progress=advance)
    console.print(f"  loaded in {result.seconds:.1f} s: {describe(result)}")
    record = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "size": args.size,
        "seconds": round(result.seconds, 1),
        "steps": result.steps,
        "rows": result.rows,
    }
    databases.DATA.mkdir(parents=True, exist_ok=True)
    _sidecar(t).write_text(json.dumps(record, indent=2))
    return report.load_result(result.seconds, reused=False, steps=result.steps)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console() if sys.stdout.isatty() else Console(width=140)
    started = datetime.now(UTC)
    host = report.machine()  # the load average before we add to it
    os.environ.setdefault("LEADHUB_INSTANCE_PATH", str(databases.DATA / "instance"))
    names = [n.strip() for n in args.databases.split(",") if n.strip()]
    targets = [
        databases.target(n, sqlite_path=args.sqlite_path, postgresql_url=args.postgresql_url)
        for n in names
    ]
    runs: dict[str, dict[str, Any]] = {}
    for t in targets:
        console.rule(f"{t.name}: {args.size:,} leads")
        load_row = prepare(t, args, console)
        rows = [load_row]
        before = [round(x, 2) for x in os.getloadavg()]
        if not args.load_only:
            results = scenarios.run_all(
                t.url,
                seed=args.seed,
                iterations=args.iterations,
                log=lambda message: console.print(f"  {message}", style="dim"),
            )
            rows += [report.as_row(r) for r in results]
        runs[t.name] = {
            "version": _version(t),
            # Other work on the machine shows here; our own run adds about 1.
            "load_average_during": {
                "before": before,
                "after": [round(x, 2) for x in os.getloadavg()],
            },
            "results": rows,
        }
    built = report.build(runs, size=args.size, started=started, host=host)
    json_path, md_path = report.write(built)
    report.print_table(built, console)
    console.print(f"Written: {json_path}, {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
