"""Scoring scenarios (issue 4): one lead, the dashboard's data, a full rescore of every lead.

  scoring one lead             engine.score on loaded leads, facts built per call  p95 < 1 ms
  scoring dashboard data       /api/v1/scoring/summary as admin, manager, agent    p95 < 200 ms
  scoring dashboard page       /scoring, and the desk's three recommended lists (report only)
  full rescore                 new rules saved: every lead, batches in a process of its own
                               < 60 s PostgreSQL, < 120 s SQLite per 1,000,000; < 300 MB

The rescore is the one a superadmin starts by saving new rules: it saves a new rule-set version
(two weightings in turn, so nearly every score changes) and rewrites every lead's score with it,
so it runs last; afterwards the tables are vacuumed and analyzed as autovacuum would, outside
the timing.

`python -m benchmarks` runs these after the desk's; `python -m benchmarks.scoring --size N`
runs them alone on data already loaded (`python -m benchmarks --size N --load-only`).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from benchmarks import databases, processes, report
from benchmarks.databases import Target
from benchmarks.queries import EMAILS, ROLES, gather_facts
from benchmarks.scenarios import api_key, make_app, sign_in
from benchmarks.timing import ITERATIONS, Result, SqlClock, measure, percentile
from leadhub.db import utcnow
from leadhub.extensions import db
from leadhub.leads.models import Lead
from leadhub.scoring import engine, jobs, service
from leadhub.scoring.batch import FACT_COLUMNS
from leadhub.scoring.defaults import DEFAULT_RULE_SET
from leadhub.scoring.engine import LeadFacts
from leadhub.scoring.schemas import RuleSetInput

ONE_LEAD_TARGET_MS = 1.0
DASHBOARD_TARGET_MS = 200.0
RESCORE_TARGET_S = {"sqlite": 120.0, "postgresql": 60.0}  # for 1,000,000 leads
RESCORE_MEMORY_MB = 300.0
MILLION = 1_000_000
SAMPLE = 5000
RECOMMENDATIONS = ("high_unassigned", "abandoned", "low_busy")


@dataclass
class RescoreResult(Result):
    """A rescore passes on time and on memory."""

    peak_mb: float = 0.0

    @property
    def passed(self) -> bool | None:
        timely = super().passed
        return None if timely is None else timely and self.peak_mb < RESCORE_MEMORY_MB


def one_lead(app: Any, *, iterations: int) -> Result:
    """Score sampled leads one at a time, as intake does: facts from a row, engagement given."""
    with app.app_context():
        session = db.session
        rules = service.active_rules(session)
        top = session.scalar(select(func.max(Lead.id))) or 0
        ids = list(range(1, top + 1, max(1, top // SAMPLE)))
        rows = session.execute(select(*FACT_COLUMNS).where(Lead.id.in_(ids))).all()
        engagement = service.engagement_of(session, [row.id for row in rows])
        db.session.remove()
    now = utcnow()
    none = engine.Engagement()
    timings = []
    for n in range(max(iterations * 50, len(rows))):
        lead_id, name, email, phone, treatment, answers, created, _, _ = rows[n % len(rows)]
        started = time.perf_counter()
        facts = LeadFacts(name, email, phone, treatment, answers or {}, created)
        engine.score(facts, engagement.get(lead_id, none), rules, now)
        timings.append((time.perf_counter() - started) * 1000)
    return Result(
        scenario="scoring one lead",
        role="-",
        iterations=len(timings),
        p50_ms=round(statistics.median(timings), 4),
        p95_ms=round(percentile(timings, 0.95), 4),
        max_ms=round(max(timings), 3),
        target_ms=ONE_LEAD_TARGET_MS,
        note=f"engine only (no query); {len(rows):,} loaded leads, each scored many times",
    )


def dashboard(app: Any, *, iterations: int, log: Callable[[str], None]) -> list[Result]:
    """The dashboard's JSON and page, and the desk's recommended lists, per role."""
    with app.app_context():
        facts = gather_facts(db.session)
        keys = {role: api_key(facts.users[role]) for role in ROLES}
        db.session.remove()
    api = app.test_client()
    clock = SqlClock(db.engine)
    results = []
    for role in ROLES:
        headers = {"Authorization": f"Bearer {keys[role]}"}
        log(f"{role}: scoring dashboard data")
        results.append(
            measure(
                "scoring dashboard data",
                role,
                ["/api/v1/scoring/summary"],
                lambda url, h=headers: api.get(url, headers=h),
                iterations=iterations,
                clock=clock,
                target_ms=DASHBOARD_TARGET_MS,
                note="levels, three recommendation counts, top 20",
            )
        )
        client = sign_in(app, EMAILS[role])
        results.append(
            measure(
                "scoring dashboard page",
                role,
                ["/scoring"],
                client.get,
                iterations=max(10, iterations // 4),
                clock=clock,
                target_ms=DASHBOARD_TARGET_MS,
                report_only=True,
                note="report only: the HTML page",
            )
        )
        results.append(
            measure(
                "desk, recommended lists",
                role,
                [f"/leads?recommendation={name}" for name in RECOMMENDATIONS]
                + [f"/leads?recommendation={name}&sort=score" for name in RECOMMENDATIONS],
                client.get,
                iterations=max(12, iterations // 4),
                clock=clock,
                target_ms=50.0,
                report_only=True,
                note="report only: first page of each list, newest and best first",
            )
        )
    return results


# A new rule-set version, as a superadmin saving the rules makes one: contact worth less and
# freshness more than the defaults, or back, so nearly every lead's score changes each time.
SHIFTED_WEIGHTS = {"contact": 25, "freshness": 25, "service": 25, "engagement": 15, "age_fit": 10}


def new_version(session: Any) -> int:
    """Save the other of the two weightings as the rules in force; the rescore run it queued."""
    active = service.get_rule_set(session, version=service.active_rules(session).version)
    weights = DEFAULT_RULE_SET["weights"] if active.weights == SHIFTED_WEIGHTS else SHIFTED_WEIGHTS
    data = RuleSetInput(**{**DEFAULT_RULE_SET, "weights": weights})
    _, run = service.change_rules(session, data=data, actor=None)
    return run.id


def rescore_once(url: str) -> dict[str, Any]:
    """One full rescore, run in a process of its own (full_rescore) so its memory is its own."""
    app = make_app(url)
    with app.app_context():
        with db.transaction() as session:
            run_id = new_version(session)
        started = time.perf_counter()
        jobs.run_rescore(run_id)
        seconds = time.perf_counter() - started
        with db.transaction() as session:
            run = service.get_run(session, run_id=run_id)
            done, changed, error = run.done, run.changed, run.error
    return {
        "seconds": seconds,
        "done": done,
        "changed": changed,
        "error": error,
    }


CHILD = "import json, sys; from benchmarks.scoring import rescore_once; " + (
    "print(json.dumps(rescore_once(sys.argv[1])))"
)


def full_rescore(t: Target, *, log: Callable[[str], None]) -> RescoreResult:
    log("full rescore of every lead (a process of its own)")
    found, finished = processes.answer_of(
        CHILD, t.url, log=databases.DATA / "logs" / f"rescore-{t.name}.log", timeout=3600
    )
    seconds, done, changed, error = (found[k] for k in ("seconds", "done", "changed", "error"))
    peak_mb = finished.peak_rss_mb
    if error:
        raise RuntimeError(f"the rescore stopped: {error}")
    log("vacuum and analyze after the rescore (not timed)")
    databases.analyze(t, databases.engine_for(t))
    per_million = RESCORE_TARGET_S[t.name]
    target_s = per_million * done / MILLION
    ms = round(seconds * 1000, 1)
    return RescoreResult(
        scenario=f"full rescore, {done:,} leads",
        role="-",
        iterations=1,
        p50_ms=ms,
        p95_ms=ms,
        max_ms=ms,
        target_ms=round(target_s * 1000, 1),
        note=(
            f"{done / seconds:,.0f} leads/s, so {seconds * MILLION / max(done, 1):.0f} s per "
            f"million (target {per_million:.0f} s); peak memory {peak_mb:.0f} MB (target < "
            f"{RESCORE_MEMORY_MB:.0f} MB); {changed:,} scores changed"
        ),
        peak_mb=peak_mb,
    )


def run_all(t: Target, *, iterations: int = ITERATIONS, log: Callable[[str], None]) -> list[Result]:
    """The scoring scenarios on one loaded database."""
    app = make_app(t.url)
    log("scoring one lead")
    results = [one_lead(app, iterations=iterations)]
    results += dashboard(app, iterations=iterations, log=log)
    db.engine.dispose()
    results.append(full_rescore(t, log=log))
    return results


def main(argv: list[str] | None = None) -> int:
    """Only the scoring scenarios, printed (benchmarks/results/ is left alone)."""
    from rich.console import Console

    from benchmarks.load import loaded_targets, standalone_parser

    parser = standalone_parser("python -m benchmarks.scoring", __doc__)
    parser.add_argument("--iterations", type=int, default=ITERATIONS)
    args = parser.parse_args(argv)
    console = Console() if sys.stdout.isatty() else Console(width=220)
    for t in loaded_targets(args, console.print):
        rows = run_all(
            t,
            iterations=args.iterations,
            log=lambda m: console.print(f"  {m}", style="dim"),
        )
        report.print_results(console, f"{t.name}: scoring, {args.size:,} leads", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
