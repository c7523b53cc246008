"""Dial pacing (ccaas.domain.outbound.pacing) and the simulated carrier (adapters/memory/carrier)."""
from __future__ import annotations

import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccaas.adapters.memory.carrier import CarrierProfile, SimulatedCarrier
from ccaas.domain.outbound.models import MIN_RING_S, CampaignMode
from ccaas.domain.outbound.pacing import (
    MIN_TARGET_SHARE,
    MIN_WINDOW_ANSWERS,
    PacingState,
    abandon_target,
    budget_share_used,
    dials_to_place,
    drop_budget,
    may_dial_ahead,
    predictive_plan,
    soon_free_weight,
)
from local.testing import examples


def state(**kw) -> PacingState:
    return PacingState(**{"agents_free": 0, **kw})


def test_preview_never_dials_and_progressive_dials_one_per_free_agent():
    s = state(agents_free=5, calls_in_flight=2, agents_on_call=10)
    assert dials_to_place(CampaignMode.PREVIEW, s) == 0
    assert dials_to_place(CampaignMode.PROGRESSIVE, s) == 3
    assert dials_to_place(CampaignMode.PROGRESSIVE, state(agents_free=1, calls_in_flight=4)) == 0


def test_predictive_dials_ahead_but_keeps_predicted_abandonment_under_target():
    s = state(agents_free=5, agents_on_call=15, calls_in_flight=3, answer_rate=0.3)
    plan = predictive_plan(s)
    assert plan.dials > dials_to_place(CampaignMode.PROGRESSIVE, s)  # over-dials
    assert plan.predicted_abandon_rate <= plan.target <= 0.03
    # one more dial would cross the target
    more = predictive_plan(s.model_copy(update={"calls_in_flight": s.calls_in_flight + 1, "agents_free": s.agents_free}))
    assert more.dials <= plan.dials


def test_predictive_never_dials_less_than_progressive():
    for free in range(0, 8):
        s = state(agents_free=free, agents_on_call=20 - free, calls_in_flight=1)
        assert dials_to_place(CampaignMode.PREDICTIVE, s) >= dials_to_place(CampaignMode.PROGRESSIVE, s)


def test_more_answers_mean_fewer_dials_and_agents_about_to_free_mean_more():
    base = state(agents_free=4, agents_on_call=16)
    assert predictive_plan(base.model_copy(update={"answer_rate": 0.6})).dials < predictive_plan(base).dials
    soon = base.model_copy(update={"busy_free_p": (0.9,) * 4 + (0.0,) * 12})
    assert predictive_plan(soon).dials > predictive_plan(base).dials
    # calls ringing for a long time are unlikely to be answered: room for more dials
    stale = base.model_copy(update={"calls_in_flight": 6, "in_flight_answer_p": (0.02,) * 6})
    fresh = base.model_copy(update={"calls_in_flight": 6, "in_flight_answer_p": (0.3,) * 6})
    assert predictive_plan(stale).dials > predictive_plan(fresh).dials


def test_abandonment_controller_spends_the_budget_far_from_the_cap_and_tightens_near_it():
    assert abandon_target(state(measured_abandon_rate=0.0)) == pytest.approx(0.03)
    assert abandon_target(state(measured_abandon_rate=0.015)) == pytest.approx(0.03)  # ≤ half the cap
    assert abandon_target(state(measured_abandon_rate=0.027)) == pytest.approx(0.03 * MIN_TARGET_SHARE)
    assert abandon_target(state(measured_abandon_rate=0.0299)) == pytest.approx(0.03 * MIN_TARGET_SHARE)
    middle = abandon_target(state(measured_abandon_rate=0.021))  # r = 0.7: half-way down the ramp
    assert middle == pytest.approx(0.03 * (1 + MIN_TARGET_SHARE) / 2)
    # a campaign with a stricter own cap: the same shape, scaled
    assert abandon_target(state(measured_abandon_rate=0.0, max_abandon_rate=0.02)) == pytest.approx(0.02)
    s = dict(agents_free=5, agents_on_call=15)
    assert predictive_plan(state(**s, measured_abandon_rate=0.027)).dials < predictive_plan(state(**s)).dials
    over = state(**s, measured_abandon_rate=0.031)
    assert dials_to_place(CampaignMode.PREDICTIVE, over) == dials_to_place(CampaignMode.PROGRESSIVE, over) == 5
    at_cap = state(**s, measured_abandon_rate=0.03)
    assert dials_to_place(CampaignMode.PREDICTIVE, at_cap) == 5


