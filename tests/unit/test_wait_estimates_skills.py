"""The estimated wait counts an available agent only when it may take the contact: the queue's required skills
bound every step, the last one too, and an agent whose routing profile delays the queue is not free for a
contact younger than that delay (routing_engine.reach.readiness, usecases.waiting)."""
from __future__ import annotations

import pytest

from ccaas.domain.live_metrics import SequencedEvent, pad_sequence
from ccaas.domain.models import Channel, ContactState, Queue, QueueAssignment, SkillRequirement
from ccaas.domain.routing_engine import RoutingPolicy, StaffedAgents, readiness, select_agent
from ccaas.usecases import admin, agents, contacts, metrics, routing, waiting
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.contacts import NewContact
from tests.fixtures.routing.builders import agent, contact, queue, s
from tests.unit.demo import TENANT, add_agent, demo_deps

SUPPORT = queue("support", required_skills=(SkillRequirement(skill="support", min_proficiency=1),))
ANA = agent("ana", {"sales": 3, "language:en": 1}, queues=("support", "sales"))  # no support skill
SUE = agent("sue", {"support": 2}, queues=("support",))


# -- the engine ------------------------------------------------------------------------------------

def test_an_agent_without_the_queues_required_skills_never_may_take_its_contact():
    c = contact(qid="support")  # past every step (the queue has none): "any agent of the queue"
    assert readiness(c, SUPPORT, RoutingPolicy(), s(20), [ANA], StaffedAgents([ANA])) == (None, 0)
    assert select_agent(c, SUPPORT, RoutingPolicy(), [ANA], s(20)).winner is None  # as routing decides
    assert readiness(c, SUPPORT, RoutingPolicy(), s(20), [ANA, SUE], StaffedAgents([ANA, SUE])) == (0, 1)


def test_an_agent_whose_profile_delays_the_queue_is_free_for_it_only_once_the_contact_waited_that_long():
    late = agent("lee", queues=(QueueAssignment(queue_id="billing", delay_s=15),))
    c = contact()  # enqueued at s(0)
    assert readiness(c, queue(), RoutingPolicy(), s(0), [late], StaffedAgents([late])) == (15, 1)
    assert readiness(c, queue(), RoutingPolicy(), s(10), [late], StaffedAgents([late])) == (5, 1)
    assert readiness(c, queue(), RoutingPolicy(), s(20), [late], StaffedAgents([late])) == (0, 1)
    prompt = agent("pat")
    assert readiness(c, queue(), RoutingPolicy(), s(0), [late, prompt], StaffedAgents([late, prompt])) == (0, 1)


def test_a_delay_ending_after_a_step_waits_for_the_next_step_the_agent_satisfies():
    policy = RoutingPolicy.model_validate({"queues": {"billing": {"steps": [
        {"condition": "billing>=4", "expiry_s": 10}, {"condition": "billing>=2", "expiry_s": 30}]}}})
    expert_late = agent("xl", {"billing": 5}, queues=(QueueAssignment(queue_id="billing", delay_s=20),))
    # billing>=4 until s(10) (xl delayed to s(20)), billing>=2 until s(40): xl from s(20)
    assert readiness(contact(), queue(), policy, s(0), [expert_late], StaffedAgents([expert_late])) == (20, 1)


# -- through the use-cases (memory adapters) --------------------------------------------------------

def _fold(deps) -> None:
    """What the stream consumer does with the events so far: the live counters the estimate reads."""
    batch = [SequencedEvent(event=e, shard_id="s0", sequence=pad_sequence(str(i)))
             for i, e in enumerate(deps.events.events)]
    metrics.apply_records(deps, "s0", batch)


def _support_desk(delay_s: int = 0, skills: dict[str, int] | None = None):
    """A chat queue `support` that requires the support skill; ana serves it (after `delay_s`) and sales,
    with `skills` (default: sales and English, no support), still OFFLINE."""
    deps = demo_deps()
    admin.put_queue(deps, Queue(tenant_id=TENANT, queue_id="support", name="Support",
                                channels=frozenset({Channel.CHAT}),
                                required_skills=(SkillRequirement(skill="support", min_proficiency=1),)))
    routing.put_policy(deps, TENANT, RoutingPolicy.model_validate({"queues": {"support": {"expected_aht_s": 100}}}))
    admin.put_agent(deps, ANA.model_copy(update={
        "tenant_id": TENANT, "status": "OFFLINE", "skills": skills or ANA.skills,
        "queues": (QueueAssignment(queue_id="support", delay_s=delay_s), QueueAssignment(queue_id="sales"))}))
    return deps


def _available(deps, agent_id):
    agents.set_agent_status(deps, TENANT, agent_id, StatusChange(status="AVAILABLE"))


def _chat(deps, token="t1"):
    c = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.CHAT, queue_id="support"))
    return contacts.queue_and_route(deps, TENANT, c.contact_id, token)


def test_a_contact_nobody_available_may_take_is_not_told_it_waits_0_s():
    deps = _support_desk()
    _available(deps, "ana")
    queued = _chat(deps)
    assert queued.state == ContactState.QUEUED  # ana lacks the support skill
    _fold(deps)
    deps.clock.advance(20)
    info = waiting.wait_of(deps, contacts.get_contact(deps, TENANT, queued.contact_id))
    assert info.agents_available == 1 and info.position == 1
    assert info.ewt_s == pytest.approx(100) and info.p90_s >= 100  # ana not counted: one release of 1 agent
    arriving = waiting.wait_info(deps, TENANT, "support")
    assert arriving.ewt_s == pytest.approx(200)  # one ahead, ana not counted, for a contact arriving now too
    add_agent(deps, "sue", queues=("support",), skills={"support": 2})
    _available(deps, "sue")  # offered the waiting chat at once
    assert contacts.get_contact(deps, TENANT, queued.contact_id).agent_id == "sue"


def test_an_agent_whose_profile_delays_the_queue_is_not_free_for_a_younger_contact():
    deps = _support_desk(delay_s=15, skills={"support": 3})
    _available(deps, "ana")
    _fold(deps)
    assert waiting.wait_info(deps, TENANT, "support").ewt_s == pytest.approx(15)  # an arrival: ana in 15 s
    queued = _chat(deps)
    assert queued.state == ContactState.QUEUED  # ana takes support chats once they waited 15 s
    _fold(deps)
    deps.clock.advance(5)
    mine = contacts.get_contact(deps, TENANT, queued.contact_id)
    assert waiting.wait_of(deps, mine).ewt_s == pytest.approx(10)  # not 0 s: ana is free for it in 10 s
    deps.clock.advance(10)
    assert waiting.wait_of(deps, mine).ewt_s == 0  # of age for ana now
