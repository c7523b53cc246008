"""Forecast and staffing from the tenant's stored history (issue 6's API).

The history of a queue is read as per-day interval series (domain/planning.py): a day whose end is
more than SETTLED_AFTER_MS in the past is computed once from the History records and cached in the
History table; younger days are recomputed on each request (late corrections still land there). A
record written later for a cached day (a CTR replayed from the stream, a task enqueued days after it
began) drops that day's cache item (forget_cached_day), and the next read computes it again.
The forecast is forecast.py's seasonal profile × damped trend, fitted on the last `weeks` weeks.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ccaas.bootstrap import Dependencies
from ccaas.domain.forecast import HistoryPoint, fit_forecaster, staffing_plan, what_if
from ccaas.domain.history import SETTLED_AFTER_MS
from ccaas.domain.kpis.records import ContactRecord
from ccaas.domain.vocabulary import NAME_PATTERN, Channel, DomainError, Int, NotFound

AgentCount = Annotated[Int, Field(ge=0, le=100_000)]
from ccaas.domain.planning import (
    MAX_PATIENCE_S,
    MIN_PATIENCE_S,
    StaffingInterval,
    WhatIfRow,
    day_bounds,
    day_series,
    from_first_contact,
    history_points,
    patience_estimate,
)
from ccaas.domain.staffing import MAX_SHRINKAGE, SL_TARGET_OF_ONE_PLANNED_AS  # noqa: F401 - the route's bound
from ccaas.usecases.history import entries_for, tenant_context
from ccaas.domain.vocabulary import Float, IsoDate

# A day dropped this recently is not cached again: the by_day index a recompute reads is eventually consistent
# (usually well under a second behind the record's write) and writers' clocks differ a little.
RECACHE_AFTER_DROP_MS = 5 * 60_000
# The cached item's layout; another (or none) is computed again. 2: days cached before late records dropped
# them may lack such records.
SERIES_CACHE_VERSION = 2
# Erlang A's required agents meet the SL while losing at most this share of callers: without a cap, a busy
# queue with short patience "meets" 80/20 by letting 15-80 % of its callers give up.
DEFAULT_MAX_ABANDON = 0.05
METHOD = (
    "Seasonal profile x damped trend (domain/forecast.py): per weekday and 15-minute slot, the exponentially "
    "weighted mean of the last weeks, moved by a Theil-Sen weekly trend that fades by the damping factor per "
    "week ahead; AHT is the handle-time-weighted mean of the same slots (handle time / handled contacts). "
    "Staffing: Erlang C and Erlang A (domain/staffing.py); scheduled agents cover the larger of the two."
)


class ForecastQuery(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    queue_id: str
    day: date
    channel: Channel | None = None
    weeks: int = Field(default=6, ge=1, le=12)


def _history_days(deps: Dependencies, tenant_id: str, tz: ZoneInfo, first: date, last: date) -> dict[date, dict]:
    """Series for each local day in [first, last], from the cache where the day is settled.

    A day is cut at its zone's midnights, so the cache keeps the zone with the series: one cached under
    another zone (the tenant's was changed since), or before the zone was kept, is computed again; so is one
    of another SERIES_CACHE_VERSION. A day whose cache a record dropped while it was being computed here
    (forget_cached_day) is not cached: the records read may lack that one."""
    now = deps.clock.now_ms()  # before any record is read: a drop from here on stops this read's caching
    days: dict[date, dict] = {}
    day = first
    while day <= last:
        start, end = day_bounds(day, tz)
        cached = cached_series(deps.history.get_series(tenant_id, day.isoformat()), tz.key)
        if cached is not None:
            days[day] = cached
        else:
            entries = entries_for(deps, tenant_id, start, end)  # by enqueue time: also long after they began
            series = day_series((r for r in (e.kpi_record() for e in entries) if r is not None), day=day, tz=tz)
            if end + SETTLED_AFTER_MS <= now:
                deps.history.put_series(tenant_id, day.isoformat(), series_cache_item(tz.key, series),
                                        unless_dropped_since=now - RECACHE_AFTER_DROP_MS)
            days[day] = series
        day += timedelta(days=1)
    return days


def series_cache_item(time_zone: str, series: dict) -> dict:
    """What the History table caches for a day (the demo's history loader writes the same)."""
    return {"version": SERIES_CACHE_VERSION, "time_zone": time_zone, "series": series}


def cached_series(item: dict | None, time_zone: str) -> dict | None:
    """The day's series from a cached item, if it was cut in `time_zone` and has this layout; else None."""
    if item is None or item.get("time_zone") != time_zone or item.get("version") != SERIES_CACHE_VERSION:
        return None
    return item["series"]


def forget_cached_day(deps: Dependencies, record: ContactRecord) -> None:
    """Drop the cached series of the record's (tenant-local) enqueue day, if that day can be cached: called for
    every record the History writers store (history.store_record), after it is stored. Only a record enqueued
    more than SETTLED_AFTER_MS ago can hit a cached day, so the common case reads and writes nothing. Every
    delivery drops, not only the one that stored the record: a retry after a failed drop must drop again."""
    enqueued = record.enqueued_at
    now = deps.clock.now_ms()
    if enqueued is None or enqueued + SETTLED_AFTER_MS > now:
        return  # its day ends after `enqueued`: not settled, never cached
    try:
        tz = ZoneInfo(deps.config.get_tenant(record.tenant_id).time_zone)
    except NotFound:
        return  # no tenant, no forecast: nothing of it is cached
    day = datetime.fromtimestamp(enqueued / 1000, tz).date()
    if day_bounds(day, tz)[1] + SETTLED_AFTER_MS <= now:
        deps.history.drop_series(record.tenant_id, day.isoformat(), now)


class StaffingForecast(BaseModel):
    queue_id: str
    channel: str | None
    date: date
    time_zone: str
    method: str
    history_from: date
    history_to: date
    trend_per_week: float
    sl_target: float  # the one planned for (a queue's unreachable 1 as SL_TARGET_OF_ONE_PLANNED_AS)
    sl_threshold_s: int
    patience_s: float | None
    max_abandon: float  # binds required_erlang_a
    shrinkage: float
    intervals: list[StaffingInterval]
    # What the forecast lacks (no history for the queue, fewer days than `weeks` asks for): additive.
    warnings: list[str] = Field(default_factory=list)


def history_warnings(points: Sequence[HistoryPoint], *, queue_id: str, weeks: int, history_from: date,
                     history_to: date, channel: str | None = None) -> list[str]:
    """Warnings about the history a forecast was fitted on (`points`: planning.history_points of `channel`,
    None for all of the queue's): a channel's forecast names the channel, the queue may be busy on others."""
    days = sorted({p.interval_start.date() for p in points if p.offered})
    needed = 7 * weeks
    on_channel = "" if channel is None else f" on channel {channel}"
    if not days:
        return [f"no contacts in queue {queue_id}{on_channel} from {history_from} to {history_to}: "
                "the forecast is all zeros"]
    found = (history_to - days[0]).days + 1
    if found < needed:
        return [f"forecast needs at least {weeks} week{'s' if weeks != 1 else ''} of history ({needed} days); "
                f"found {found} days{on_channel} ({days[0]} .. {history_to})"]
    return []


def _fitted(deps: Dependencies, tenant_id: str, query: ForecastQuery):  # noqa: ANN202 - internal tuple
    time_zone, _ = tenant_context(deps, tenant_id)
    queue = deps.config.get_queue(tenant_id, query.queue_id)  # 404 for another tenant's queue
    tz = ZoneInfo(time_zone)
    today = datetime.fromtimestamp(deps.clock.now_ms() / 1000, tz).date()
    history_to = min(query.day, today) - timedelta(days=1)  # whole days only, never "today so far"
    history_from = history_to - timedelta(days=7 * query.weeks - 1)
    days = _history_days(deps, tenant_id, tz, history_from, history_to)
    channel = None if query.channel is None else query.channel.value
    points = from_first_contact(history_points(days, queue_id=queue.queue_id, channel=channel, tz=tz))
    model = fit_forecaster(points, tz=tz, weeks=query.weeks)
    forecast = model.forecast(query.day, 1)
    patience = patience_estimate(days, queue_id=queue.queue_id, channel=channel)
    warnings = history_warnings(points, queue_id=queue.queue_id, weeks=query.weeks, history_from=history_from,
                                history_to=history_to, channel=channel)
    return time_zone, queue, forecast, model, patience, history_from, history_to, warnings


def staffing_forecast(
    deps: Dependencies, tenant_id: str, query: ForecastQuery, *, shrinkage: float = 0.0,
    patience_s: float | None = None, max_occupancy: float | None = None, max_abandon: float = DEFAULT_MAX_ABANDON,
) -> StaffingForecast:
    """Per interval of `query.day`: forecast volume and AHT, required agents (Erlang C and, with a
    patience estimate, Erlang A with at most `max_abandon` of callers lost), and the SL / ASA /
    abandonment expected at those numbers."""
    time_zone, queue, forecast, model, estimated, history_from, history_to, warnings = _fitted(deps, tenant_id, query)
    patience = patience_s if patience_s is not None else estimated
    fallback_aht = model.aht_overall or 300.0
    sl_target = queue.sl_target
    if sl_target >= 1.0:
        # Stored before writes were bounded below 1: plan for a target staffing can reach.
        sl_target = SL_TARGET_OF_ONE_PLANNED_AS
        warnings = [*warnings, f"queue {queue.queue_id}'s sl_target {queue.sl_target:g} is not reachable with any "
                               f"finite staffing: planned for {SL_TARGET_OF_ONE_PLANNED_AS:g}"]
    plan = staffing_plan(
        forecast, sl_target, queue.sl_threshold_s, patience_seconds=patience, shrinkage=shrinkage,
        max_occupancy=max_occupancy, max_abandon=max_abandon, fallback_aht_seconds=fallback_aht,
    )
    return StaffingForecast(
        queue_id=queue.queue_id, channel=None if query.channel is None else query.channel.value, date=query.day,
        time_zone=time_zone, method=METHOD, history_from=history_from, history_to=history_to,
        trend_per_week=round(model.trend_per_week, 6), sl_target=sl_target, sl_threshold_s=queue.sl_threshold_s,
        patience_s=None if patience is None else round(patience, 3), max_abandon=max_abandon, shrinkage=shrinkage,
        intervals=[StaffingInterval.of(p) for p in plan], warnings=warnings,
    )


class WhatIfRequest(BaseModel):
    """POST /forecast/what-if: a staffing to try against the forecast of one day."""

    model_config = ConfigDict(extra="forbid")

    queue: str = Field(min_length=1, max_length=64, pattern=NAME_PATTERN)
    date: IsoDate  # ISO 8601 text (2026-12-01), years 2000-2100: a number was read as an epoch
    channel: Channel | None = None
    agents: AgentCount | list[AgentCount] = Field(
        description="agents per interval: one number for all, or one per 15-minute interval (at most 100)")
    model: Literal["erlang_c", "erlang_a"] = "erlang_c"
    patience_s: Float | None = Field(default=None, ge=MIN_PATIENCE_S, le=MAX_PATIENCE_S,
                                      description="Erlang A patience (s); default: from history")
    weeks: Int = Field(default=6, ge=1, le=12)

    @field_validator("agents")
    @classmethod
    def _one_per_interval_at_most(cls, agents: int | list[int]) -> int | list[int]:
        if isinstance(agents, list) and not 1 <= len(agents) <= 100:
            raise ValueError("one number, or a list of 1-100 (one per 15-minute interval of a day)")
        return agents


class WhatIfReport(BaseModel):
    queue_id: str
    date: date
    time_zone: str
    model: str
    patience_s: float | None
    intervals: list[WhatIfRow]
    warnings: list[str] = Field(default_factory=list)  # as StaffingForecast.warnings


def staffing_what_if(deps: Dependencies, tenant_id: str, request: WhatIfRequest) -> WhatIfReport:
    query = ForecastQuery(queue_id=request.queue, day=request.date, channel=request.channel, weeks=request.weeks)
    time_zone, queue, forecast, model, estimated, _, _, warnings = _fitted(deps, tenant_id, query)
    agents = request.agents if isinstance(request.agents, list) else [request.agents] * len(forecast)
    if len(agents) != len(forecast):
        raise DomainError(f"{len(forecast)} intervals on {request.date}: give one agent count per interval", field="agents")
    if any(n < 0 for n in agents):
        raise DomainError("agent counts must be >= 0", field="agents")
    patience = request.patience_s if request.patience_s is not None else estimated
    if request.model == "erlang_a" and patience is None:
        raise DomainError("no abandons after a queue wait in the history to estimate patience from: pass patience_s",
                          field="patience_s")
    rows = what_if(
        forecast, agents, queue.sl_threshold_s, model=request.model, patience_seconds=patience,
        fallback_aht_seconds=model.aht_overall or 300.0,
    )
    return WhatIfReport(
        queue_id=queue.queue_id, date=request.date, time_zone=time_zone, model=request.model,
        patience_s=None if patience is None else round(patience, 3), intervals=[WhatIfRow.of(r) for r in rows],
        warnings=warnings,
    )