def test_agents_freeing_within_the_horizon_count_only_by_the_timing_weight():
    """An agent in wrap-up serves an answer only if it frees before it: weighted, it allows fewer dials
    than a free agent, more than none; weight 1 is the old count-them-whole model."""
    soon = (0.9,) * 6
    free = predictive_plan(state(agents_free=6, agents_on_call=10))
    weighted = predictive_plan(state(agents_free=0, agents_on_call=16, busy_free_p=soon + (0.0,) * 10))
    whole = predictive_plan(state(agents_free=0, agents_on_call=16, busy_free_p=soon + (0.0,) * 10,
                                  soon_free_weight=1.0))
    none = predictive_plan(state(agents_free=0, agents_on_call=16, busy_free_p=(0.0,) * 16))
    assert none.dials == 0  # nobody can take a call within the horizon: no dial ahead at all
    assert none.dials < weighted.dials < whole.dials <= free.dials
    # the Exp model path (no per-agent estimates) is weighted the same way
    exp_half = predictive_plan(state(agents_on_call=10, agents_in_wrap_up=10, mean_answer_delay_s=25))
    exp_whole = predictive_plan(state(agents_on_call=10, agents_in_wrap_up=10, mean_answer_delay_s=25,
                                      soon_free_weight=1.0))
    assert exp_half.dials < exp_whole.dials


def test_the_timing_weight_follows_the_horizon():
    """k = P(U ≤ T + 2 s), U and T uniform over the horizon h = answer delay + 2 s: 1 when answers are
    instant (any agent freeing within the grace serves), → 1/2 for long rings, overridable."""
    weights = [soon_free_weight(state(mean_answer_delay_s=d)) for d in (0, 5, 12, 30, 300)]
    assert weights[0] == pytest.approx(1.0) and weights[2] == pytest.approx(1 - 12**2 / (2 * 14**2))
    assert weights == sorted(weights, reverse=True) and all(w > 0.5 for w in weights)
    assert soon_free_weight(state(soon_free_weight=0.3)) == 0.3


_probability = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
_states = st.builds(
    PacingState,
    agents_free=st.integers(0, 25), agents_on_call=st.integers(0, 25), agents_in_wrap_up=st.integers(0, 10),
    calls_in_flight=st.integers(0, 40), answer_rate=st.floats(0.0, 0.9), mean_answer_delay_s=st.floats(0, 40),
    measured_abandon_rate=st.one_of(st.just(0.0), st.floats(0.0, 0.06)), max_dials=st.integers(0, 60),
    soon_free_weight=st.one_of(st.none(), _probability),
    busy_free_p=st.one_of(st.none(), st.lists(_probability, max_size=25).map(tuple)),
    in_flight_answer_p=st.one_of(st.none(), st.lists(st.floats(0.0, 0.9), max_size=40).map(tuple)))
_fast = settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
_counts = st.one_of(st.none(), st.tuples(st.integers(0, 3_000), st.integers(0, 120)))


def _with_counts(s: PacingState, counts: tuple[int, int] | None) -> PacingState:
    if counts is None:
        return s
    return s.model_copy(update={"answered_30d": counts[0], "abandoned_30d": counts[1]})


# states with or without the 30-day counts (the counts, when given, drive the controller)
_any_states = st.builds(_with_counts, _states, _counts)


def _may_dial_ahead(s: PacingState) -> bool:
    if s.answered_30d is None:
        return s.measured_abandon_rate < s.max_abandon_rate
    return s.abandoned_30d < s.max_abandon_rate * max(s.answered_30d, s.min_window_answers)


@_fast
@given(_any_states)
def test_property_predictive_never_dials_fewer_than_progressive_and_keeps_its_prediction(s):
    plan = predictive_plan(s)
    progressive = dials_to_place(CampaignMode.PROGRESSIVE, s)
    assert progressive <= plan.dials <= max(progressive, s.max_dials)
    if plan.dials > progressive:  # dialing ahead only where the model says the drops stay under the target
        assert plan.predicted_abandon_rate <= plan.target + 1e-12
        assert _may_dial_ahead(s)


