"""When the step in force names no skill, agents are ranked on the queue's own skill condition: its first
skill-naming step, else its required skills (scoring docstring), and the explanation says so."""
from __future__ import annotations

import pytest

from ccaas.domain.models import SkillRequirement
from ccaas.domain.routing_engine import (
    JourneyContext,
    PastContact,
    RoutingPlan,
    RoutingPolicy,
    current_step,
    plan_contact,
    select_agent,
    steps_ahead,
)
from ccaas.domain.routing_engine.conditions import render
from ccaas.domain.models import Contact
from tests.fixtures.routing.builders import T0, agent, contact, queue, s

BILLING2 = queue(required_skills=(SkillRequirement(skill="billing", min_proficiency=2),))
DEV = agent("dev", {"billing": 3}, idle_since=s(-100))  # idle longer, less proficient
FARID = agent("farid", {"billing": 5}, idle_since=s(-10))


def test_a_queue_without_steps_ranks_on_its_required_skills():
    d = select_agent(contact(), BILLING2, RoutingPolicy(), [DEV, FARID], s(0))
    assert d.winner == "farid"  # 1.0 + 0.03 idle beats 0.6 + 0.33
    assert d.ranked_on == "billing>=2"
    assert d.ranking == ("the step names no skill; ranked by proficiency in billing>=2 (the queue's skill), "
                         "idle time and free capacity")
    assert {line.id: line.parts["proficiency"] for line in d.scores} == {"farid": 1.0, "dev": pytest.approx(0.6)}
    assert {line.id: line.skills for line in d.scores} == {"farid": {"billing": 5}, "dev": {"billing": 3}}


def test_a_queue_with_neither_skills_nor_skill_steps_still_says_no_skills_required():
    d = select_agent(contact(), queue(), RoutingPolicy(), [DEV, FARID], s(0))
    assert d.winner == "dev" and d.ranked_on is None
    assert d.ranking == "no skills required: ranked by idle time and free capacity"
    assert all(line.parts["proficiency"] is None for line in d.scores)


def test_after_its_steps_a_planned_contact_ranks_on_the_queue_skills_too():
    class Planned(Contact):
        routing: RoutingPlan | None = None

    past = PastContact(contact_id="p1", started_at=T0 - 600_000, ended_at=T0 - 60_000, agent_id="zed")
    plan = plan_contact(BILLING2, RoutingPolicy(), None, JourneyContext(customer_id="cust", history=(past,)), T0)
    assert [st.label for st in plan.steps] == ["last agent zed"]  # a step that names no skill
    c = Planned(**{**contact().model_dump(), "routing": plan})
    for at in (s(0), s(60)):  # the last-agent step, then "any agent of the queue"
        assert render(current_step(c, BILLING2, RoutingPolicy(), at).focus) == "billing>=2"
    assert all(render(v.focus) == "billing>=2" for v in steps_ahead(c, BILLING2, RoutingPolicy(), s(0)))
    d = select_agent(c, BILLING2, RoutingPolicy(), [DEV, FARID], s(60))
    assert d.winner == "farid" and d.ranked_on == "billing>=2"


def test_a_skill_naming_step_is_still_ranked_on_first():
    policy = RoutingPolicy.model_validate({"queues": {"billing": {"steps": [{"condition": "billing>=3 and vip>=1",
                                                                              "expiry_s": 10}]}}})
    d = select_agent(contact(), BILLING2, policy, [DEV, FARID], s(30))  # after the step: its skills, not required
    assert d.ranked_on == "billing>=3 and vip"  # (render writes >=1 as the bare skill)
