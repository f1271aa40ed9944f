"""The results: a rich table on the terminal, latest.json and latest.md in benchmarks/results/."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks.scenarios import Result

RESULTS = Path(__file__).parent / "results"
LOAD_TARGET_S = 180.0


def _git(*args: str) -> str:
    try:
        out = subprocess.run(  # noqa: S603 - fixed arguments
            ["git", *args],  # noqa: S607 - git from PATH
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine() -> dict[str, Any]:
    memory_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
    except OSError:
        pass
    commit = _git("rev-parse", "--short", "HEAD")
    if commit and _git("status", "--porcelain", "--untracked-files=no"):
        commit += " (with uncommitted changes)"
    return {
        "nproc": os.cpu_count(),
        "ram_gb": round(memory_kb / 1024 / 1024, 1),
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "git_commit": commit or "unknown",
    }


def load_result(seconds: float | None, *, reused: bool, steps: dict[str, Any]) -> dict[str, Any]:
    """The load as a scenario; a reused database shows its earlier load, if that was recorded."""
    if seconds is None:
        return {
            "scenario": "load (reused, time unknown)",
            "role": "-",
            "iterations": 0,
            "p50_ms": 0.0,
            "p95_ms": 0.0,
            "max_ms": 0.0,
            "target_ms": LOAD_TARGET_S * 1000,
            "passed": None,
            "report_only": False,
            "note": "",
            "slowest": [],
        }
    return {
        "scenario": "load" + (" (earlier run, reused)" if reused else ""),
        "role": "-",
        "iterations": 1,
        "p50_ms": round(seconds * 1000, 1),
        "p95_ms": round(seconds * 1000, 1),
        "max_ms": round(seconds * 1000, 1),
        "target_ms": LOAD_TARGET_S * 1000,
        "passed": seconds < LOAD_TARGET_S,
        "report_only": False,
        "note": ", ".join(f"{k} {v}" for k, v in steps.items()),
        "slowest": [],
    }


def as_row(result: Result) -> dict[str, Any]:
    return {
        "scenario": result.scenario,
        "role": result.role,
        "iterations": result.iterations,
        "p50_ms": result.p50_ms,
        "p95_ms": result.p95_ms,
        "max_ms": result.max_ms,
        "target_ms": result.target_ms,
        "passed": result.passed,
        "report_only": result.report_only,
        "note": result.note,
        "slowest": result.slowest,
        "db_p50_ms": result.db_p50_ms,
        "db_p95_ms": result.db_p95_ms,
    }


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value / 1000:.1f} s" if value >= 10_000 else f"{value:.1f} ms"


def _verdict(row: dict[str, Any]) -> str:
    if not row["iterations"]:
        return "n/a"
    if row["passed"] is None:
        return "report"
    return "pass" if row["passed"] else "FAIL"


def build(
    runs: dict[str, dict[str, Any]], *, size: int, started: datetime, host: dict[str, Any]
) -> dict[str, Any]:
    rows = [row for run in runs.values() for row in run["results"]]
    failures = [
        f"{db} / {row['scenario']} / {row['role']}"
        for db, run in runs.items()
        for row in run["results"]
        if row["passed"] is False
    ]
    return {
        "dataset_size": size,
        "date": started.astimezone(UTC).isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": host | {"load_average_at_end": [round(x, 2) for x in os.getloadavg()]},
        "databases": runs,
        "summary": {
            "scenarios": len(rows),
            "passed": sum(1 for r in rows if r["passed"] is True),
            "failed": len(failures),
            "failures": failures,
        },
    }


def _split(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The desk's rows, and the Meta intake's (which carry a `measured` figure of their own)."""
    return [r for r in rows if "measured" not in r], [r for r in rows if "measured" in r]


META_COLUMNS = ("scenario", "n", "p50", "p95", "p99", "max", "measured", "target", "result")


def _meta_cells(row: dict[str, Any]) -> list[str]:
    return [
        row["scenario"],
        str(row["iterations"]),
        _ms(row["p50_ms"]),
        _ms(row["p95_ms"]),
        _ms(row.get("p99_ms")),
        _ms(row["max_ms"]),
        row["measured"],
        row["target"],
    ]


def _desk_cells(row: dict[str, Any]) -> list[str]:
    """A desk-style row's cells up to its target: scenario, role, n, p50, p95, max, target."""
    return [
        row["scenario"],
        row["role"],
        str(row["iterations"]),
        _ms(row["p50_ms"]),
        _ms(row["p95_ms"]),
        _ms(row["max_ms"]),
        f"< {_ms(row['target_ms'])}" if row["target_ms"] else "-",
    ]


VERDICT_STYLES = {"pass": "green", "FAIL": "bold red", "report": "dim", "n/a": "yellow"}


def _styled_verdict(row: dict[str, Any]) -> str:
    verdict = _verdict(row)
    return f"[{VERDICT_STYLES[verdict]}]{verdict}[/{VERDICT_STYLES[verdict]}]"


def _print_meta(
    name: str, run: dict[str, Any], rows: list[dict[str, Any]], console: Console
) -> None:
    table = Table(title=f"{name} — Meta intake and real time ({run.get('version', '')})")
    for column in META_COLUMNS:
        table.add_column(column, justify="left" if column == "scenario" else "right")
    for row in rows:
        table.add_row(*_meta_cells(row), _styled_verdict(row))
    console.print(table)


