"""Routing decisions read right (issue 14): the step in force in words ("step 2 of 3 (after 30 s)",
"no relaxation steps configured"), null proficiency when nothing was ranked on, the agent's level in
the skill ranked on, and the same through the kept JSON (GET /contacts/{id}/routing)."""
from __future__ import annotations

import json

from ccaas.domain.models import Contact
from ccaas.domain.routing_engine import (
    JourneyContext,
    PastContact,
    RoutingPlan,
    RoutingPolicy,
    plan_contact,
    select_agent,
    select_contact,
    steps_ahead,
)
from ccaas.usecases.routing import explained
from tests.fixtures.routing.builders import T0, agent, contact, queue, s

THREE_STEPS = RoutingPolicy.model_validate({"queues": {"billing": {"steps": [
    {"condition": "billing>=4", "expiry_s": 30},
    {"condition": "billing>=2", "expiry_s": 30},
    {"name": "anyone with billing", "condition": "billing", "expiry_s": 60},
]}}})


class PlannedContact(Contact):
    routing: RoutingPlan | None = None


def test_no_steps_and_no_skill_say_so_and_rank_by_idle_time():
    expert = agent("expert", {"billing": 5}, idle_since=s(-10))
    longest_idle = agent("novice", {}, idle_since=s(-200))
    d = select_agent(contact(), queue(), RoutingPolicy(), [expert, longest_idle], T0)
    assert d.winner == "novice"  # idle time decides, not a skill nobody asked for
    assert d.step.final is True and d.step.number is None and d.step.of == 0
    assert d.step.text == "no relaxation steps configured: any agent of the queue"
    assert d.ranked_on is None and d.ranking == "no skills required: ranked by idle time and free capacity"
    assert d.ranking in d.why
    assert all(line.parts["proficiency"] is None for line in d.scores)
    kept = explained(d)
    assert [line["parts"]["proficiency"] for line in kept["scores"]] == [None, None]  # null, not 0.0
    assert "skills" not in kept["scores"][0] and "ranked_on" not in kept
    assert kept["step"]["text"].startswith("no relaxation steps configured")
    assert json.loads(d.to_json())["step"]["final"] is True


def test_a_relaxed_step_reads_as_step_n_of_m_after_its_start():
    c = contact(enqueued_at=T0)
    five, two = agent("five", {"billing": 5}), agent("two", {"billing": 2})
    first = select_agent(c, queue(), THREE_STEPS, [five, two], s(5))
    assert first.step.text == "step 1 of 3 (from the start): billing>=4"
    assert (first.step.number, first.step.after_s, first.step.final) == (1, 0.0, False)
    d = select_agent(c, queue(), THREE_STEPS, [five, two], s(40))
    assert (d.step.index, d.step.of, d.step.number, d.step.after_s) == (1, 3, 2, 30.0)
    assert d.step.text == "step 2 of 3 (after 30 s): billing>=2"
    assert d.ranked_on == "billing>=2" and "proficiency in billing>=2" in d.ranking
    by_id = {line.id: line for line in d.scores}
    assert by_id["five"].skills == {"billing": 5} and by_id["two"].skills == {"billing": 2}
    assert by_id["five"].parts["proficiency"] == 1.0 and by_id["two"].parts["proficiency"] == 0.4
    assert explained(d)["scores"][0]["skills"] == {"billing": 5}
    named = select_agent(c, queue(), THREE_STEPS, [five, two], s(70))
    assert named.step.text == "step 3 of 3 (after 60 s): anyone with billing"


def test_after_the_last_step_says_when_and_ranks_on_the_queues_skill():
    d = select_agent(contact(enqueued_at=T0), queue(), THREE_STEPS,
                     [agent("five", {"billing": 5}), agent("one", {"billing": 1})], s(200))
    assert d.step.final is True and d.step.number is None and (d.step.index, d.step.of) == (3, 3)
    assert d.step.after_s == 120.0
    assert d.step.text == "all 3 steps expired (after 2 min): any agent of the queue"
    assert d.ranked_on == "billing>=4" and "the step names no skill" in d.ranking
    assert d.winner == "five" and d.scores[0].skills == {"billing": 5}


def test_a_planned_contact_counts_from_its_plan_and_names_the_preferred_agent():
    past = PastContact(contact_id="p1", started_at=T0 - 600_000, ended_at=T0 - 60_000, agent_id="a9")
    policy = RoutingPolicy.model_validate({**THREE_STEPS.model_dump(mode="json"), "journey": {"last_agent_step_s": 20}})
    plan = plan_contact(queue(), policy, None, JourneyContext(customer_id="cust", history=(past,)), T0)
    c = PlannedContact(**{**contact().model_dump(), "routing": plan})
    a9 = agent("a9", {"billing": 1})
    first = select_agent(c, queue(), policy, [a9], s(1))
    assert first.step.text == "step 1 of 4 (from the start): last agent a9, reserved for a9"
    later = select_agent(c, queue(), policy, [agent("x", {"billing": 5})], s(25))
    assert later.step.number == 2 and later.step.after_s == 20.0
    assert later.step.text.startswith("step 2 of 4 (after 20 s)")
    assert [v.after_s for v in steps_ahead(c, queue(), policy, s(25))] == [20.0, 50.0, 80.0, 140.0]


def test_a_step_reached_by_skipping_says_so_not_after_its_planned_time():
    policy = RoutingPolicy.model_validate({"queues": {"billing": {"steps": [
        {"name": "experts", "condition": "billing>=4", "expiry_s": 30}]}}})
    generalist = agent("g1", {"billing": 1})
    d = select_agent(contact(), queue(), policy, [generalist], s(1), staffed=[generalist])
    assert d.winner == "g1" and d.step.final is True and d.step.after_s is None
    assert d.step.text.startswith("after the steps (reached early: 1 earlier step skipped")


def test_select_contact_carries_the_step_text_too():
    c = contact(enqueued_at=T0)
    d = select_contact(agent("five", {"billing": 5}), {"billing": [c]}, {"billing": queue()}, THREE_STEPS, s(31))
    assert d.winner == "c1" and d.step.text == "step 2 of 3 (after 30 s): billing>=2"
    assert explained(d)["step"]["number"] == 2
