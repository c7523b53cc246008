"""Forecast offered contacts and AHT per 15-minute interval, and turn a forecast into staffing.

Pure: no I/O, no clock (the forecast start is passed in or taken from the history), stdlib only.

History for one (queue, channel) series is a list of `HistoryPoint(interval_start, offered,
aht_seconds, handled)`: `handled` is how many contacts the AHT is the mean of (None: all offered ones,
as in a history without abandons). Intervals are bucketed by the tenant's wall clock: pass `tz` and
aware datetimes are converted to it; naive datetimes are taken as tenant-local already. The history is taken to cover
whole days from its first to its last date: a missing interval in that span means zero contacts
(aggregators skip empty buckets); outside it, unknown. So pass whole days (not "today so far").

Method: seasonal profile × damped trend (multiplicative).
  1. Trend g per week: Theil–Sen estimate (median of pairwise slopes) of log(weekly total) over the
     last K complete weeks, clipped to [1/1.25, 1.25]. Weekly totals sum 672 intervals, so Poisson
     noise barely moves them; the median of pairwise ratios ignores one odd week (a holiday) where
     a least-squares slope or a plain "last 7 days ÷ previous 7" ratio would not.
  2. Level per (weekday, time of day): the same weekday-and-interval value from each of the last K
     weeks, each moved forward to the forecast origin by g^(age in weeks), averaged with weights
     decay^(k−1) (k = 1 most recent). Keeping weekday and time of day together (not weekly × daily
     factors) lets Saturdays have their own intraday shape; the exponential weights follow shape
     changes within a few weeks while averaging out Poisson noise.
  3. Forecast = level × g^H(h), h = weeks after the origin, H(h) = ∫₀ʰ φ^t dt = (1 − φ^h)/(−ln φ):
     the growth rate fades by φ per week of horizon (Gardner & McKenzie's damped trend), so a trend
     measured over a few weeks is not extrapolated forever.
  4. AHT per (weekday, time of day): handle-time-weighted mean (Σ ω·handled·AHT ÷ Σ ω·handled: total
     handle time ÷ handled contacts, the AHT definition of DOMAIN.md; weighting by offered let a slot
     where most callers abandoned count its few handled contacts as many) over the same weeks,
     falling back to the same time on any weekday, then to the overall mean. No trend: AHT drifts slowly and its noise is large in quiet intervals.
  Why this and not ARIMA / Holt–Winters with 672-periodic seasonality: for intraday call-center
  arrivals, simple seasonal methods are hard to beat at horizons of a day or more (Taylor 2008,
  "A comparison of univariate time series methods for forecasting intraday arrivals at a call
  center", Management Science 54(2); Ibrahim, Ye, L'Ecuyer & Shen 2016, "Modeling and forecasting
  call center arrivals: a literature survey and a case study", Int. J. Forecasting 32(3)), and this
  one is explainable to a planner, cheap, and needs only a few weeks of data.
  Not modelled: holidays and other one-off events, intraday re-forecasting, cross-series effects.

Holdout evaluation trains on all but the last D days, forecasts them, and reports WAPE
(Σ|F − A| ÷ ΣA) and MAPE (mean |F − A| ÷ A). MAPE skips intervals whose actual is zero (undefined
there) and says how many it skipped; it is also inflated by near-empty night intervals, so WAPE is
the number to judge a forecast by.

DST: with `tz`, a day has 92, 96 or 100 intervals; the repeated hour's two intervals share the wall
clock slot (fold 0 and 1) and each get that slot's per-interval forecast; a skipped hour has none.
"""
from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from statistics import median
from typing import Literal, NamedTuple

from ccaas.domain.staffing import (
    Model,
    SlVariant,
    StaffingResult,
    required_agents,
    scheduled_agents,
    staffing_metrics,
)

