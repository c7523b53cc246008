"""From stored contact history to a staffing forecast (pure): per-day interval series, the inputs
forecast.py and staffing.py take, and their results as plain rows.

Workload is counted by arrival: a contact counts in the 15-minute interval (tenant wall clock) it was
enqueued in, with its own handle time. That is what staffing needs (the work that arrives in an
interval), and it differs from the KPI roll-up, which puts handle time in the interval a contact
*completed* in. A day's series is a few hundred numbers per (queue, channel), so a settled day is
cached and never re-read from the records.

Patience for Erlang A (mean time a caller waits before giving up) is estimated from the same series
as Σ queue wait of all queued contacts ÷ abandoned — the maximum-likelihood estimate for exponential
patience when answered callers' patience is censored at their wait.

The history is fitted from the queue's first day with a contact: the weeks before it (a new queue or
tenant, history shorter than `weeks`) are unknown, not weeks nobody called in.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from ccaas.domain.forecast import HistoryPoint, PlanInterval, WhatIfInterval, day_intervals
from ccaas.domain.kpis.records import ContactRecord
from ccaas.domain.staffing import StaffingResult

# per quarter: offered, handled, handle_ms, abandoned, queue wait ms (answered + abandoned)
OFFERED, HANDLED, HANDLE_MS, ABANDONED, WAIT_MS = range(5)
_FIELDS = 5
MAX_PATIENCE_S = 86_400.0  # the longest mean patience a plan models (the what-if's patience_s bound too)
MIN_PATIENCE_S = 0.1  # the shortest, as the what-if's lower bound


def series_key(queue_id: str | None, channel: str) -> str:
    return f"{queue_id or ''}|{channel}"


def day_bounds(day: date, tz: ZoneInfo) -> tuple[int, int]:
    """[local midnight, next local midnight) in epoch ms."""
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    end = start + timedelta(days=1)
    return int(start.timestamp() * 1000), int(datetime(end.year, end.month, end.day, tzinfo=tz).timestamp() * 1000)


def day_series(records: Iterable[ContactRecord], *, day: date, tz: ZoneInfo) -> dict[str, dict[str, list[int]]]:
    """{series key: {quarter start ms (as text): [offered, handled, handle_ms, abandoned, wait_ms]}} of
    the contacts enqueued on `day` (local). Records outside the day are ignored, so a caller may pass
    a superset."""
    start, end = day_bounds(day, tz)
    quarters = [int(q.timestamp() * 1000) for q in day_intervals(day, tz)]
    series: dict[str, dict[str, list[int]]] = {}
    for record in records:
        enqueued = record.enqueued_at
        # Offered as the KPIs count it: a cancelled consult leg in a queue is no customer's contact.
        if enqueued is None or not record.offered or not start <= enqueued < end:
            continue
        quarter = _quarter_of(quarters, enqueued)
        cells = series.setdefault(series_key(record.queue_id, record.channel.value), {})
        cell = cells.setdefault(str(quarter), [0] * _FIELDS)
        cell[OFFERED] += 1
        wait = record.queue_wait_ms
        if wait is not None:
            cell[WAIT_MS] += wait
        if record.connected_at is not None:
            cell[HANDLED] += 1
            cell[HANDLE_MS] += record.handle_ms
        elif record.abandoned:
            cell[ABANDONED] += 1
    return series


def _quarter_of(quarters: Sequence[int], ms: int) -> int:
    low, high = 0, len(quarters) - 1
    while low < high:  # last quarter start <= ms
        middle = (low + high + 1) // 2
        if quarters[middle] <= ms:
            low = middle
        else:
            high = middle - 1
    return quarters[low]


def _combined(series: Mapping[str, Mapping[str, Sequence[int]]], queue_id: str, channel: str | None) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for key, cells in series.items():
        queue, _, chan = key.partition("|")
        if queue != queue_id or (channel is not None and chan != channel):
            continue
        for quarter, values in cells.items():
            cell = out.setdefault(int(quarter), [0] * _FIELDS)
            for i, v in enumerate(values):
                cell[i] += v
    return out


def history_points(
    days: Mapping[date, Mapping[str, Mapping[str, Sequence[int]]]], *, queue_id: str, channel: str | None, tz: ZoneInfo
) -> list[HistoryPoint]:
    """Every interval of every given day (zeros included: a quiet interval is data, not a gap) for one
    queue, one channel or all of them summed."""
    points: list[HistoryPoint] = []
    for day in sorted(days):
        cells = _combined(days[day], queue_id, channel)
        for local_start in day_intervals(day, tz):
            cell = cells.get(int(local_start.timestamp() * 1000))
            if cell is None or not cell[OFFERED]:
                points.append(HistoryPoint(local_start, 0, None))
                continue
            # No handle time at all (every contact connected and dropped in the same second) is an unknown
            # AHT, never 0: the forecast falls back as for a slot nobody was handled in.
            if not cell[HANDLED] or cell[HANDLE_MS] <= 0:
                points.append(HistoryPoint(local_start, cell[OFFERED], None))
                continue
            # The handled count goes along: AHT is total handle time ÷ handled contacts (DOMAIN.md), so the
            # forecast weighs each slot's AHT by it, not by offered (abandons have no handle time).
            handled = cell[HANDLED]
            points.append(HistoryPoint(local_start, cell[OFFERED], cell[HANDLE_MS] / 1000 / handled, handled))
    return points


def from_first_contact(points: Sequence[HistoryPoint]) -> list[HistoryPoint]:
    """`points` from the first day with a contact on (all of them when nobody ever called). Before it the
    queue had no history: fed as zero days, those weeks pulled a new queue's forecast down (40 % with 2
    weeks of the default 6); left out, the fitter reads them as unknown (forecast.py's docstring)."""
    first = next((p.interval_start.date() for p in points if p.offered), None)
    if first is None:
        return list(points)
    return [p for p in points if p.interval_start.date() >= first]


def patience_estimate(
    days: Mapping[date, Mapping[str, Mapping[str, Sequence[int]]]], *, queue_id: str, channel: str | None
) -> float | None:
    """Mean patience (s) = Σ queue wait ÷ abandoned, within the what-if request's own bounds
    [MIN_PATIENCE_S, MAX_PATIENCE_S]; None without abandons (nobody ever gave up) or without any queue wait
    (every abandon and answer at 0 s: CTR times have 1 s resolution). A zero total wait says nothing about
    patience, and an estimate of 0 is no Erlang A input, so such a queue is planned by Erlang C only. The
    upper bound: a day of waiting per abandon is no patience a model can staff for, and a record with a
    wild time (history kept before intake checked them) would otherwise make every Erlang A plan of the
    queue compute for as long as it waits."""
    wait = abandoned = 0
    for series in days.values():
        for cell in _combined(series, queue_id, channel).values():
            wait += cell[WAIT_MS]
            abandoned += cell[ABANDONED]
    if not abandoned or wait <= 0:
        return None
    return min(max(wait / 1000 / abandoned, MIN_PATIENCE_S), MAX_PATIENCE_S)


# --- API views --------------------------------------------------------------------------------------
class ExpectedService(BaseModel):
    model_config = ConfigDict(frozen=True)

    agents: int
    service_level: float
    asa_s: float | None  # None when unbounded (Erlang C with too few agents)
    occupancy: float
    p_wait: float
    abandonment: float | None = None  # Erlang A only

    @classmethod
    def of(cls, result: StaffingResult) -> ExpectedService:
        asa = result.asa_seconds
        return cls(
            agents=result.agents,
            service_level=round(result.service_level, 6),
            asa_s=None if asa == float("inf") else round(asa, 3),
            occupancy=round(result.occupancy, 6),
            p_wait=round(result.p_wait, 6),
            abandonment=round(result.p_abandon, 6) if result.model == "erlang_a" else None,
        )


class StaffingInterval(BaseModel):
    model_config = ConfigDict(frozen=True)

    interval_start: str  # ISO 8601 with the tenant's offset
    forecast_offered: float
    aht_s: float
    required_erlang_c: int
    required_erlang_a: int | None
    scheduled: int
    erlang_c: ExpectedService
    erlang_a: ExpectedService | None

    @classmethod
    def of(cls, plan: PlanInterval) -> StaffingInterval:
        return cls(
            interval_start=plan.interval_start.isoformat(),
            forecast_offered=round(plan.offered, 3),
            aht_s=round(plan.aht_seconds, 3),
            required_erlang_c=plan.required_erlang_c,
            required_erlang_a=plan.required_erlang_a,
            scheduled=plan.scheduled,
            erlang_c=ExpectedService.of(plan.erlang_c),
            erlang_a=None if plan.erlang_a is None else ExpectedService.of(plan.erlang_a),
        )


class WhatIfRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    interval_start: str
    forecast_offered: float
    expected: ExpectedService

    @classmethod
    def of(cls, row: WhatIfInterval) -> WhatIfRow:
        return cls(interval_start=row.interval_start.isoformat(), forecast_offered=round(row.offered, 3),
                   expected=ExpectedService.of(row.metrics))
