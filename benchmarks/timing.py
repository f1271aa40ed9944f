"""Timing requests: percentiles of the whole request and of the time spent in the database."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event

ITERATIONS = 200


@dataclass
class Result:
    scenario: str
    role: str
    iterations: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    target_ms: float | None
    report_only: bool = False
    note: str = ""
    slowest: list[dict[str, Any]] = field(default_factory=list)
    db_p50_ms: float = 0.0
    db_p95_ms: float = 0.0

    @property
    def passed(self) -> bool | None:
        if self.report_only or self.target_ms is None or not self.iterations:
            return None
        return self.p95_ms < self.target_ms


class SqlClock:
    """Time spent inside the driver's execute calls, to tell the database from the app."""

    def __init__(self, engine: Any) -> None:
        self.total = 0.0
        self._started = 0.0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, *_args: Any) -> None:
        self._started = time.perf_counter()

    def _after(self, *_args: Any) -> None:
        self.total += time.perf_counter() - self._started

    def lap(self) -> float:
        """Milliseconds since the last lap."""
        elapsed, self.total = self.total * 1000, 0.0
        return elapsed


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(
    name: str,
    role: str,
    urls: list[str],
    get: Callable[[str], Any],
    *,
    target_ms: float | None,
    iterations: int = ITERATIONS,
    report_only: bool = False,
    note: str = "",
    clock: SqlClock | None = None,
) -> Result:
    """Warm up on every URL once, then time `iterations` requests cycling through them."""
    if not urls:
        return Result(name, role, 0, 0, 0, 0, target_ms, report_only, "no data for this scenario")
    for url in urls:
        check(get(url), url)
    timings: list[tuple[float, str]] = []
    in_database: list[float] = []
    for i in range(iterations):
        url = urls[i % len(urls)]
        if clock:
            clock.lap()
        started = time.perf_counter()
        response = get(url)
        elapsed = (time.perf_counter() - started) * 1000
        if clock:
            in_database.append(clock.lap())
        check(response, url)
        timings.append((elapsed, url))
    values = [ms for ms, _ in timings]
    in_database = in_database or [0.0]
    per_url: dict[str, list[float]] = {}
    for ms, url in timings:
        per_url.setdefault(url, []).append(ms)
    # The URLs that are slow every time, not one unlucky sample: by their own median.
    medians = sorted(((statistics.median(v), u) for u, v in per_url.items()), reverse=True)
    slowest = [{"ms": round(ms, 1), "url": url} for ms, url in medians[:5]]
    return Result(
        scenario=name,
        role=role,
        iterations=iterations,
        p50_ms=round(statistics.median(values), 2),
        p95_ms=round(percentile(values, 0.95), 2),
        max_ms=round(max(values), 2),
        target_ms=target_ms,
        report_only=report_only,
        note=note,
        slowest=slowest,
        db_p50_ms=round(statistics.median(in_database), 2),
        db_p95_ms=round(percentile(in_database, 0.95), 2),
    )


def check(response: Any, url: str) -> None:
    if response.status_code != 200:
        body = response.get_data(as_text=True)[:300]
        raise RuntimeError(f"GET {url} answered {response.status_code}: {body}")


# -- the app and its users ---------------------------------------------------------------------