@_fast
@given(_states)
def test_property_at_or_over_the_cap_predictive_dials_exactly_progressively(s):
    s = s.model_copy(update={"measured_abandon_rate": s.max_abandon_rate + s.measured_abandon_rate})
    assert dials_to_place(CampaignMode.PREDICTIVE, s) == dials_to_place(CampaignMode.PROGRESSIVE, s)


@_fast
@given(_any_states, st.integers(0, 60), st.integers(2_000, 100_000))
def test_property_at_or_over_the_cap_with_large_counts_predictive_dials_exactly_progressively(s, extra, answered):
    over = math.ceil(s.max_abandon_rate * answered) + extra  # abandoned ≥ cap × answered, answered ≥ N_min
    s = s.model_copy(update={"answered_30d": answered, "abandoned_30d": over, "measured_abandon_rate": 0.0})
    assert dials_to_place(CampaignMode.PREDICTIVE, s) == dials_to_place(CampaignMode.PROGRESSIVE, s)


@_fast
@given(_any_states, st.integers(1, 5))
def test_property_monotone_in_free_agents(s, more):
    richer = s.model_copy(update={"agents_free": s.agents_free + more})
    assert dials_to_place(CampaignMode.PREDICTIVE, richer) >= dials_to_place(CampaignMode.PREDICTIVE, s)


@_fast
@given(_states, st.floats(0.0, 0.03))
def test_property_a_higher_measured_rate_never_means_more_dials(s, worse):
    higher = s.model_copy(update={"measured_abandon_rate": min(1.0, s.measured_abandon_rate + worse)})
    assert abandon_target(higher) <= abandon_target(s)
    assert dials_to_place(CampaignMode.PREDICTIVE, higher) <= dials_to_place(CampaignMode.PREDICTIVE, s)


@_fast
@given(_states, st.integers(0, 3_000), st.integers(0, 100), st.integers(1, 40), st.integers(1, 500))
def test_property_more_drops_never_mean_more_dials_and_more_answers_never_fewer(s, answered, abandoned, d, n_min):
    def at(answers: int, drops: int) -> int:
        return dials_to_place(CampaignMode.PREDICTIVE, s.model_copy(update={
            "answered_30d": answers, "abandoned_30d": drops, "min_window_answers": n_min}))

    assert at(answered, abandoned + d) <= at(answered, abandoned)
    assert at(answered + d, abandoned) >= at(answered, abandoned)


_windows = st.lists(st.booleans(), min_size=1, max_size=40)  # each answer: dropped (True) or connected


@settings(max_examples=examples(120), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_states, _windows, st.integers(0, 400), st.integers(0, 15), st.integers(1, 400),
       st.sampled_from([0.03, 0.02, 0.01]))
def test_property_over_any_sequence_the_pacer_never_dials_ahead_once_the_drop_budget_is_spent(
        s, drops, answered, abandoned, n_min, cap):
    """Walk a sequence of answers and drops (from any starting window): at every decision the pacer dials
    ahead only with a drop left in the budget, so one more drop keeps abandoned ≤ cap × max(answered, N_min),
    and it dials exactly progressively once abandoned ≥ cap × max(answered, N_min)."""
    s = s.model_copy(update={"max_abandon_rate": cap, "min_window_answers": n_min, "measured_abandon_rate": 0.0})
    for dropped in drops:
        answered += 1
        abandoned += dropped
        now = s.model_copy(update={"answered_30d": answered, "abandoned_30d": abandoned})
        progressive = dials_to_place(CampaignMode.PROGRESSIVE, now)
        dials = dials_to_place(CampaignMode.PREDICTIVE, now)
        window = cap * max(answered, n_min)
        if abandoned >= window:
            assert dials == progressive
        if dials > progressive:
            assert abandoned + 1 <= window + 1e-9
            assert drop_budget(answered, abandoned, cap, n_min) >= 1


