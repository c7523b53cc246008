"""Routing steps, skill conditions, segments and journey routing (plan_contact + select_agent)."""
from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from ccaas.domain.models import Contact, SkillRequirement
from ccaas.domain.routing_engine import (
    JourneyContext,
    PastContact,
    RoutingPlan,
    RoutingPolicy,
    fit,
    matches,
    parse_condition,
    plan_contact,
    render,
    select_agent,
)
from ccaas.domain.routing_engine.conditions import AllOf, AnyOf, Condition, NotOf, SkillAtLeast
from tests.fixtures.routing.builders import T0, agent, contact, queue, s

DAY_MS = 86_400_000

POLICY = RoutingPolicy.model_validate({
    "queues": {"billing": {"steps": [
        {"name": "experts", "condition": "billing>=4", "expiry_s": 20},
        {"name": "capable", "condition": {"skill": "billing", "min": 2}, "expiry_s": 40},
    ]}},
})


class PlannedContact(Contact):
    """Contact with the routing field the use-case will add (the engine reads it if present)."""

    routing: RoutingPlan | None = None


def _with_plan(c: Contact, plan: RoutingPlan) -> Contact:
    """The contact carrying its plan, before and after Contact gets its `routing` field."""
    return PlannedContact(**{**c.model_dump(), "routing": plan})


def _agents():
    return [agent("a5", {"billing": 5}), agent("a3", {"billing": 3}), agent("a1", {"billing": 1}), agent("a0", {})]


# ------------------------------------------------------------------ conditions


def test_and_or_not_conditions():
    cond = parse_condition("billing>=4 and (language:es>=3 or not vip)")
    assert cond == AllOf(all=(SkillAtLeast(skill="billing", min=4),
                              AnyOf(any=(SkillAtLeast(skill="language:es", min=3),
                                         NotOf(not_=SkillAtLeast(skill="vip"))))))
    assert matches(cond, {"billing": 4})  # not vip
    assert matches(cond, {"billing": 5, "vip": 1, "language:es": 3})
    assert not matches(cond, {"billing": 5, "vip": 1, "language:es": 2})  # vip and weak Spanish
    assert not matches(cond, {"billing": 3})
    assert matches(parse_condition("a | b & c"), {"a": 1}) and not matches(parse_condition("(a | b) & c"), {"a": 1})
    assert matches(parse_condition("!x"), {}) and not matches(parse_condition("!x"), {"x": 2})


def test_condition_json_and_text_forms_round_trip():
    ta = TypeAdapter(Condition)
    text = "billing>=4 and (language:es>=3 or not vip)"
    cond = ta.validate_python(text)
    assert render(cond) == text
    assert ta.validate_json(ta.dump_json(cond)) == cond
    assert ta.validate_python({"not": {"skill": "vip"}}) == NotOf(not_=SkillAtLeast(skill="vip"))
    for bad in ("billing>=", "a and", "(a", "a b", {"skill": "x", "min": 6}):
        with pytest.raises((ValidationError, ValueError)):
            ta.validate_python(bad)


def test_proficiency_fit():
    assert fit(parse_condition("billing>=2"), {"billing": 4}) == pytest.approx(0.8)
    assert fit(parse_condition("billing and sales"), {"billing": 5, "sales": 3}) == pytest.approx(0.8)
    assert fit(parse_condition("billing or sales"), {"billing": 2, "sales": 4}) == pytest.approx(0.8)
    assert fit(parse_condition("not vip"), {"vip": 5}) is None
    assert fit(None, {"billing": 5}) is None


# ------------------------------------------------------------------ steps relax over time


@pytest.mark.parametrize("planned", [False, True], ids=["queue-default", "plan"])
def test_steps_relax_at_expiry(planned):
    q = queue()
    c = contact()
    if planned:
        plan = plan_contact(q, POLICY, None, None, T0)
        assert [st.expires_at for st in plan.steps] == [s(20), s(60)]
        c = _with_plan(c, plan)
    weaker = [a for a in _agents() if a.agent_id != "a5"]
    # step 1 (≥ 4): only a5 qualifies
    d = select_agent(c, q, POLICY, weaker, s(19.999))
    assert d.winner is None and d.step.index == 0 and d.skipped == {"step": 3}
    assert select_agent(c, q, POLICY, _agents(), s(1)).winner == "a5"
    # step 2 (≥ 2) from the expiry instant on
    d = select_agent(c, q, POLICY, weaker, s(20))
    assert d.winner == "a3" and d.step.index == 1 and d.step.condition == "billing>=2"
    assert select_agent(c, q, POLICY, [agent("a1", {"billing": 1})], s(59.9)).winner is None
    # after the last step: any agent serving the queue, even without the skill
    d = select_agent(c, q, POLICY, [agent("a1", {"billing": 1}), agent("a0", {})], s(60))
    assert d.winner == "a1" and d.step.label == "any agent of the queue"
    assert select_agent(c, q, POLICY, [agent("a0", {})], s(60)).winner == "a0"
    # but never an agent outside the queue's profile
    assert select_agent(c, q, POLICY, [agent("x", {"billing": 5}, queues=("sales",))], s(60)).winner is None


