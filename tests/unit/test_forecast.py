"""Forecast on synthetic history with a known shape, holdout metrics, DST, zero volume, staffing plan."""
from __future__ import annotations

import math
import random
from datetime import UTC, date, timedelta
from zoneinfo import ZoneInfo

import pytest

from ccaas.domain import forecast as fc
from ccaas.domain.staffing import erlang_c_metrics, scheduled_agents

FIRST_DAY = date(2026, 8, 3)  # a Monday
NEW_YORK = ZoneInfo("America/New_York")


def _oracle_wape(points, shape, first_day):
    """WAPE of the true mean against the noisy actuals: the Poisson noise floor no forecast can beat."""
    error = sum(abs(shape.expected_offered(p.interval_start, first_day) - p.offered) for p in points)
    return error / sum(p.offered for p in points)


def _seasonal_naive_wape(history, days):
    """Baseline: each holdout interval = the same interval one week earlier."""
    by_start = {p.interval_start: p.offered for p in history}
    holdout = history[-days * fc.INTERVALS_PER_DAY:]
    error = sum(abs(by_start[p.interval_start - timedelta(days=7)] - p.offered) for p in holdout)
    return error / sum(p.offered for p in holdout)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_holdout_wape_is_close_to_the_poisson_noise_floor(seed):
    shape = fc.SyntheticShape(weekly_growth=0.02)
    history = fc.synthetic_history(FIRST_DAY, 8 * 7, seed=seed, shape=shape)
    report = fc.evaluate_holdout(history, 7)
    floor = _oracle_wape(history[-7 * fc.INTERVALS_PER_DAY:], shape, FIRST_DAY)
    # Why 1.25 × the floor: forecast − actual = (profile error) + (Poisson noise). The profile averages
    # the same interval over 6 weeks with weights 0.7^k, so its own Poisson variance is
    # Σω²/(Σω)² = 0.224 of one interval's: expected WAPE ≈ √1.224 = 1.11 × the floor, plus a little trend
    # error. Over 20 seeds × 4 trends it measured 1.06–1.17; 1.25 leaves room for sampling luck but
    # fails a forecast that is off in level, shape or trend by more than a few %.
    assert report.wape <= 1.25 * floor
    assert 0.08 < floor < 0.14  # the synthetic day really has ~3,000 contacts spread over 60 intervals
    # And it beats the usual baseline (same interval last week: ≈ √2 × the floor, plus the trend).
    assert report.wape < 0.9 * _seasonal_naive_wape(history, 7)
    assert abs(report.bias) < 0.03
    assert report.intervals == 7 * 96


@pytest.mark.parametrize("growth", [0.05, 0.02, 0.0, -0.03])
def test_trend_is_detected(growth):
    history = fc.synthetic_history(FIRST_DAY, 8 * 7, seed=11, shape=fc.SyntheticShape(weekly_growth=growth))
    model = fc.fit_forecaster(history)
    assert model.trend_per_week == pytest.approx(1 + growth, abs=0.005)
    # Forecast a week ahead: total close to the true expected total of that week.
    shape = fc.SyntheticShape(weekly_growth=growth)
    ahead = model.forecast(None, 7)
    expected = sum(shape.expected_offered(i.interval_start, FIRST_DAY) for i in ahead)
    assert sum(i.offered for i in ahead) == pytest.approx(expected, rel=0.02)


def test_trend_survives_a_holiday_week():
    shape = fc.SyntheticShape(weekly_growth=0.03)
    history = fc.synthetic_history(FIRST_DAY, 8 * 7, seed=5, shape=shape)
    holiday = FIRST_DAY + timedelta(days=7 * 5 + 2)  # a Wednesday three weeks before the end
    history = [p._replace(offered=0, aht_seconds=None) if p.interval_start.date() == holiday else p for p in history]
    # Theil–Sen on weekly totals shrugs off the one short week; a least-squares slope would not.
    assert fc.fit_forecaster(history).trend_per_week == pytest.approx(1.03, abs=0.008)


