"""Estimated wait and position, callback-in-queue, reservation outcomes, policy loading."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from pydantic import ValidationError

from ccaas.domain.models import QueueAssignment
from ccaas.domain.routing_engine import (
    QueueStats,
    RoutingPolicy,
    after_failed_offer,
    blended_aht,
    decide_callback,
    effective_agents,
    estimate_wait,
    position_in_queue,
    reservation_deadline,
)
from tests.fixtures.routing.builders import T0, agent, contact, s

FIXTURES = Path(__file__).parents[1] / "fixtures" / "routing"


def test_position_counts_contacts_served_first():
    me = contact("me", enqueued_at=s(-10), priority=5)
    waiting = [contact("older", enqueued_at=s(-30)), contact("vip", enqueued_at=s(-1), priority=1),
               contact("newer", enqueued_at=s(-5)), contact("low", enqueued_at=s(-60), priority=9), me]
    assert position_in_queue(me, waiting) == 3  # older, vip
    assert position_in_queue(waiting[1], waiting) == 1
    assert position_in_queue(waiting[3], waiting) == 5


def test_estimated_wait_formula_and_sanity():
    stats = QueueStats(aht_s=300, agents=10, available=0)
    e = estimate_wait(5, stats)
    assert e.ewt_s == pytest.approx(150) and e.position == 5  # 5 × 300 / 10
    assert e.p90_s > e.ewt_s
    # Gamma(5, 30 s) 90th percentile is 239.6 s; Wilson–Hilferty is within 1 %
    assert e.p90_s == pytest.approx(239.6, rel=0.01)
    waits = [estimate_wait(p, stats).ewt_s for p in range(1, 30)]
    assert waits == sorted(waits) and waits[0] == pytest.approx(30)
    assert estimate_wait(5, stats.model_copy(update={"agents": 20})).ewt_s == pytest.approx(75)
    assert estimate_wait(3, stats.model_copy(update={"available": 3})).ewt_s == 0
    assert estimate_wait(5, stats.model_copy(update={"available": 2})).ewt_s == pytest.approx(90)
    assert math.isinf(estimate_wait(1, QueueStats(aht_s=300, agents=0)).ewt_s)


def test_aht_blend_and_effective_agents():
    assert blended_aht(None, 0, 300) == 300
    assert blended_aht(100, 10, 300, prior_weight=10) == pytest.approx(200)
    assert blended_aht(100, 990, 300) == pytest.approx(102)
    A = QueueAssignment
    agents = [agent("a", queues=("billing",)), agent("b", queues=("billing", "sales")),
              agent("c", queues=(A(queue_id="billing", priority=2), A(queue_id="sales", priority=1))),
              agent("off", queues=("billing",)).model_copy(update={"status": "OFFLINE"})]
    assert effective_agents(agents, "billing") == pytest.approx(1 + 0.5 + 0.5)
    assert effective_agents(agents, "sales") == pytest.approx(0.5 + 1)


def test_callback_in_queue_keeps_its_place():
    policy = RoutingPolicy.model_validate({"queue_defaults": {"callback": {"offer_when_wait_exceeds_s": 120}}})
    c = contact(enqueued_at=s(-40))
    stats = QueueStats(aht_s=300, agents=10)
    d = decide_callback(c, policy, estimate_wait(4, stats), T0)  # 120 s: not above the limit
    assert d.outcome == "queue"
    d = decide_callback(c, policy, estimate_wait(5, stats), T0)
    assert d.outcome == "callback" and d.data["keep_place_since"] == s(-40) and "keeping its place" in d.why
    never = decide_callback(c, RoutingPolicy(), estimate_wait(50, stats), T0)
    assert never.outcome == "queue" and never.why == "callbacks not offered"


def test_reservation_timeout_and_reject_policy():
    policy = RoutingPolicy()
    assert policy.reservation.timeout_s == 30
    assert reservation_deadline(T0, policy) == s(30)
    c = contact(declined_by=("x",))
    timeout = after_failed_offer(c, "a1", "timeout", policy, T0)
    assert timeout.reoffer and timeout.agent_status == "MISSED" and not timeout.reset_declines
    reject = after_failed_offer(c, "a1", "rejected", policy, T0)
    assert reject.reoffer and reject.agent_status is None and reject.decision.outcome == "reoffer"
    strict = RoutingPolicy.model_validate({"reservation": {"timeout_s": 15, "max_declines": 2,
                                                           "reject": {"set_not_ready": True,
                                                                      "not_ready_status": "REJECTED"}}})
    assert reservation_deadline(T0, strict) == s(15)
    r = after_failed_offer(c, "a1", "rejected", strict, T0)
    assert r.agent_status == "REJECTED" and r.reset_declines and "max_declines=2" in r.decision.why


def test_policy_json_fixtures_load_and_merge_queue_overrides():
    policy = RoutingPolicy.load(FIXTURES / "policy_default.json")
    billing = policy.for_queue("billing")
    assert [st.name for st in billing.steps] == ["experts", "capable"]
    assert billing.hours is not None and billing.callback.offer_when_wait_exceeds_s == 60  # from defaults
    assert policy.for_queue("unknown") == policy.queue_defaults
    assert policy.reservation.timeout.not_ready_status == "MISSED"
    for name in ("policy_fifo.json", "policy_agent_centric.json"):
        RoutingPolicy.load(FIXTURES / name)
    assert RoutingPolicy.from_json(policy.model_dump_json()) == policy
    assert set(RoutingPolicy().segments) == {"platinum", "gold", "standard", "self_service"}
    with pytest.raises(ValidationError):
        RoutingPolicy.model_validate({"agent_scoring": {"proficency": 2}})  # typo rejected
    with pytest.raises(ValidationError):
        RoutingPolicy.model_validate({"queues": {"q": {"steps": [{"condition": "billing>=9"}]}}})
    json.loads(RoutingPolicy().model_dump_json())
