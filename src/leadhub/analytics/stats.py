"""Percentiles in SQL on both databases, with PostgreSQL's percentile_cont semantics.

PostgreSQL has percentile_cont. SQLite has none: each group's values are numbered in order by
a window function and the two values around each percentile's position are picked out by the
aggregate, so only one row per group reaches Python, which interpolates between the two exactly
as percentile_cont does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Float, Integer, case, cast, func, select
from sqlalchemy.orm import Session

Key = tuple[Any, ...]


def seconds_between(session: Session, later: Any, earlier: Any) -> Any:
    """Whole seconds from `earlier` to `later` as a SQL expression."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.round(func.extract("epoch", later - earlier)), Float)
    return cast(func.round((func.julianday(later) - func.julianday(earlier)) * 86400), Float)


def percentiles(
    session: Session,
    source: Any,
    *,
    value: str,
    group: Sequence[str] = (),
    fractions: Sequence[float] = (0.5, 0.9),
) -> dict[Key, list[float | None]]:
    """Continuous percentiles of `source.c[value]` per group (a subquery's columns)."""
    v = source.c[value]
    keys = [source.c[name] for name in group]
    if session.get_bind().dialect.name == "postgresql":
        stmt = select(*keys, *(func.percentile_cont(f).within_group(v) for f in fractions)).where(
            v.is_not(None)
        )
        if keys:
            stmt = stmt.group_by(*keys)
        return {
            tuple(row[: len(keys)]): [_round(x) for x in row[len(keys) :]]
            for row in session.execute(stmt)
        }
    ranked = (
        select(
            *keys,
            v.label("v"),
            (func.row_number().over(partition_by=keys or None, order_by=v) - 1).label("i"),
            func.count().over(partition_by=keys or None).label("n"),
        )
        .where(v.is_not(None))
        .subquery()
    )
    rk = [ranked.c[name] for name in group]
    picks = []
    for f in fractions:
        low = cast(f * (ranked.c.n - 1), Integer)
        picks.append(func.max(case((ranked.c.i == low, ranked.c.v))))
        picks.append(func.max(case((ranked.c.i == low + 1, ranked.c.v))))
    stmt = select(*rk, func.max(ranked.c.n), *picks)
    if rk:
        stmt = stmt.group_by(*rk)
    found: dict[Key, list[float | None]] = {}
    for row in session.execute(stmt):
        n = row[len(rk)]
        if not n:
            continue
        values = []
        for index, f in enumerate(fractions):
            low, high = row[len(rk) + 1 + 2 * index], row[len(rk) + 2 + 2 * index]
            position = f * (n - 1)
            fraction = position - math.floor(position)
            if high is None or fraction == 0:
                values.append(_round(low))
            else:
                values.append(_round(low + (high - low) * fraction))
        found[tuple(row[: len(rk)])] = values
    return found


def _round(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)