INTERVAL_MINUTES = 15
INTERVAL_SECONDS = INTERVAL_MINUTES * 60
INTERVALS_PER_DAY = 24 * 60 // INTERVAL_MINUTES
_MAX_WEEKLY_CHANGE = 1.25

SeriesKey = tuple[str, str]  # (queue_id, channel)
# Which requirement the schedule is grossed up from: "larger" (default) is the larger of Erlang C's and Erlang A's.
ScheduleBasis = Literal["larger", "erlang_c", "erlang_a"]


class HistoryPoint(NamedTuple):
    interval_start: datetime
    offered: int
    aht_seconds: float | None = None  # None when nothing was handled; ≤ 0 is read as None (unknown)
    handled: int | None = None  # the contacts aht_seconds is the mean of; None: all `offered` ones


@dataclass(frozen=True, slots=True)
class ForecastInterval:
    interval_start: datetime  # tenant-local wall clock (aware, with fold, when a tz was given)
    offered: float  # expected contacts in the interval
    aht_seconds: float | None  # None only when the history had no handled contacts at all


# ---------------------------------------------------------------- calendar helpers


def slot_of(local_start: datetime) -> int:
    """Index of the 15-minute interval of the day, 0..95, by wall clock."""
    return (local_start.hour * 60 + local_start.minute) // INTERVAL_MINUTES


def day_intervals(day: date, tz: tzinfo | None = None) -> list[datetime]:
    """Local starts of the day's intervals: 96, or 92 / 100 on a DST change day when tz is given."""
    midnight = datetime.combine(day, time())
    if tz is None:
        return [midnight + timedelta(minutes=INTERVAL_MINUTES * i) for i in range(INTERVALS_PER_DAY)]
    # Step in UTC so skipped wall times vanish and repeated ones appear twice (fold 0, then 1).
    start = midnight.replace(tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=tz).astimezone(UTC)
    step = timedelta(minutes=INTERVAL_MINUTES)
    starts = []
    while start < end:
        starts.append(start.astimezone(tz))
        start += step
    return starts


def _to_local(moment: datetime, tz: tzinfo | None) -> datetime:
    return moment.astimezone(tz) if tz is not None and moment.tzinfo is not None else moment