def test_forecast_learns_intraday_and_weekday_shape_and_aht():
    shape = fc.SyntheticShape(weekly_growth=0.0)
    history = fc.synthetic_history(FIRST_DAY, 6 * 7, seed=3, shape=shape)
    intervals = fc.forecast_intervals(history, days=7)
    assert len(intervals) == 7 * 96
    by_day: dict[date, float] = {}
    for interval in intervals:
        by_day[interval.interval_start.date()] = by_day.get(interval.interval_start.date(), 0) + interval.offered
        hour = interval.interval_start.hour
        if hour < shape.open_hour or hour >= shape.close_hour:
            assert interval.offered == 0.0  # closed hours stay empty
    for day, total in by_day.items():
        assert total == pytest.approx(shape.weekday_volume * shape.weekday_factors[day.weekday()], rel=0.03)
    # Weekday peak at 10:30, weekend peak around 12:30.
    monday = [i for i in intervals if i.interval_start.weekday() == 0]
    sunday = [i for i in intervals if i.interval_start.weekday() == 6]
    assert 9.5 <= max(monday, key=lambda i: i.offered).interval_start.hour <= 11
    assert 11 <= max(sunday, key=lambda i: i.offered).interval_start.hour <= 14
    # AHT: handle-time-weighted, close to the synthetic truth. An interval's AHT averages ~offered
    # exponential handle times per week over (Σω)²/Σω² = 4.47 effective weeks, so its standard error is
    # AHT/√(4.47·offered); allow 4.5 of those per interval, and 2 % on the volume-weighted mean.
    busy = [i for i in intervals if i.offered > 5]
    weighted_error = 0.0
    for interval in busy:
        truth = shape.expected_aht(interval.interval_start)
        assert abs(interval.aht_seconds - truth) < 4.5 * truth / math.sqrt(4.47 * interval.offered)
        weighted_error += interval.offered * (interval.aht_seconds - truth) / truth
    assert abs(weighted_error / sum(i.offered for i in busy)) < 0.02
    # The synthetic AHT is a few % longer mid-afternoon than in the morning; the forecast sees it too.
    tuesday = {i.interval_start.hour * 60 + i.interval_start.minute: i.aht_seconds
               for i in intervals if i.interval_start.weekday() == 1}
    assert sum(tuesday[m] for m in range(14 * 60, 17 * 60, 15)) > sum(tuesday[m] for m in range(8 * 60, 11 * 60, 15))


def test_mape_skips_zero_actuals_and_matches_a_hand_computation():
    history = fc.synthetic_history(FIRST_DAY, 5 * 7, seed=8)
    report = fc.evaluate_holdout(history, 3)
    train = [p for p in history if p.interval_start.date() < FIRST_DAY + timedelta(days=32)]
    predicted = fc.fit_forecaster(train).forecast(FIRST_DAY + timedelta(days=32), 3)
    actual = history[-3 * 96:]
    pairs = list(zip(predicted, actual))
    assert all(f.interval_start == a.interval_start for f, a in pairs)
    nonzero = [(f.offered, a.offered) for f, a in pairs if a.offered > 0]
    assert report.zero_actual_intervals == len(pairs) - len(nonzero) > 0
    assert report.mape_intervals == len(nonzero)
    assert report.mape == pytest.approx(sum(abs(f - a) / a for f, a in nonzero) / len(nonzero), rel=1e-12)
    assert report.wape == pytest.approx(sum(abs(f.offered - a.offered) for f, a in pairs)
                                        / sum(a.offered for _, a in pairs), rel=1e-12)