def test_queue_required_skills_still_apply_after_steps():
    q = queue(required_skills=(SkillRequirement(skill="language:en", min_proficiency=2),))
    c = contact()
    d = select_agent(c, q, POLICY, [agent("a0", {"billing": 5}), agent("en", {"language:en": 2})], s(600))
    assert d.winner == "en" and d.skipped == {"queue_skills": 1}


def test_preferred_agent_step():
    policy = RoutingPolicy.model_validate({"queues": {"billing": {"steps": [
        {"preferred_agents": ["a1"], "expiry_s": 10}, {"condition": "billing>=1"}]}}})
    q, c = queue(), contact()
    agents = [agent("a5", {"billing": 5}), agent("a1", {"billing": 1})]
    d = select_agent(c, q, policy, agents, s(5))
    assert d.winner == "a1" and d.skipped == {"not_preferred": 1}
    assert select_agent(c, q, policy, agents[:1], s(5)).winner is None
    assert select_agent(c, q, policy, agents, s(10)).winner == "a5"  # preferred step over: best proficiency


# ------------------------------------------------------------------ segments


def test_segment_sets_priority_and_first_step():
    q = queue()
    plat = plan_contact(q, POLICY, "platinum", None, T0)
    assert plat.priority == 1 and plat.outcome == "queue" and "segment_first_step" in plat.flags
    first = plat.steps[0]
    assert render(first.condition) == "billing>=4" and first.expires_at == s(30)
    assert [st.expires_at for st in plat.steps[1:]] == [s(50), s(90)]  # the queue's steps follow
    # the first step raises the queue's skill to the tier minimum (the queue's own first step here is ≥ 2)
    low = RoutingPolicy.model_validate({"queues": {"billing": {"steps": [{"condition": "billing>=2 and es",
                                                                          "expiry_s": 20}]}}})
    gold = plan_contact(q, low, "gold", None, T0)
    assert gold.priority == 3 and render(gold.steps[0].condition) == "billing>=4 and es>=4"
    std = plan_contact(q, POLICY, "standard", None, T0)
    assert std.priority == 5 and len(std.steps) == 2 and "segment_first_step" not in std.flags
    unknown = plan_contact(q, POLICY, "bronze", None, T0, base_priority=6)
    assert unknown.priority == 6 and any("bronze" in n for n in unknown.notes)


def test_segment_first_step_routes_best_agents_first():
    q = queue()
    c = _with_plan(contact(), plan_contact(q, RoutingPolicy(), "platinum", None, T0))
    # the queue itself has no steps, only required skills → derived from them
    q2 = queue(required_skills=(SkillRequirement(skill="billing", min_proficiency=1),))
    c2 = _with_plan(contact(), plan_contact(q2, RoutingPolicy(), "platinum", None, T0))
    assert render(c2.routing.steps[0].condition) == "billing>=4"
    ok = [agent("a3", {"billing": 3}, idle_since=T0 - 3_600_000)]
    assert select_agent(c2, q2, RoutingPolicy(), ok, s(10)).winner is None
    assert select_agent(c2, q2, RoutingPolicy(), ok, s(30)).winner == "a3"
    assert c.routing.steps == ()  # no skill known for the queue: no best-agents step, only the priority
    assert c.routing.priority == 1


def test_self_service_tier_deflects():
    q = queue()
    plan = plan_contact(q, POLICY, "self_service", None, T0)
    assert plan.outcome == "self_service" and plan.steps == () and "self_service" in plan.flags
    policy = RoutingPolicy.model_validate({"segments": {"standard": {"deflect": "when_wait_exceeds",
                                                                     "deflect_wait_s": 120}}})
    assert plan_contact(q, policy, "standard", None, T0, estimated_wait_s=60).outcome == "queue"
    assert plan_contact(q, policy, "standard", None, T0, estimated_wait_s=121).outcome == "self_service"
    assert plan_contact(q, policy, "standard", None, T0).outcome == "queue"  # no estimate: no deflection


