"""Reporting intervals in the tenant's time zone: 15 minutes, rolled up to hour, day and ISO week.

An interval is identified by the epoch ms of its first instant. Intervals follow the tenant's wall
clock, so around DST changes a day has 92 or 100 quarter-hours (23 or 25 hours), and the repeated
hour of a fall-back day is two intervals with different UTC offsets ("01:00-04:00", "01:00-05:00").
Weeks start on Monday 00:00 local time.

Fast path: every zone's UTC offset since 1990 is a whole number of quarter-hours, so a local
quarter-hour is also a UTC-aligned one; the offset remainder is still applied (cached per UTC hour)
so historical odd offsets stay correct. Coarser starts are cached per quarter-hour: a day of
contacts touches ~100 distinct quarters however many contacts there are.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal, get_args
from zoneinfo import ZoneInfo

__all__ = ["GRANULARITIES", "QUARTER_MS", "Granularity", "TenantCalendar"]

Granularity = Literal["15m", "hour", "day", "week"]
GRANULARITIES: tuple[str, ...] = get_args(Granularity)
QUARTER_MS = 15 * 60 * 1000
_HOUR_MS = 3_600_000


class TenantCalendar:
    def __init__(self, tz: str | ZoneInfo):
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self._remainder_by_utc_hour: dict[int, int] = {}
        self._start_by_quarter: dict[tuple[str, int], int] = {}
        self._day_start_by_date: dict[date, int] = {}

    # --- bucketing ------------------------------------------------------------------------------
    def quarter_start(self, ms: int) -> int:
        """Start of the local 15-minute interval containing `ms` (end exclusive)."""
        utc_hour = ms // _HOUR_MS
        remainder = self._remainder_by_utc_hour.get(utc_hour)
        if remainder is None:
            offset = datetime.fromtimestamp(utc_hour * 3600, self.tz).utcoffset()
            remainder = int(offset.total_seconds() * 1000) % QUARTER_MS if offset else 0
            self._remainder_by_utc_hour[utc_hour] = remainder
        return ms - (ms + remainder) % QUARTER_MS

    def interval_start(self, quarter_ms: int, granularity: Granularity) -> int:
        """Start of the `granularity` interval containing the quarter-hour starting at `quarter_ms`."""
        if granularity == "15m":
            return quarter_ms
        key = (granularity, quarter_ms)
        start = self._start_by_quarter.get(key)
        if start is None:
            local = self.local(quarter_ms)
            if granularity == "hour":
                # The instant the local clock last read HH:00 with the offset in force now; in a zone whose clock moves
                # by 30 minutes (Australia/Lord_Howe) that instant may lie before the change, under the other offset:
                # the hour then starts at the change (a 30-minute hour), so every start maps to itself.
                start = quarter_ms - (local.minute * 60 + local.second) * 1000
                offset = local.utcoffset()
                while start < quarter_ms and self.local(start).utcoffset() != offset:
                    start += QUARTER_MS
            elif granularity == "day":
                start = self.day_start(local.date())
            elif granularity == "week":
                start = self.day_start(local.date() - timedelta(days=local.weekday()))
            else:
                raise ValueError(f"unknown interval {granularity!r}; expected one of {GRANULARITIES}")
            self._start_by_quarter[key] = start
        return start

    def next_interval_start(self, start_ms: int, granularity: Granularity) -> int:
        if granularity == "15m":
            return start_ms + QUARTER_MS
        if granularity == "hour":
            # Step by quarters: an hour is 4 of them except in zones with 30-minute DST shifts.
            quarter = start_ms + QUARTER_MS
            while self.interval_start(quarter, "hour") == start_ms:
                quarter += QUARTER_MS
            return quarter
        days = {"day": 1, "week": 7}.get(granularity)
        if days is None:
            raise ValueError(f"unknown interval {granularity!r}; expected one of {GRANULARITIES}")
        return self.day_start(self.local(start_ms).date() + timedelta(days=days))

    def interval_starts(self, granularity: Granularity, from_ms: int, to_ms: int) -> list[int]:
        """Every interval overlapping [from_ms, to_ms), in order."""
        starts: list[int] = []
        start = self.interval_start(self.quarter_start(from_ms), granularity)
        while start < to_ms:
            starts.append(start)
            start = self.next_interval_start(start, granularity)
        return starts

    # --- clock helpers --------------------------------------------------------------------------
    def day_start(self, day: date) -> int:
        """Local midnight of `day` as epoch ms (if midnight is skipped by DST, the first instant after)."""
        start = self._day_start_by_date.get(day)
        if start is None:
            # fold=0 gives a skipped wall time the pre-transition offset, i.e. the transition instant.
            start = int(datetime(day.year, day.month, day.day, tzinfo=self.tz).timestamp()) * 1000
            self._day_start_by_date[day] = start
        return start

    def local(self, ms: int) -> datetime:
        return datetime.fromtimestamp(ms / 1000, self.tz)

    def local_day(self, ms: int) -> str:
        """The tenant-local date of the instant, ISO (the lake's `day` partition)."""
        return self.local(ms).date().isoformat()

    def iso(self, ms: int) -> str:
        """ISO 8601 with the tenant's offset at that instant, e.g. 2026-11-20T10:15:00-05:00."""
        return self.local(ms).isoformat(timespec="seconds" if ms % 1000 == 0 else "milliseconds")
