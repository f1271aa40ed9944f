"""Periods in the user's time zone, cut at local midnight, and the period before each."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from leadhub.errors import N_, InvalidInput

PERIODS = ("today", "7d", "30d", "month", "custom")
REPORTS = ("daily", "weekly", "monthly")
MAX_DAYS = 366


def zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(N_("Unknown time zone %(tz)s."), tz=tz) from exc


@dataclass(frozen=True)
class Period:
    """Local days `start` to `end` (both included) in time zone `tz`."""

    start: date
    end: date
    tz: str
    kind: str = "custom"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def local_midnight(self, day: date) -> datetime:
        """The UTC instant a local day starts (DST-safe: each day is cut at its own midnight)."""
        return datetime.combine(day, time.min, tzinfo=zone(self.tz)).astimezone(UTC)

    def bounds(self) -> tuple[datetime, datetime]:
        """[first instant, first instant after] in UTC."""
        return self.local_midnight(self.start), self.local_midnight(self.end + timedelta(days=1))

    def previous(self) -> Period:
        """The period to compare with: last month's same days for a month, else the span before."""
        if self.kind in ("month", "monthly"):
            first = (self.start - timedelta(days=1)).replace(day=1)
            last_day = calendar.monthrange(first.year, first.month)[1]
            end = first.replace(day=min(last_day, first.day + (self.end - self.start).days))
            return Period(first, end, self.tz, self.kind)
        return Period(
            self.start - timedelta(days=self.days),
            self.start - timedelta(days=1),
            self.tz,
            self.kind,
        )

    def as_dict(self) -> dict[str, Any]:
        before = self.previous()
        return {
            "kind": self.kind,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "previous_from": before.start.isoformat(),
            "previous_to": before.end.isoformat(),
            "timezone": self.tz,
        }


def today_in(tz: str) -> date:
    return datetime.now(zone(tz)).date()


def resolve(
    kind: str | None,
    *,
    tz: str,
    start: date | None = None,
    end: date | None = None,
    today: date | None = None,
) -> Period:
    """The named period ending today, or the custom one from `start` to `end`."""
    today = today or today_in(tz)
    if kind in (None, "custom") and (start is not None or end is not None):
        kind = "custom"
    kind = kind or "30d"
    if kind == "today":
        return Period(today, today, tz, kind)
    if kind == "7d":
        return Period(today - timedelta(days=6), today, tz, kind)
    if kind == "30d":
        return Period(today - timedelta(days=29), today, tz, kind)
    if kind == "month":
        return Period(today.replace(day=1), today, tz, kind)
    if kind != "custom":
        raise InvalidInput(N_("Unknown period %(period)s."), period=kind)
    start, end = start or end, end or start
    if start is None or end is None:
        raise InvalidInput(N_("Give the first and last day of the period."))
    if start > end:
        raise InvalidInput(N_("The period starts after it ends."))
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidInput(N_("A period is at most %(days)s days."), days=MAX_DAYS)
    return Period(start, end, tz, kind)


def report_period(kind: str, *, tz: str, on: date | None = None) -> Period:
    """The day, ISO week (Monday to Sunday) or month holding `on`; else the last complete one."""
    today = today_in(tz)
    if kind == "daily":
        day = on or today - timedelta(days=1)
        return Period(day, day, tz, kind)
    if kind == "weekly":
        day = on or today - timedelta(days=7)
        monday = day - timedelta(days=day.weekday())
        return Period(monday, monday + timedelta(days=6), tz, kind)
    if kind == "monthly":
        day = on or today.replace(day=1) - timedelta(days=1)
        last = calendar.monthrange(day.year, day.month)[1]
        return Period(day.replace(day=1), day.replace(day=last), tz, kind)
    raise InvalidInput(N_("A report is daily, weekly or monthly."))


def buckets(period: Period, size: str) -> list[date]:
    """The first local day of each day, ISO week or month bucket that meets the period."""
    if size == "day":
        return [period.start + timedelta(days=n) for n in range(period.days)]
    if size == "week":
        first = period.start - timedelta(days=period.start.weekday())
        return [first + timedelta(weeks=n) for n in range((period.end - first).days // 7 + 1)]
    if size == "month":
        found, day = [], period.start.replace(day=1)
        while day <= period.end:
            found.append(day)
            day = (day + timedelta(days=32)).replace(day=1)
        return found
    raise InvalidInput(N_("Trends are by day, week or month."))
