"""Hours of operation per queue: a weekly schedule in the queue's time zone plus holidays (pure).

Rules
- A range "HH:MM"–"HH:MM" belongs to the local day it starts on. An end at or before the start runs
  overnight into the next day (Fri 22:00–02:00 is open until Saturday 02:00); "00:00"–"00:00" (or
  "00:00"–"24:00") is the whole day. Ranges are half-open: open at the start minute, closed at the end.
- Holidays are dates or inclusive date ranges (local). On a holiday date the weekly ranges that start
  that day are replaced by the holiday's `hours` (empty = closed all day). A range that started the
  evening before still runs past midnight into the holiday (it belongs to its start day).
- Wall-clock times are converted with the zone's rules of that very date, so opening at 08:00 stays
  08:00 local across DST changes. A wall time skipped by spring-forward (02:30 on that Sunday in
  America/New_York) maps to the instant after the gap (03:30 local); a repeated one (fall-back
  01:30) maps to its first occurrence.

Bounds: at most MAX_RANGES_PER_DAY ranges a day (weekly or holiday), MAX_HOLIDAYS holidays each
spanning at most MAX_HOLIDAY_DAYS days, names of MAX_LABEL characters, horizon_days ≤ MAX_HORIZON_DAYS.

is_open(now_ms) and next_open(now_ms) take epoch ms (UTC); next_open returns now when open, None when
the schedule never opens again within `horizon_days`; next_close returns None when closed, and when the
open period runs past `horizon_days` (a 24/7 queue never closes).

A range cannot start at "24:00" (that is the next day's "00:00"): a ValidationError naming `start`. A
holiday's `start` and `end` are "YYYY-MM-DD" strings (not numbers) in years FIRST_YEAR-LAST_YEAR. A
policy stored before these rules loads when validated with STORED_DOCUMENT as its context, and such a
range starts at the next day's midnight.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from ccaas.domain.vocabulary import (Int, PRINTABLE_PATTERN, STORED_DOCUMENT, is_stored, iso_8601_date_text,
                                     shown_value, within_calendar)

__all__ = [
    "Holiday", "HoursOfOperation", "MAX_HOLIDAYS", "MAX_RANGES_PER_DAY", "STORED_DOCUMENT", "TimeRange", "WEEKDAYS",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")
_UTC = timezone.utc
MAX_RANGES_PER_DAY = 12
MAX_HOLIDAYS = 100
MAX_HOLIDAY_DAYS = 366
MAX_HORIZON_DAYS = 800
MAX_LABEL = 64
_LABEL = PRINTABLE_PATTERN


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TimeRange(_Frozen):
    start: str = Field(max_length=5, description="HH:MM local")
    end: str = Field(max_length=5, description="HH:MM local; at or before start = runs past midnight")

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        if not _HHMM.match(v):
            raise ValueError(f"time must be HH:MM (00:00-24:00): {v!r}")
        return v

    @field_validator("start")
    @classmethod
    def _starts_within_the_day(cls, v: str, info: ValidationInfo) -> str:
        if v == "24:00" and not is_stored(info.context):
            raise ValueError('a range cannot start at 24:00: it starts on its day, from "00:00" to "23:59"')
        return v

    def minutes(self) -> tuple[int, int]:
        """(start, end) in minutes after the start day's midnight; end may exceed 1440 (overnight).
        A stored "24:00" start is the next day's midnight."""
        s = _mins(self.start)
        e = _mins(self.end)
        if e <= s:
            e += 1440
        return s, e