def test_dst_days_have_92_and_100_intervals_and_nothing_breaks():
    # 2026 in New York: clocks spring forward on 8 March, fall back on 1 November.
    assert len(fc.day_intervals(date(2026, 3, 8), NEW_YORK)) == 92
    assert len(fc.day_intervals(date(2026, 11, 1), NEW_YORK)) == 100
    assert len(fc.day_intervals(date(2026, 11, 2), NEW_YORK)) == 96
    shape = fc.SyntheticShape(open_hour=0, close_hour=24)  # volume in the night too, so DST hours count
    for first, change in ((date(2026, 1, 26), date(2026, 3, 8)), (date(2026, 9, 21), date(2026, 11, 1))):
        history = fc.synthetic_history(first, 7 * 7, seed=4, shape=shape, tz=NEW_YORK)
        # (Aware datetimes in one zone compare by wall clock, ignoring fold: count distinct instants.)
        assert len({p.interval_start.astimezone(UTC) for p in history}) == len(history)
        # Train through the change, forecast the next change-weekday and the change day itself again.
        model = fc.fit_forecaster([p for p in history if p.interval_start.date() < change + timedelta(days=1)],
                                  tz=NEW_YORK)
        same_day = model.forecast(change, 1)
        assert len(same_day) == len(fc.day_intervals(change, NEW_YORK))
        assert all(math.isfinite(i.offered) and i.offered >= 0 for i in same_day)
        # The repeated 01:xx hour (fold 0 and 1) gets one per-interval value for both.
        repeated = [i for i in same_day if i.interval_start.fold == 1]
        assert len(repeated) == (4 if change.month == 11 else 0)
        for interval in repeated:
            twin = next(j for j in same_day if j.interval_start.fold == 0 and
                        j.interval_start.replace(fold=0) == interval.interval_start.replace(fold=0))
            assert twin.offered == interval.offered
        report = fc.evaluate_holdout([p for p in history if p.interval_start.date() <= change + timedelta(days=3)],
                                     7, tz=NEW_YORK)
        assert report.wape is not None and report.wape < 0.2


def test_utc_history_with_tz_buckets_like_local_history():
    local = fc.synthetic_history(FIRST_DAY, 3 * 7, seed=9, tz=NEW_YORK)
    as_utc = [p._replace(interval_start=p.interval_start.astimezone(UTC)) for p in local]
    assert fc.forecast_intervals(local, days=2, tz=NEW_YORK) == fc.forecast_intervals(as_utc, days=2, tz=NEW_YORK)


def test_zero_volume_and_missing_rows():
    quiet = [fc.HistoryPoint(p.interval_start, 0, None) for p in fc.synthetic_history(FIRST_DAY, 14, seed=1)]
    intervals = fc.forecast_intervals(quiet, days=2)
    assert all(i.offered == 0 and i.aht_seconds is None for i in intervals)
    report = fc.evaluate_holdout(quiet, 2)
    assert (report.wape, report.mape, report.mape_intervals, report.zero_actual_intervals) == (None, None, 0, 192)
    plan = fc.staffing_plan(intervals, 0.8, 20, patience_seconds=120)
    assert all(p.required_erlang_c == 0 and p.required_erlang_a == 0 and p.scheduled == 0 for p in plan)
    # An aggregator that skips empty intervals: same forecast as with explicit zero rows.
    full = fc.synthetic_history(FIRST_DAY, 3 * 7, seed=2)
    sparse = [p for p in full if p.offered > 0]
    assert len(sparse) < len(full)
    assert fc.forecast_intervals(sparse, days=3) == fc.forecast_intervals(full, days=3)


def test_short_history_borrows_other_weekdays():
    history = fc.synthetic_history(FIRST_DAY, 3, seed=1)  # Monday to Wednesday only
    intervals = fc.forecast_intervals(history, days=7)
    assert len(intervals) == 7 * 96 and sum(i.offered for i in intervals) > 0
    with pytest.raises(ValueError):
        fc.fit_forecaster([])


def test_synthetic_history_is_deterministic_and_poisson():
    assert fc.synthetic_history(FIRST_DAY, 2, seed=7) == fc.synthetic_history(FIRST_DAY, 2, seed=7)
    assert fc.synthetic_history(FIRST_DAY, 2, seed=7) != fc.synthetic_history(FIRST_DAY, 2, seed=8)
    rng = random.Random(42)
    for mean in (0.3, 4.0, 25.0, 400.0):  # both sampler branches
        draws = [fc._poisson(rng, mean) for _ in range(20_000)]
        sample_mean = sum(draws) / len(draws)
        variance = sum((d - sample_mean) ** 2 for d in draws) / (len(draws) - 1)
        # Standard error of the mean is √(mean/20000); allow 5 of them. Variance equals the mean.
        assert abs(sample_mean - mean) < 5 * math.sqrt(mean / 20_000)
        assert variance == pytest.approx(mean, rel=0.05)