# ------------------------------------------------------------------ journey


def _journey(*history: PastContact, reason: str | None = "billing:dispute") -> JourneyContext:
    return JourneyContext(customer_id="cust1", reason=reason, history=history)


def test_last_agent_preferred_within_window_and_not_after():
    policy = RoutingPolicy.model_validate({"journey": {"last_agent_window_s": 3600, "last_agent_step_s": 15}})
    q = queue()
    past = PastContact(contact_id="p1", started_at=T0 - 4_000_000, ended_at=T0 - 3_600_000, agent_id="a3",
                       reason="other")
    plan = plan_contact(q, policy, None, _journey(past), T0)
    assert plan.steps[0].preferred_agents == ("a3",) and plan.steps[0].expires_at == s(15)
    assert "last_agent_preferred" in plan.flags and plan.journey.last_agent_id == "a3"
    c = _with_plan(contact(), plan)
    agents = [agent("a5", {"billing": 5}), agent("a3", {"billing": 3})]
    assert select_agent(c, q, policy, agents, s(1)).winner == "a3"
    assert select_agent(c, q, policy, agents[:1], s(1)).winner is None  # waits for the last agent
    assert select_agent(c, q, policy, agents[:1], s(15)).winner == "a5"  # then anyone
    late = past.model_copy(update={"ended_at": T0 - 3_600_001})
    plan = plan_contact(q, policy, None, _journey(late), T0)
    assert "last_agent_preferred" not in plan.flags and plan.steps == ()
    off = RoutingPolicy.model_validate({"journey": {"prefer_last_agent": False}})
    assert plan_contact(q, off, None, _journey(past), T0).steps == ()


def test_repeat_contact_within_fcr_window_boundary():
    q = queue()
    same = PastContact(contact_id="p1", started_at=T0 - 7 * DAY_MS, ended_at=T0 - 7 * DAY_MS + 60_000,
                       reason="billing:dispute")
    plan = plan_contact(q, POLICY, "standard", _journey(same), T0)
    assert plan.repeat_contact and plan.repeat_of == "p1" and plan.priority == 4
    assert plan.journey.repeat_contact and plan.journey.recent[0].contact_id == "p1"
    older = same.model_copy(update={"started_at": T0 - 7 * DAY_MS - 1})
    assert not plan_contact(q, POLICY, "standard", _journey(older), T0).repeat_contact
    other = same.model_copy(update={"reason": "billing:refund"})
    assert not plan_contact(q, POLICY, "standard", _journey(other), T0).repeat_contact
    assert not plan_contact(q, POLICY, "standard", _journey(same, reason=None), T0).repeat_contact
    # priority never goes below 1; the boost is configurable
    assert plan_contact(q, POLICY, "platinum", _journey(same), T0).priority == 1
    boost3 = RoutingPolicy.model_validate({"journey": {"repeat_priority_boost": 3, "fcr_window_days": 1}})
    recent = same.model_copy(update={"started_at": T0 - DAY_MS})
    assert plan_contact(q, boost3, "standard", _journey(recent), T0).priority == 2


def test_plan_round_trips_as_json():
    policy = RoutingPolicy.model_validate({"queues": {"billing": {"steps": [
        {"condition": "billing>=2 and not trainee", "expiry_s": 20}, {"preferred_agents": ["a1"]}]}}})
    past = PastContact(contact_id="p1", started_at=T0 - 60_000, ended_at=T0 - 1000, agent_id="a7", reason="x")
    plan = plan_contact(queue(), policy, "gold", _journey(past, reason="x"), T0)
    assert RoutingPlan.model_validate_json(plan.model_dump_json()) == plan
    assert [st.label for st in plan.steps][0] == "last agent a7" and plan.steps[-1].expires_at is None
    assert '"not":{"skill":"trainee"' in plan.model_dump_json()


def test_journey_history_is_capped_and_recent_first():
    q = queue()
    history = [PastContact(contact_id=f"p{i}", started_at=T0 - i * 60_000, reason="x") for i in range(1, 9)]
    plan = plan_contact(q, RoutingPolicy(), None, _journey(*history), T0)
    assert [p.contact_id for p in plan.journey.recent] == ["p1", "p2", "p3", "p4", "p5"]
    assert len(plan.model_dump_json()) < 2000
