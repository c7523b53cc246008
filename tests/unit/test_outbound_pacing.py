"""Dial pacing (ccaas.domain.outbound.pacing) and the simulated carrier (adapters/memory/carrier)."""
from __future__ import annotations

import random

import pytest

from ccaas.adapters.memory.carrier import CarrierProfile, SimulatedCarrier
from ccaas.domain.outbound.models import MIN_RING_S, CampaignMode
from ccaas.domain.outbound.pacing import PacingState, abandon_target, dials_to_place, predictive_plan


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


def test_abandonment_controller_lowers_the_target_and_falls_back_at_the_limit():
    low, near = state(measured_abandon_rate=0.0), state(measured_abandon_rate=0.027)
    assert abandon_target(low) == pytest.approx(0.021)
    assert abandon_target(near) < abandon_target(low)
    s = dict(agents_free=5, agents_on_call=15)
    assert predictive_plan(state(**s, measured_abandon_rate=0.027)).dials <= predictive_plan(state(**s)).dials
    over = state(**s, measured_abandon_rate=0.031)
    assert dials_to_place(CampaignMode.PREDICTIVE, over) == dials_to_place(CampaignMode.PROGRESSIVE, over) == 5


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