def _wall_slot_exists(day: date, slot: int, tz: tzinfo | None) -> bool:
    if tz is None:
        return True
    minutes = slot * INTERVAL_MINUTES
    wall = datetime.combine(day, time(minutes // 60, minutes % 60))
    return wall.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall


# ---------------------------------------------------------------- history aggregation


@dataclass(slots=True)
class _Cell:
    """One wall-clock (date, slot); sums over the real intervals mapping to it (2 in a repeated hour)."""

    offered: float = 0.0
    handle_seconds: float = 0.0  # Σ handled·AHT where AHT is known
    aht_weight: float = 0.0  # Σ handled where AHT is known
    folds: int = 0  # bit set of the folds seen

    @property
    def offered_per_interval(self) -> float:
        return self.offered / max(1, bin(self.folds).count("1"))


class _History:
    def __init__(self, history: Sequence[HistoryPoint | tuple], tz: tzinfo | None):
        self.tz = tz
        self.cells: dict[tuple[date, int], _Cell] = {}
        for point in history:
            start, offered, aht, handled = _unpack(point)
            if offered < 0 or (handled is not None and handled < 0):
                raise ValueError("offered and handled must be >= 0")
            local = _to_local(start, tz)
            cell = self.cells.setdefault((local.date(), slot_of(local)), _Cell())
            cell.offered += offered
            cell.folds |= 1 << local.fold
            # A 0 s AHT (contacts connected and dropped in the same second) is no handle time to staff by:
            # unknown, so the slot falls back like one without AHT (an AHT of 0 made staffing refuse the day).
            weight = offered if handled is None else handled
            if aht is not None and aht > 0 and weight > 0:
                cell.handle_seconds += weight * aht
                cell.aht_weight += weight
        if not self.cells:
            raise ValueError("history is empty")
        # Whole days: an aggregator that skips empty intervals must not make a quiet morning unknown.
        self.first = (min(self.cells)[0], 0)
        self.last = (max(self.cells)[0], INTERVALS_PER_DAY - 1)
        self.daily_totals: dict[date, float] = {}
        for (day, _), cell in self.cells.items():
            self.daily_totals[day] = self.daily_totals.get(day, 0.0) + cell.offered

    def covers(self, day: date, slot: int) -> bool:
        return self.first <= (day, slot) <= self.last and _wall_slot_exists(day, slot, self.tz)

    def value(self, day: date, slot: int) -> _Cell | None:
        """The cell, an empty cell for a covered interval nobody called in, None when unknown."""
        cell = self.cells.get((day, slot))
        if cell is not None:
            return cell
        return _Cell() if self.covers(day, slot) else None

    def week_total(self, first_day: date) -> float | None:
        if not (self.first <= (first_day, 0) and (first_day + timedelta(days=6), INTERVALS_PER_DAY - 1) <= self.last):
            return None
        return sum(self.daily_totals.get(first_day + timedelta(days=i), 0.0) for i in range(7))


def _unpack(point: HistoryPoint | tuple) -> tuple[datetime, float, float | None, int | None]:
    """(start, offered, AHT, handled) of a HistoryPoint or a plain 2-, 3- or 4-tuple."""
    start, offered, aht, handled = (*point, None, None)[:4]
    return start, offered, aht, handled


# ---------------------------------------------------------------- the model


def _theil_sen_weekly_growth(week_totals: Sequence[tuple[int, float]]) -> float:
    """Median pairwise slope of log(total) per week; (age_in_weeks, total) with total > 0."""
    slopes = [
        (math.log(newer) - math.log(older)) / (older_age - newer_age)
        for i, (newer_age, newer) in enumerate(week_totals)
        for older_age, older in week_totals[i + 1:]
    ]
    if not slopes:
        return 1.0
    growth = math.exp(median(slopes))
    return min(_MAX_WEEKLY_CHANGE, max(1.0 / _MAX_WEEKLY_CHANGE, growth))


@dataclass(frozen=True)
class SeasonalForecaster:
    """A fitted model: per (weekday, slot) level as of `origin`, AHT, and the weekly trend."""

    origin: date  # first day after the history
    trend_per_week: float  # e.g. 1.02 = +2 % a week
    damping: float
    level: Mapping[tuple[int, int], float]  # (weekday 0=Mon, slot) → offered per interval at origin
    aht: Mapping[tuple[int, int], float]
    aht_by_slot: Mapping[int, float]
    aht_overall: float | None
    tz: tzinfo | None

    def trend_factor(self, day: date) -> float:
        weeks_ahead = (day - self.origin).days / 7.0
        if weeks_ahead > 0 and self.damping < 1.0:
            weeks_ahead = (1.0 - self.damping ** weeks_ahead) / -math.log(self.damping)
        return self.trend_per_week ** weeks_ahead

    def forecast(self, start: date | None = None, days: int = 1) -> list[ForecastInterval]:
        """Every interval of `days` days from `start` (default: the day after the history)."""
        first = self.origin if start is None else start
        intervals = []
        for offset in range(days):
            day = first + timedelta(days=offset)
            factor = self.trend_factor(day)
            weekday = day.weekday()
            for local_start in day_intervals(day, self.tz):
                slot = slot_of(local_start)
                intervals.append(ForecastInterval(
                    interval_start=local_start,
                    offered=self.level.get((weekday, slot), 0.0) * factor,
                    aht_seconds=self.aht.get((weekday, slot), self.aht_by_slot.get(slot, self.aht_overall)),
                ))
        return intervals


def fit_forecaster(history: Sequence[HistoryPoint | tuple], *, tz: tzinfo | None = None, weeks: int = 6,
                   decay: float = 0.7, damping: float = 0.85) -> SeasonalForecaster:
    """Fit on a (queue, channel) history. weeks: how many past weeks feed profile and trend; decay:
    weight ratio of each older week; damping: weekly fade of the trend beyond the history."""
    if weeks < 1 or not 0 < decay <= 1 or not 0 < damping <= 1:
        raise ValueError("weeks >= 1, decay and damping in (0, 1]")
    data = _History(history, tz)
    origin = data.last[0] + timedelta(days=1)

    week_totals = []
    for age in range(1, weeks + 1):
        total = data.week_total(origin - timedelta(days=7 * age))
        if total:
            week_totals.append((age, total))
    growth = _theil_sen_weekly_growth(week_totals)

    level: dict[tuple[int, int], float] = {}
    aht: dict[tuple[int, int], float] = {}
    slot_handle: dict[int, list[float]] = {}
    all_handle = [0.0, 0.0]
    for weekday in range(7):
        days_back = (origin.weekday() - weekday) % 7 or 7
        for slot in range(INTERVALS_PER_DAY):
            weighted = weights = handle = handle_weight = 0.0
            for k in range(weeks):
                day = origin - timedelta(days=days_back + 7 * k)
                cell = data.value(day, slot)
                if cell is None:
                    continue
                weight = decay ** k
                age_weeks = (origin - day).days / 7.0
                weighted += weight * cell.offered_per_interval * growth ** age_weeks
                weights += weight
                handle += weight * cell.handle_seconds
                handle_weight += weight * cell.aht_weight
            if weights > 0:
                level[(weekday, slot)] = weighted / weights
            if handle_weight > 0:
                aht[(weekday, slot)] = handle / handle_weight
                sums = slot_handle.setdefault(slot, [0.0, 0.0])
                sums[0] += handle
                sums[1] += handle_weight
                all_handle[0] += handle
                all_handle[1] += handle_weight
    # A weekday never seen (history shorter than a week) borrows the same time on the other days.
    for slot in range(INTERVALS_PER_DAY):
        seen = [level[(d, slot)] for d in range(7) if (d, slot) in level]
        for weekday in range(7):
            if (weekday, slot) not in level and seen:
                level[(weekday, slot)] = sum(seen) / len(seen)
    return SeasonalForecaster(
        origin=origin, trend_per_week=growth, damping=damping, level=level, aht=aht,
        aht_by_slot={slot: h / w for slot, (h, w) in slot_handle.items()},
        aht_overall=all_handle[0] / all_handle[1] if all_handle[1] > 0 else None, tz=tz,
    )


def forecast_intervals(history: Sequence[HistoryPoint | tuple], *, start: date | None = None, days: int = 1,
                       tz: tzinfo | None = None, **params: float) -> list[ForecastInterval]:
    """Fit on the history and forecast `days` days from `start` (default: the day after it)."""
    return fit_forecaster(history, tz=tz, **params).forecast(start, days)  # type: ignore[arg-type]


def forecast_by_series(history: Mapping[SeriesKey, Sequence[HistoryPoint | tuple]], *, start: date | None = None,
                       days: int = 1, tz: tzinfo | None = None,
                       **params: float) -> dict[SeriesKey, list[ForecastInterval]]:
    """One forecast per (queue, channel)."""
    return {key: forecast_intervals(points, start=start, days=days, tz=tz, **params)
            for key, points in history.items()}


# ---------------------------------------------------------------- holdout evaluation


@dataclass(frozen=True, slots=True)
class HoldoutReport:
    holdout_days: int
    intervals: int
    actual_total: float
    forecast_total: float
    wape: float | None  # Σ|F − A| ÷ ΣA; None when nothing arrived
    mape: float | None  # mean |F − A| ÷ A over intervals with A > 0
    mape_intervals: int
    zero_actual_intervals: int  # left out of MAPE (undefined there)
    bias: float | None  # (ΣF − ΣA) ÷ ΣA
    trend_per_week: float


def evaluate_holdout(history: Sequence[HistoryPoint | tuple], holdout_days: int = 7, *, tz: tzinfo | None = None,
                     **params: float) -> HoldoutReport:
    """Train on all but the last `holdout_days` days, forecast them, compare per interval."""
    if holdout_days < 1:
        raise ValueError("holdout_days must be >= 1")
    local = [(_to_local(p[0], tz), p) for p in history]
    if not local:
        raise ValueError("history is empty")
    cutoff = max(moment.date() for moment, _ in local) - timedelta(days=holdout_days - 1)
    train = [point for moment, point in local if moment.date() < cutoff]
    actual: dict[tuple[date, int, int], float] = {}
    for moment, point in local:
        if moment.date() >= cutoff:
            key = (moment.date(), slot_of(moment), moment.fold)
            actual[key] = actual.get(key, 0.0) + point[1]
    model = fit_forecaster(train, tz=tz, **params)  # type: ignore[arg-type]
    predicted = model.forecast(cutoff, holdout_days)

    abs_error = actual_total = forecast_total = ape_sum = 0.0
    mape_intervals = zero_intervals = 0
    for interval in predicted:
        start = interval.interval_start
        observed = actual.get((start.date(), slot_of(start), start.fold), 0.0)
        error = abs(interval.offered - observed)
        abs_error += error
        actual_total += observed
        forecast_total += interval.offered
        if observed > 0:
            ape_sum += error / observed
            mape_intervals += 1
        else:
            zero_intervals += 1
    return HoldoutReport(
        holdout_days=holdout_days, intervals=len(predicted), actual_total=actual_total,
        forecast_total=forecast_total,
        wape=abs_error / actual_total if actual_total > 0 else None,
        mape=ape_sum / mape_intervals if mape_intervals else None,
        mape_intervals=mape_intervals, zero_actual_intervals=zero_intervals,
        bias=(forecast_total - actual_total) / actual_total if actual_total > 0 else None,
        trend_per_week=model.trend_per_week,
    )


# ---------------------------------------------------------------- synthetic history


@dataclass(frozen=True, slots=True)
class SyntheticShape:
    """Known truth for tests, benchmarks and demos: weekday level × intraday shape × weekly growth."""

    weekday_volume: float = 3000.0  # contacts on a factor-1.0 day in the first week
    weekly_growth: float = 0.02  # compounding, +2 % a week
    weekday_factors: tuple[float, ...] = (1.15, 1.05, 1.0, 1.0, 0.95, 0.55, 0.35)  # Monday first
    open_hour: int = 7  # no contacts before this local hour …
    close_hour: int = 22  # … nor from this one on
    aht_seconds: float = 300.0

    def expected_offered(self, local_start: datetime, first_day: date) -> float:
        slot = slot_of(local_start)
        day = local_start.date()
        weekend = day.weekday() >= 5
        weeks = ((day - first_day).days + slot / INTERVALS_PER_DAY) / 7.0
        return (self.weekday_volume * self.weekday_factors[day.weekday()] * _intraday_share(self, weekend)[slot]
                * (1.0 + self.weekly_growth) ** weeks)

    def expected_aht(self, local_start: datetime) -> float:
        # Longer calls in the afternoon and at weekends: gives the AHT profile something to learn.
        afternoon = 0.06 * math.sin(2 * math.pi * (slot_of(local_start) / INTERVALS_PER_DAY - 0.35))
        weekend = 0.05 if local_start.weekday() >= 5 else 0.0
        return self.aht_seconds * (1.0 + afternoon + weekend)


@lru_cache(maxsize=32)
def _intraday_share(shape: SyntheticShape, weekend: bool) -> tuple[float, ...]:
    """Share of a day's contacts per slot: two humps on weekdays (10:30, 14:30), one at weekends."""
    humps = ((12.5, 2.5, 1.0),) if weekend else ((10.5, 1.5, 1.0), (14.5, 2.0, 0.8))
    raw = []
    for slot in range(INTERVALS_PER_DAY):
        hour = (slot + 0.5) * INTERVAL_MINUTES / 60.0
        if not shape.open_hour <= hour < shape.close_hour:
            raw.append(0.0)
            continue
        raw.append(0.12 + sum(w * math.exp(-0.5 * ((hour - mu) / sigma) ** 2) for mu, sigma, w in humps))
    total = sum(raw)
    return tuple(v / total for v in raw)


def synthetic_history(first_day: date, days: int, *, seed: int = 0, shape: SyntheticShape = SyntheticShape(),
                      tz: tzinfo | None = None) -> list[HistoryPoint]:
    """Deterministic history with Poisson noise: same seed and arguments, same points. Every interval
    of every day is present (closed hours with offered 0 and AHT None)."""
    rng = random.Random(seed)
    points = []
    for offset in range(days):
        for local_start in day_intervals(first_day + timedelta(days=offset), tz):
            offered = _poisson(rng, shape.expected_offered(local_start, first_day))
            aht = None
            if offered:
                # Mean of `offered` exponential handle times: sd = AHT/√n.
                mean_aht = shape.expected_aht(local_start)
                aht = max(1.0, rng.gauss(mean_aht, mean_aht / math.sqrt(offered)))
            points.append(HistoryPoint(local_start, offered, aht))
    return points


def _poisson(rng: random.Random, mean: float) -> int:
    """Poisson draw: multiplication method below 10, else Hörmann's PTRS transformed rejection
    (W. Hörmann, "The transformed rejection method for generating Poisson random variables",
    Insurance: Mathematics and Economics 12, 1993) — exact, O(1), stdlib only."""
    if mean <= 0:
        return 0
    if mean < 10:
        limit, product, count = math.exp(-mean), rng.random(), 0
        while product > limit:
            product *= rng.random()
            count += 1
        return count
    log_mean, root = math.log(mean), math.sqrt(mean)
    b = 0.931 + 2.53 * root
    a = -0.059 + 0.02483 * b
    inverse_alpha = 1.1239 + 1.1328 / (b - 3.4)
    v_r = 0.9277 - 3.6224 / (b - 2)
    while True:
        u = rng.random() - 0.5
        v = rng.random()
        us = 0.5 - abs(u)
        k = math.floor((2 * a / us + b) * u + mean + 0.43) if us > 0 else -1
        if us >= 0.07 and v <= v_r:
            return k
        if k < 0 or (us < 0.013 and v > us):
            continue
        if (math.log(v) + math.log(inverse_alpha) - math.log(a / (us * us) + b)
                <= -mean + k * log_mean - math.lgamma(k + 1)):
            return k


# ---------------------------------------------------------------- forecast → staffing


@dataclass(frozen=True, slots=True)
class PlanInterval:
    interval_start: datetime
    offered: float
    aht_seconds: float
    required_erlang_c: int
    required_erlang_a: int | None  # None without a patience estimate
    scheduled: int  # required (by `scheduled_from`: the larger of C and A by default) grossed up for shrinkage
    erlang_c: StaffingResult  # expected numbers at required_erlang_c agents, Erlang C
    erlang_a: StaffingResult | None  # expected numbers (incl. abandonment) at required_erlang_a, Erlang A


def _aht_for(interval: ForecastInterval, fallback: float | None) -> float:
    aht = interval.aht_seconds if interval.aht_seconds is not None else fallback
    if aht is None:
        if interval.offered > 0:
            raise ValueError(f"no AHT for {interval.interval_start}; pass fallback_aht_seconds")
        return 1.0  # nothing arrives, any positive AHT gives the same (zero) staffing
    return aht


def staffing_plan(
    forecast: Sequence[ForecastInterval],
    sl_target: float,
    threshold_seconds: float,
    *,
    patience_seconds: float | None,
    interval_seconds: float = INTERVAL_SECONDS,
    max_asa_seconds: float | None = None,
    max_occupancy: float | None = None,
    max_abandon: float | None = None,
    shrinkage: float = 0.0,
    scheduled_from: ScheduleBasis = "larger",
    sl_variant: SlVariant = "default",
    fallback_aht_seconds: float | None = None,
) -> list[PlanInterval]:
    """Per interval: required agents by Erlang C and (with a patience) Erlang A, scheduled agents, and
    the expected SL / ASA / abandonment at those staffing levels. max_abandon only binds Erlang A
    (set it: a busy Erlang A queue can meet the SL while losing many callers).

    Scheduled agents come from the larger requirement by default: Erlang C's meets the SL target without
    counting on callers giving up, Erlang A's is the only one that sees the abandonment cap; a schedule of
    Erlang C's alone lost more than max_abandon of the callers wherever the cap needed more agents."""
    if scheduled_from == "erlang_a" and patience_seconds is None:
        raise ValueError("scheduled_from='erlang_a' needs patience_seconds")
    plan = []
    for interval in forecast:
        aht = _aht_for(interval, fallback_aht_seconds)
        rate = interval.offered / interval_seconds
        targets = dict(aht_seconds=aht, sl_target=sl_target, threshold_seconds=threshold_seconds,
                       arrival_rate=rate, max_asa_seconds=max_asa_seconds, max_occupancy=max_occupancy,
                       max_abandon=max_abandon, sl_variant=sl_variant)
        need_c = required_agents(**targets)
        at_c = staffing_metrics(need_c, arrival_rate=rate, aht_seconds=aht, threshold_seconds=threshold_seconds)
        need_a = at_a = None
        if patience_seconds is not None:
            need_a = required_agents(**targets, model="erlang_a", patience_seconds=patience_seconds)
            at_a = staffing_metrics(need_a, arrival_rate=rate, aht_seconds=aht, threshold_seconds=threshold_seconds,
                                    model="erlang_a", patience_seconds=patience_seconds)
        if need_a is None or scheduled_from == "erlang_c":
            base = need_c
        else:
            base = need_a if scheduled_from == "erlang_a" else max(need_c, need_a)
        plan.append(PlanInterval(
            interval_start=interval.interval_start, offered=interval.offered, aht_seconds=aht,
            required_erlang_c=need_c, required_erlang_a=need_a, scheduled=scheduled_agents(base, shrinkage),
            erlang_c=at_c, erlang_a=at_a,
        ))
    return plan


@dataclass(frozen=True, slots=True)
class WhatIfInterval:
    interval_start: datetime
    offered: float
    agents: int
    metrics: StaffingResult  # service_level, asa_seconds, occupancy, p_abandon, …


def what_if(
    forecast: Sequence[ForecastInterval],
    agents_per_interval: Sequence[int],
    threshold_seconds: float,
    *,
    model: Model = "erlang_c",
    patience_seconds: float | None = None,
    interval_seconds: float = INTERVAL_SECONDS,
    fallback_aht_seconds: float | None = None,
) -> list[WhatIfInterval]:
    """Expected SL, ASA and occupancy (and abandonment under Erlang A) for a given staffing."""
    if len(agents_per_interval) != len(forecast):
        raise ValueError("one agent count per forecast interval")
    outcome = []
    for interval, agents in zip(forecast, agents_per_interval):
        aht = _aht_for(interval, fallback_aht_seconds)
        metrics = staffing_metrics(agents, arrival_rate=interval.offered / interval_seconds, aht_seconds=aht,
                                   threshold_seconds=threshold_seconds, model=model,
                                   patience_seconds=patience_seconds)
        outcome.append(WhatIfInterval(interval.interval_start, interval.offered, agents, metrics))
    return outcome