def _mins(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


# Strict, as every date a client sends (vocabulary.iso_8601_date_text): pydantic would read a number as seconds since
# 1970 (1798156800 is "2026-12-25") and take "2026-12-25T00:00"; a holiday is a date the admin writes, "YYYY-MM-DD".
# Not vocabulary.IsoDate: its years are checked below, where a policy stored before that bound still loads.
_HolidayDate = Annotated[date, BeforeValidator(iso_8601_date_text)]


class Holiday(_Frozen):
    start: _HolidayDate
    end: _HolidayDate | None = Field(default=None, description="inclusive; None = one day")
    name: str = Field(default="", max_length=MAX_LABEL, pattern=_LABEL)
    hours: tuple[TimeRange, ...] = Field(default=(), max_length=MAX_RANGES_PER_DAY,
                                         description="special hours that day; empty = closed")

    @field_validator("start", "end")
    @classmethod
    def _within_calendar(cls, v: date | None, info: ValidationInfo) -> date | None:
        # A bound added later (body dates are years FIRST_YEAR-LAST_YEAR): a policy stored before it still loads.
        return v if is_stored(info.context) else within_calendar(v)

    @model_validator(mode="after")
    def _ordered(self) -> Holiday:
        if self.end is not None and self.end < self.start:
            raise ValueError("holiday end before start")
        if self.end is not None and (self.end - self.start).days >= MAX_HOLIDAY_DAYS:
            raise ValueError(f"holiday end: a holiday spans at most {MAX_HOLIDAY_DAYS} days")
        return self

    def covers(self, day: date) -> bool:
        return self.start <= day <= (self.end or self.start)


_Weekday = Annotated[str, Field(max_length=3)]
_DayRanges = Annotated[tuple[TimeRange, ...], Field(max_length=MAX_RANGES_PER_DAY)]


class HoursOfOperation(_Frozen):
    time_zone: str = Field(default="UTC", max_length=64)
    weekly: dict[_Weekday, _DayRanges] = Field(
        default_factory=dict, max_length=len(WEEKDAYS), description="mon..sun → ranges")
    holidays: tuple[Holiday, ...] = Field(default=(), max_length=MAX_HOLIDAYS)
    horizon_days: Int = Field(default=400, ge=1, le=MAX_HORIZON_DAYS)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {shown_value(v)!r}") from exc
        return v

    @field_validator("weekly")
    @classmethod
    def _days(cls, v: dict[str, tuple[TimeRange, ...]]) -> dict[str, tuple[TimeRange, ...]]:
        bad = set(v) - set(WEEKDAYS)
        if bad:
            raise ValueError(f"unknown weekday(s) {sorted(bad)}; use {WEEKDAYS}")
        return v

    @classmethod
    def always(cls) -> HoursOfOperation:
        return cls(weekly={d: (TimeRange(start="00:00", end="00:00"),) for d in WEEKDAYS})

    # ------------------------------------------------------------------ queries

    def ranges_on(self, day: date) -> tuple[TimeRange, ...]:
        """The ranges starting on local date `day` (holiday hours replace the weekly ones)."""
        for h in self.holidays:
            if h.covers(day):
                return h.hours
        return self.weekly.get(WEEKDAYS[day.weekday()], ())

    def intervals_on(self, day: date) -> list[tuple[int, int]]:
        """[start_ms, end_ms) epoch intervals of the ranges starting on `day`, in start order."""
        zone = _zone(self.time_zone)
        out = []
        for r in self.ranges_on(day):
            s, e = r.minutes()
            out.append((_local_ms(day, s, zone), _local_ms(day, e, zone)))
        out.sort()
        return out

    def is_open(self, now_ms: int) -> bool:
        today = self._local_date(now_ms)
        for day in (today - timedelta(days=1), today):
            for s, e in self.intervals_on(day):
                if s <= now_ms < e:
                    return True
        return False

    def next_open(self, now_ms: int) -> int | None:
        if self.is_open(now_ms):
            return now_ms
        today = self._local_date(now_ms)
        for offset in range(0, self.horizon_days + 1):
            starts = [s for s, e in self.intervals_on(today + timedelta(days=offset)) if s >= now_ms and e > s]
            if starts:
                return min(starts)
        return None

    def next_close(self, now_ms: int) -> int | None:
        """When the current open period ends (touching or overlapping ranges merged); None when closed,
        and when the period is still open at the horizon (24/7: the horizon's end is no closing time)."""
        if not self.is_open(now_ms):
            return None
        day = self._local_date(now_ms) - timedelta(days=1)
        end = now_ms
        for _ in range(self.horizon_days + 2):
            for s, e in self.intervals_on(day):
                if s <= end < e:
                    end = e
            if self._local_date(end) < day:
                return end
            day += timedelta(days=1)
        return None

    def _local_date(self, now_ms: int) -> date:
        return datetime.fromtimestamp(now_ms / 1000, tz=_UTC).astimezone(_zone(self.time_zone)).date()


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _local_ms(day: date, minutes: int, zone: ZoneInfo) -> int:
    """Epoch ms of local wall time `day` + `minutes` (minutes ≥ 1440 roll into the following days).

    fold=0 (PEP 495): a wall time inside a spring-forward gap lands after the gap, an ambiguous one
    (fall-back) on its first occurrence."""
    day = day + timedelta(days=minutes // 1440)
    minutes %= 1440
    wall = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone)
    return int(wall.astimezone(_UTC).timestamp() * 1000)
