"""Dial pacing (ccaas.domain.outbound.pacing) and the simulated carrier (adapters/memory/carrier)."""
from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccaas.adapters.memory.carrier import CarrierProfile, SimulatedCarrier
from ccaas.domain.outbound.models import MIN_RING_S, CampaignMode
from ccaas.domain.outbound.pacing import (
    MIN_TARGET_SHARE,
    PacingState,
    abandon_target,
    dials_to_place,
    predictive_plan,
    soon_free_weight,
)


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
_fast = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_fast
@given(_states)
def test_property_predictive_never_dials_fewer_than_progressive_and_keeps_its_prediction(s):
    plan = predictive_plan(s)
    progressive = dials_to_place(CampaignMode.PROGRESSIVE, s)
    assert progressive <= plan.dials <= max(progressive, s.max_dials)
    if plan.dials > progressive:  # dialing ahead only where the model says the drops stay under the target
        assert plan.predicted_abandon_rate <= plan.target + 1e-12
        assert s.measured_abandon_rate < s.max_abandon_rate


@_fast
@given(_states)
def test_property_at_or_over_the_cap_predictive_dials_exactly_progressively(s):
    s = s.model_copy(update={"measured_abandon_rate": s.max_abandon_rate + s.measured_abandon_rate})
    assert dials_to_place(CampaignMode.PREDICTIVE, s) == dials_to_place(CampaignMode.PROGRESSIVE, s)


@_fast
@given(_states, st.integers(1, 5))
def test_property_monotone_in_free_agents(s, more):
    richer = s.model_copy(update={"agents_free": s.agents_free + more})
    assert dials_to_place(CampaignMode.PREDICTIVE, richer) >= dials_to_place(CampaignMode.PREDICTIVE, s)


@_fast
@given(_states, st.floats(0.0, 0.03))
def test_property_a_higher_measured_rate_never_means_more_dials(s, worse):
    higher = s.model_copy(update={"measured_abandon_rate": min(1.0, s.measured_abandon_rate + worse)})
    assert abandon_target(higher) <= abandon_target(s)
    assert dials_to_place(CampaignMode.PREDICTIVE, higher) <= dials_to_place(CampaignMode.PREDICTIVE, s)


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