def test_staffing_plan_and_what_if():
    history = fc.synthetic_history(FIRST_DAY, 6 * 7, seed=6)
    intervals = fc.forecast_intervals(history, days=1)
    plan = fc.staffing_plan(intervals, 0.8, 20, patience_seconds=120, shrinkage=0.3, max_occupancy=0.9)
    assert len(plan) == 96
    busy = [p for p in plan if p.offered > 1]
    assert busy
    for p in plan:
        assert p.required_erlang_a <= p.required_erlang_c
        assert p.scheduled == scheduled_agents(p.required_erlang_c, 0.3)
        if p.offered > 0:
            assert p.erlang_c.service_level >= 0.8 and p.erlang_c.occupancy <= 0.9
            assert p.erlang_a.service_level >= 0.8 and 0 <= p.erlang_a.p_abandon < 0.2
            # Cross-check one number with the staffing module directly.
            direct = erlang_c_metrics(p.required_erlang_c, arrival_rate=p.offered / 900, aht_seconds=p.aht_seconds,
                                      threshold_seconds=20)
            assert direct.service_level == p.erlang_c.service_level
    peak = max(plan, key=lambda p: p.offered)
    assert peak.required_erlang_c > 10
    # An abandonment cap binds Erlang A only, and may then ask for more agents than Erlang C (which
    # ignores abandonment): 2 % of callers lost is a stricter goal than 80/20 in quiet intervals.
    capped = fc.staffing_plan(intervals, 0.8, 20, patience_seconds=120, max_abandon=0.02)
    assert all(c.erlang_a.p_abandon <= 0.02 and c.required_erlang_c == p.required_erlang_c
               for c, p in zip(capped, fc.staffing_plan(intervals, 0.8, 20, patience_seconds=None)))
    assert any(c.required_erlang_a > c.required_erlang_c for c in capped)

    agents = [p.required_erlang_c for p in plan]
    as_planned = fc.what_if(intervals, agents, 20)
    one_short = fc.what_if(intervals, [max(0, n - 1) for n in agents], 20)
    for planned, short, p in zip(as_planned, one_short, plan):
        assert planned.metrics.service_level == p.erlang_c.service_level
        if p.offered > 1:
            assert short.metrics.service_level < 0.8 or short.metrics.occupancy > 0.9
            assert short.metrics.asa_seconds > planned.metrics.asa_seconds
    with_abandonment = fc.what_if(intervals, agents, 20, model="erlang_a", patience_seconds=120)
    assert all(w.metrics.service_level >= c.metrics.service_level - 1e-12
               for w, c in zip(with_abandonment, as_planned))
    with pytest.raises(ValueError):
        fc.what_if(intervals, agents[:-1], 20)


def test_forecast_by_series_keeps_queues_apart():
    big = fc.synthetic_history(FIRST_DAY, 14, seed=1, shape=fc.SyntheticShape(weekday_volume=5000))
    small = fc.synthetic_history(FIRST_DAY, 14, seed=2, shape=fc.SyntheticShape(weekday_volume=200))
    result = fc.forecast_by_series({("sales", "VOICE"): big, ("support", "CHAT"): small}, days=1)
    totals = {key: sum(i.offered for i in value) for key, value in result.items()}
    assert totals[("sales", "VOICE")] > 10 * totals[("support", "CHAT")]


def test_a_zero_aht_is_unknown_not_a_handle_time_to_staff_by():
    # One contact connected and dropped in the same second, in a slot nobody else called in: its AHT of 0 used to
    # become the slot's forecast AHT and staffing refused the whole day.
    history = fc.synthetic_history(FIRST_DAY, 14, seed=3)
    quiet = next(i for i, p in enumerate(history) if p.offered == 0 and p.interval_start.date() == FIRST_DAY)
    history[quiet] = history[quiet]._replace(offered=1, aht_seconds=0.0)
    model = fc.fit_forecaster(history)
    slot = fc.slot_of(history[quiet].interval_start)
    intervals = model.forecast(FIRST_DAY + timedelta(days=14), 1)
    assert intervals[slot].offered > 0 and intervals[slot].aht_seconds == model.aht_by_slot.get(slot, model.aht_overall)
    assert all(i.aht_seconds is None or i.aht_seconds > 0 for i in intervals)
    plan = fc.staffing_plan(intervals, 0.8, 20, patience_seconds=None, fallback_aht_seconds=300.0)
    assert plan[slot].required_erlang_c >= 1
