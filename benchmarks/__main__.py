"""`python -m benchmarks`: load N leads into SQLite and PostgreSQL, time the desk and the Meta
intake, report."""

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

from benchmarks import (
    analytics,
    assignment,
    bulk,
    databases,
    export,
    meta,
    meta_site,
    notifications,
    realtime,
    report,
    scenarios,
    scoring,
)
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
  export to CSV (issue 5)      every lead, streamed, own process: < 30 s per million, < 200 MB
  bulk (issue 5)               status change and round-robin assignment of 100,000 leads,
                               each undone after: < 10 s (PostgreSQL), < 20 s (SQLite)
  analytics (issue 8)          each panel's API, 3 interactions a lead: p95 < 300 ms
                               (PostgreSQL), < 1 s (SQLite); a monthly PDF report < 3 s
  scoring one lead, dashboard  engine p95 < 1 ms; /api/v1/scoring/summary p95 < 200 ms
  full rescore (issue 4)       every lead in batches: 60 s (PostgreSQL), 120 s (SQLite) per
                               million, < 300 MB; it rewrites the scores, so it runs last

Then the Meta intake (issue 3), in a database of its own (a SQLite file in a temporary folder;
PostgreSQL: the bench database's name + `_meta`), with LeadHub's Meta simulator playing Meta
and LeadHub run as production runs it (`leadhub serve` and `leadhub worker` processes, Redis):

  webhook ack at 100/s         signed POSTs, open loop, from the scheduled time    p99 < 20 ms
  webhook throughput           flat out beside a bare Flask app, same server      >= 50% of it
  backfill 100,000 leads       `leadhub meta backfill` as a process     >= 1,000 leads/s, < 300 MB
  webhook -> lead in API       300 simulated leads at 10/s, API read every 20 ms    p95 < 1 s
  round robin (issue 5)        50 threads create 1,000 leads at once (a database of its own):
                               the per-agent spread differs by at most 1
  notifications (issue 6)      bursts of 1,000 webhook leads with the notification subscribers
                               off and on, in turns: ack p95 within 10%; all queued within 5 s

With the SQLite run, the real-time fan-out (issue 7) against `leadhub serve` as a newcomer
runs it (embedded default, a fresh database of its own):

  idle connections             500 Socket.IO clients connected        < 200 MB more in the server
  fan-out                      a lead made through the API reaches all 500    p95 < 500 ms
  stats burst                  100 leads: stats_updated per room               <= 2 a second

--only meta runs just the Meta intake (no data set is loaded); --only realtime just the
fan-out; --only desk all but those two.

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
    parser.add_argument(
        "--only",
        choices=("desk", "meta", "realtime"),
        help="run only the scenarios on the loaded data set (desk, export, scoring), only "
        "the Meta intake's (issue 3, no data set loaded) or only the real-time fan-out "
        "(issue 7: `leadhub serve` on SQLite with 500 Socket.IO clients)",
    )
    parser.add_argument(
        "--backfill-leads",
        type=int,
        default=meta.BACKFILL_LEADS,
        help=f"leads on the simulated form the backfill reads (default: {meta.BACKFILL_LEADS})",
    )
    parser.add_argument(
        "--webhook-seconds",
        type=float,
        default=meta.ACK_SECONDS,
        help=f"length of the steady webhook load (default: {meta.ACK_SECONDS:.0f})",
    )
    parser.add_argument(
        "--redis-url",
        default=meta_site.REDIS_URL,
        help=f"Redis database for the Meta scenarios' job queue, emptied before and after "
        f"(default: {meta_site.REDIS_URL})",
    )
    args = parser.parse_args(argv)
    if args.size < 1000:
        parser.error("--size must be at least 1000")
    if args.load_only and args.only == "meta":
        parser.error("--load-only loads the desk's data; it does not go with --only meta")
    return args


def _sidecar(t: Target) -> Path:
    return databases.DATA / f"load-{t.name}.json"


def _version(t: Target) -> str:
    """The server and the settings that matter most for these timings."""
    # SQLite's version is the library's: no need to open (or create) the bench file.
    engine = databases.make_engine("sqlite://") if t.is_sqlite else databases.engine_for(t)
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
    desk = args.only not in ("meta", "realtime")
    with_meta = args.only in (None, "meta") and not args.load_only
    with_realtime = args.only in (None, "realtime") and not args.load_only
    runs: dict[str, dict[str, Any]] = {}

    def log(message: str) -> None:
        console.print(f"  {message}", style="dim")

    for t in targets:
        if not desk and not with_meta and t.name != "sqlite":
            continue  # --only realtime: one SQLite server of its own
        rows: list[dict[str, Any]] = []
        before = [round(x, 2) for x in os.getloadavg()]
        if desk:
            console.rule(f"{t.name}: {args.size:,} leads")
            rows.append(prepare(t, args, console))
            before = [round(x, 2) for x in os.getloadavg()]
        if desk and not args.load_only:
            results = scenarios.run_all(t.url, seed=args.seed, iterations=args.iterations, log=log)
            results.append(export.run(t, log=log))
            results += bulk.run_all(t, bulk=min(bulk.BULK, args.size // 2), log=log)
            results += analytics.run_all(t, iterations=args.iterations, log=log)
            results += scoring.run_all(t, iterations=args.iterations, log=log)
            rows += [report.as_row(r) for r in results]
        if with_realtime and t.name == "sqlite":  # the embedded default a newcomer runs
            console.rule("real-time fan-out (`leadhub serve`, SQLite)")
            rows += realtime.run()
        if with_meta:
            console.rule(f"{t.name}: Meta intake")
            rows += meta.run_all(
                t,
                seed=args.seed,
                backfill_leads=args.backfill_leads,
                webhook_seconds=args.webhook_seconds,
                redis_url=args.redis_url,
                log=log,
            )
            rows += assignment.run_all(t.name, log=log)
            rows += notifications.run_all(t, size=notifications.BURST, seed=args.seed, log=log)
        # With --only meta the desk's PostgreSQL database may not exist; the Meta one does.
        runs[t.name] = {
            "version": (
                _version(t if desk else meta_site.meta_target(t, databases.DATA))
                if desk or with_meta
                else "leadhub serve on SQLite"
            ),
            # Other work on the machine shows here; our own run adds about 1.
            "load_average_during": {
                "before": before,
                "after": [round(x, 2) for x in os.getloadavg()],
            },
            "results": rows,
        }
    built = report.build(runs, size=args.size if desk else 0, started=started, host=host)
    json_path, md_path = report.write(built)
    report.print_table(built, console)
    console.print(f"Written: {json_path}, {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