def print_results(console: Console, title: str, results: list[Result]) -> None:
    """One standalone scenario file's results (`python -m benchmarks.<name>`), as a table."""
    table = Table(title=title)
    for column in ("scenario", "role", "n", "p50", "p95", "max", "target", "result", "note"):
        table.add_column(column)
    for row in map(as_row, results):
        table.add_row(*_desk_cells(row), _verdict(row), row["note"])
    console.print(table)


def print_table(report: dict[str, Any], console: Console) -> None:
    for name, run in report["databases"].items():
        desk_rows, meta_rows = _split(run["results"])
        if not desk_rows:
            if meta_rows:
                _print_meta(name, run, meta_rows, console)
            continue
        table = Table(title=f"{name} — {report['dataset_size']:,} leads ({run.get('version', '')})")
        columns = (
            "scenario",
            "role",
            "n",
            "p50",
            "p95",
            "max",
            "target",
            "result",
            "db p50",
            "db p95",
        )
        for column in columns:
            table.add_column(column, justify="left" if column in ("scenario", "role") else "right")
        for row in desk_rows:
            table.add_row(
                *_desk_cells(row),
                _styled_verdict(row),
                _ms(row.get("db_p50_ms")) if row["role"] != "-" else "-",
                _ms(row.get("db_p95_ms")) if row["role"] != "-" else "-",
            )
        console.print(table)
        if meta_rows:
            _print_meta(name, run, meta_rows, console)
    summary = report["summary"]
    if summary["failed"]:
        console.print(f"[bold red]{summary['failed']} target(s) missed:[/bold red]")
        for failure in summary["failures"]:
            console.print(f"  [red]✗ {failure}[/red]")
    else:
        console.print(f"[bold green]All {summary['passed']} targets met.[/bold green]")


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    size = report["dataset_size"]
    lines = [
        "# LeadHub benchmark",
        "",
        f"- dataset: {size:,} leads" if size else "- desk scenarios not run",
        f"- date: {report['date']} (finished {report['finished']})",
        f"- machine: {m['nproc']} CPUs, {m['ram_gb']} GB RAM, Python {m['python']}, "
        f"SQLite {m['sqlite']}; load average {m['load_average_at_start']} at start, "
        f"{m['load_average_at_end']} at end",
        f"- git commit: {m['git_commit']}",
        "",
    ]
    summary = report["summary"]
    if summary["failed"]:
        lines += [f"**{summary['failed']} target(s) missed:**", ""]
        lines += [f"- ✗ {failure}" for failure in summary["failures"]] + [""]
    else:
        lines += [f"**All {summary['passed']} targets met.**", ""]
    for name, run in report["databases"].items():
        load = run.get("load_average_during", {})
        desk_rows, meta_rows = _split(run["results"])
        lines += [
            f"## {name} ({run.get('version', '')})",
            "",
            f"Load average (1, 5, 15 min) before the scenarios {load.get('before')}, after "
            f"{load.get('after')}; 2 CPUs, so anything above 1 is other work competing with us.",
            "",
        ]
        if desk_rows:
            lines += [
                "| scenario | role | n | p50 | p95 | max | target | result | db p50 | db p95 "
                "| note |",
                "|---|---|--:|--:|--:|--:|--:|:-:|--:|--:|---|",
            ]
        for row in desk_rows:
            verdict = _verdict(row)
            target = f"< {_ms(row['target_ms'])}" if row["target_ms"] else "-"
            timed = row["role"] != "-"
            db50 = _ms(row.get("db_p50_ms")) if timed else "-"
            db95 = _ms(row.get("db_p95_ms")) if timed else "-"
            lines.append(
                f"| {row['scenario']} | {row['role']} | {row['iterations']} | {_ms(row['p50_ms'])}"
                f" | {_ms(row['p95_ms'])} | {_ms(row['max_ms'])} | {target} | "
                f"{'**FAIL**' if verdict == 'FAIL' else verdict} | {db50} | {db95} | "
                f"{row['note']} |"
            )
        lines.append("")
        if meta_rows:
            lines += [
                "Meta intake (issue 3):",
                "",
                "| " + " | ".join((*META_COLUMNS, "note")) + " |",
                "|---|--:|--:|--:|--:|--:|--:|--:|:-:|---|",
            ]
            for row in meta_rows:
                verdict = _verdict(row)
                cells = [*_meta_cells(row), "**FAIL**" if verdict == "FAIL" else verdict]
                lines.append("| " + " | ".join((*cells, row["note"])) + " |")
            lines.append("")
        slow = [(row, s) for row in desk_rows for s in row["slowest"][:2]]
        if slow:
            lines += ["Slowest requests (median of each URL's repetitions):", ""]
            lines += [
                f"- {row['scenario']} / {row['role']}: {s['ms']} ms `{s['url'][:160]}`"
                for row, s in slow
            ]
            lines.append("")
    return "\n".join(lines)


def write(report: dict[str, Any], folder: Path = RESULTS) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    json_path, md_path = folder / "latest.json", folder / "latest.md"
    json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    md_path.write_text(markdown(report))
    return json_path, md_path