def test_first_day_one_early_drop_spends_the_budget_not_the_ratio():
    s = dict(agents_free=5, agents_on_call=15)
    progressive = dials_to_place(CampaignMode.PROGRESSIVE, state(**s))
    # 1 drop in 20 answers: the raw ratio (5 %) would force progressive dialing ...
    assert dials_to_place(CampaignMode.PREDICTIVE, state(**s, measured_abandon_rate=0.05)) == progressive
    # ... the budget (floor(3 % × 200) − 1 = 5 drops left) keeps dialing ahead at the full target
    first_day = state(**s, answered_30d=20, abandoned_30d=1)
    assert drop_budget(20, 1, 0.03) == 5 and may_dial_ahead(20, 1, 0.03)
    assert budget_share_used(first_day) == pytest.approx(1 / 6)
    assert abandon_target(first_day) == pytest.approx(0.03)
    assert dials_to_place(CampaignMode.PREDICTIVE, first_day) > progressive
    # the budget tightens the ramp as it is spent: 4 of 6 drops → r = 0.67, 6 of 6 → progressive
    assert abandon_target(state(**s, answered_30d=50, abandoned_30d=4)) < 0.03
    spent = state(**s, answered_30d=150, abandoned_30d=6)
    assert drop_budget(150, 6, 0.03) == 0 and not may_dial_ahead(150, 6, 0.03)
    assert dials_to_place(CampaignMode.PREDICTIVE, spent) == progressive
    # the answers catching up open the budget again
    assert drop_budget(250, 6, 0.03) == 1


def test_from_n_min_answers_on_the_counts_give_the_ratio_ramp_unchanged():
    assert MIN_WINDOW_ANSWERS == 200
    for answered, abandoned in ((200, 3), (1_000, 21), (1_000, 27), (5_000, 120), (20_000, 440)):
        counts = state(agents_free=3, agents_on_call=17, answered_30d=answered, abandoned_30d=abandoned)
        rate = state(agents_free=3, agents_on_call=17, measured_abandon_rate=abandoned / answered)
        assert abandon_target(counts) == pytest.approx(abandon_target(rate))
        assert predictive_plan(counts).dials == predictive_plan(rate).dials
    # the counts win over a stale rate; a caller with only the rate keeps the old behaviour
    assert abandon_target(state(measured_abandon_rate=0.05, answered_30d=1_000, abandoned_30d=0)) == pytest.approx(0.03)
    with pytest.raises(ValueError):
        state(answered_30d=10)


def test_pacing_is_deterministic():
    s = state(agents_free=3, agents_on_call=17, calls_in_flight=9, busy_free_p=(0.4, 0.7) + (0.0,) * 15,
              in_flight_answer_p=(0.3, 0.1, 0.25) * 3, measured_abandon_rate=0.018)
    assert predictive_plan(s) == predictive_plan(s.model_copy())


def test_agentless_is_rate_limited_by_calls_per_second_and_lines():
    assert dials_to_place(CampaignMode.AGENTLESS, state(calls_per_second=3, tick_s=2, max_lines=50)) == 6
    assert dials_to_place(CampaignMode.AGENTLESS, state(calls_per_second=30, max_lines=10, calls_in_flight=7)) == 3


def test_simulated_carrier_is_seeded_and_matches_its_profile():
    profile = CarrierProfile()
    a = [SimulatedCarrier(random.Random(3), profile).place_call("+12125550100") for _ in range(1)]
    b = [SimulatedCarrier(random.Random(3), profile).place_call("+12125550100") for _ in range(1)]
    assert a == b
    carrier = SimulatedCarrier(random.Random(11), profile)
    draws = [carrier.place_call("+12125550100") for _ in range(20_000)]
    share = {k: sum(d.outcome == k for d in draws) / len(draws) for k in ("human", "machine", "no_answer")}
    assert share["human"] == pytest.approx(0.30, abs=0.015) and share["machine"] == pytest.approx(0.20, abs=0.015)
    assert share["no_answer"] == pytest.approx(0.40, abs=0.015)
    assert all(d.seconds >= MIN_RING_S for d in draws if d.outcome == "no_answer")
    machines = [d for d in draws if d.outcome == "machine"]
    assert sum(d.amd_machine for d in machines) / len(machines) == pytest.approx(0.92, abs=0.02)


def test_carrier_refuses_to_ring_less_than_15_seconds():
    with pytest.raises(ValueError):
        CarrierProfile(no_answer_timeout_s=10)
    with pytest.raises(ValueError):
        CarrierProfile(p_human=0.8, p_machine=0.3)
