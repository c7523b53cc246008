"""The campaign bench (bench/bench_campaigns.py): the sweep, the gain, the bound and the goal verdicts."""
from __future__ import annotations

from dataclasses import replace

import pytest

from bench.bench_campaigns import (
    ANSWER_RATES,
    BASE,
    HEADLINE,
    SEED_HEADERS,
    SWEEP_HEADERS,
    Comparison,
    idle_s_per_connect,
    later_day,
    scenario,
    seed_rows,
    seeds_from,
    sweep,
    sweep_days,
)
from ccaas.domain.outbound.models import CampaignMode
from local.campaign_simulation import DayConfig, DayReport


def report(mode: str, connects: int, busy_s: float, answered: int = 100, abandoned: int = 0) -> DayReport:
    return DayReport(mode=mode, agents=10, hours=2.0, connects=connects, busy_agent_s=busy_s,
                     human_answered=answered, abandoned=abandoned)


def test_gain_bound_and_goal_from_two_days():
    shift_s = 10 * 2.0 * 3600
    progressive = report("progressive", 200, 0.70 * shift_s)
    fast = Comparison(0.2, progressive, report("predictive", 270, 0.94 * shift_s, abandoned=2))
    assert fast.gain == pytest.approx(0.35)
    assert fast.bound == pytest.approx(1 / 0.70 - 1)
    assert fast.goal_met
    # the same gain bought with 4 % abandonment does not meet the goal
    assert not Comparison(0.2, progressive, report("predictive", 270, 0.94 * shift_s, abandoned=4)).goal_met
    assert not Comparison(0.2, progressive, report("predictive", 250, 0.9 * shift_s)).goal_met  # +25 %
    row = fast.row()
    assert len(row) == len(SWEEP_HEADERS)
    assert row[:2] == ["20% (headline)", "2 h"] and row[-2:] == ["+42.9%", "yes"] and row[10] == "+35.0%"


def test_idle_between_calls_is_unbusy_agent_time_per_connect():
    assert idle_s_per_connect(report("progressive", 100, 10 * 2.0 * 3600 - 6000)) == pytest.approx(60.0)
    assert idle_s_per_connect(report("progressive", 0, 0.0)) == pytest.approx(72_000.0)  # no connect: all idle


def test_the_headline_is_in_the_sweep_and_scenarios_change_only_the_answer_rate():
    assert HEADLINE in ANSWER_RATES and ANSWER_RATES == tuple(sorted(ANSWER_RATES))
    day = scenario(0.15)
    assert day.profile.p_human == 0.15
    assert replace(day, profile=BASE.profile) == BASE
    days = dict(sweep_days())
    assert set(days) == set(ANSWER_RATES)
    assert days[HEADLINE] == scenario(HEADLINE) and days[HEADLINE].hours == BASE.hours  # the whole day
    for rate, day in days.items():
        assert day.profile.p_human == rate and day.agents == BASE.agents  # same staffing everywhere
        if rate != HEADLINE:
            assert (day.hours, day.records) == (BASE.hours / 2, BASE.records // 2)


def test_the_later_day_is_the_headline_day_with_a_filled_30_day_window():
    day = later_day()
    assert day.mode is CampaignMode.PREDICTIVE and day.profile.p_human == HEADLINE
    assert day.prior_answered > 0 and 0 < day.prior_abandoned / day.prior_answered < 0.03
    fresh = replace(day, prior_answered=0, prior_abandoned=0)
    assert fresh == replace(scenario(HEADLINE), mode=CampaignMode.PREDICTIVE)
    labelled = Comparison(HEADLINE, report("progressive", 10, 1.0), report("predictive", 13, 1.0), label="a later day")
    assert labelled.row()[0] == "a later day"


def test_a_small_sweep_compares_both_modes_at_the_same_staffing_and_does_not_depend_on_the_pool():
    small = DayConfig(agents=6, hours=0.75, records=900)
    days = [(0.2, scenario(0.2, small)), (0.3, scenario(0.3, small))]
    serial = sweep(days, workers=1)
    assert [c.answer_rate for c in serial] == [0.2, 0.3]
    for c in serial:
        assert (c.progressive.mode, c.predictive.mode) == ("progressive", "predictive")
        assert c.progressive.agents == c.predictive.agents == 6
        assert c.progressive.attempts == [] and c.predictive.dials > c.progressive.dials > 0
        assert c.predictive.connects_per_agent_hour > c.progressive.connects_per_agent_hour
        assert c.predictive.occupancy > c.progressive.occupancy
    pooled = sweep(days, workers=2)
    assert [c.row() for c in pooled] == [c.row() for c in serial]


def test_the_seeds_come_from_the_environment_and_default_to_the_base_seed():
    assert seeds_from(None) == seeds_from("") == (BASE.seed,)
    assert seeds_from("7,8,9") == (7, 8, 9)
    assert seeds_from(" 9, 7,9 ,") == (9, 7)  # order kept, duplicates and blanks dropped
    with pytest.raises(ValueError):
        seeds_from("seven")


def test_a_seed_row_reports_the_first_day_gain_abandonment_and_decisions_at_the_cap():
    pred = replace(report("predictive", 13, 1.0, answered=200, abandoned=7), fallbacks=42)
    rows = seed_rows(8, [Comparison(0.2, report("progressive", 10, 1.0), pred)])
    assert rows == [[8, "20%", "+30.0%", "3.50%", "7/200", 42, False]]
    assert len(rows[0]) == len(SEED_HEADERS)
