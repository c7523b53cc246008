"""Steps no staffed agent can satisfy are passed over at decision time (routing_engine.reach): from the
contact's side (select_agent), the freed agent's side (select_contact), the recheck timer (next_check_at)
and the estimated wait (estimate_wait's ready_in_s); then the same through the use-cases."""
from __future__ import annotations

import json

import pytest

from ccaas.domain.live_metrics import SequencedEvent, pad_sequence
from ccaas.domain.models import Channel, Contact, ContactState
from ccaas.domain.routing_engine import (
    JourneyContext,
    PastContact,
    QueueStats,
    RoutingPlan,
    RoutingPolicy,
    StaffedAgents,
    estimate_wait,
    next_check_at,
    plan_contact,
    ready_in_s,
    resolve_step,
    select_agent,
    select_contact,
)
from ccaas.usecases import agents, contacts, metrics, routing, waiting
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.contacts import NewContact
from tests.fixtures.routing.builders import T0, agent, contact, queue, s
from tests.unit.demo import TENANT, add_agent, demo_deps

# A journey step for the last agent (20 s), then the queue's experts (billing>=4, 30 s more), then anyone.
POLICY = RoutingPolicy.model_validate({
    "queues": {"billing": {"steps": [{"name": "experts", "condition": "billing>=4", "expiry_s": 30}]}},
    "journey": {"last_agent_step_s": 20},
})


class PlannedContact(Contact):
    routing: RoutingPlan | None = None


def _returning(last_agent: str = "a9", **kw) -> PlannedContact:
    """A customer whose last contact (ended a minute ago) was handled by `last_agent`, queued at T0."""
    past = PastContact(contact_id="p1", started_at=T0 - 600_000, ended_at=T0 - 60_000, agent_id=last_agent)
    plan = plan_contact(queue(), POLICY, None, JourneyContext(customer_id="cust", history=(past,)), T0)
    assert [st.label for st in plan.steps] == [f"last agent {last_agent}", "experts"]
    return PlannedContact(**{**contact(**kw).model_dump(), "routing": plan})


def _offline(aid: str, skills=None, queues=("billing",)):
    return agent(aid, skills, queues).model_copy(update={"status": "OFFLINE"})


def _busy(aid: str, skills=None, queues=("billing",)):
    return agent(aid, skills, queues).model_copy(update={"status": "NOT_READY"})


IDLE = agent("a5", {"billing": 5})  # available, an expert: satisfies every step but the last-agent one
GENERALIST = agent("g1", {"billing": 1})


# -- the contact's side ---------------------------------------------------------------------------

@pytest.mark.parametrize("staff, reason", [
    ([_offline("a9", {"billing": 5})], "agent_offline"),
    ([agent("a9", {"billing": 5}, queues=("sales",))], "agent_not_in_queue"),
    ([], "agent_unknown"),
], ids=["offline", "not-in-queue", "unknown"])
def test_an_unreachable_last_agent_step_is_skipped_at_once_and_explained(staff, reason):
    c = _returning()
    d = select_agent(c, queue(), POLICY, [IDLE], s(1), staffed=[IDLE, *staff])
    assert d.outcome == "offer" and d.winner == "a5"  # not held 20 s while a5 sits idle
    assert d.step.label == "experts" and d.step.index == 1
    assert [(k.index, k.label, k.reason) for k in d.skipped_steps] == [(0, "last agent a9", reason)]
    assert d.why.startswith("skipped 'last agent a9'")
    kept = json.loads(d.to_json())
    assert kept["skipped_steps"][0]["reason"] == reason and kept["skipped_steps"][0]["expires_at"] == s(20)
    # Without the staff the steps are followed as planned (the replay and older callers).
    assert select_agent(c, queue(), POLICY, [IDLE], s(1)).winner is None


def test_a_last_agent_who_is_staffed_but_busy_is_waited_for_as_planned():
    c = _returning()
    d = select_agent(c, queue(), POLICY, [IDLE], s(1), staffed=[IDLE, _busy("a9", {"billing": 3})])
    assert d.winner is None and d.skipped_steps == () and d.step.label == "last agent a9"
    assert select_agent(c, queue(), POLICY, [IDLE], s(20), staffed=[IDLE, _busy("a9")]).winner == "a5"


def test_a_skill_step_no_staffed_agent_meets_is_skipped_to_the_next_step():
    c = contact()  # no plan: the queue's own steps from enqueued_at
    staff = [GENERALIST, _offline("x5", {"billing": 5})]
    d = select_agent(c, queue(), POLICY, [GENERALIST], s(1), staffed=staff)
    assert d.winner == "g1" and d.step.label == "any agent of the queue"
    assert [(k.label, k.reason) for k in d.skipped_steps] == [("experts", "no_staffed_agent")]
    assert "billing>=4" in d.skipped_steps[0].detail
    # An expert on a break keeps the step: the contact waits for the experts as planned.
    held = select_agent(c, queue(), POLICY, [GENERALIST], s(1), staffed=[*staff, _busy("e4", {"billing": 4})])
    assert held.winner is None and held.step.label == "experts"


def test_several_steps_are_skipped_in_one_decision():
    c = _returning()
    d = select_agent(c, queue(), POLICY, [GENERALIST], s(1), staffed=[GENERALIST])
    assert d.winner == "g1"
    assert [k.reason for k in d.skipped_steps] == ["agent_unknown", "no_staffed_agent"]


def test_a_skipped_step_is_in_force_again_once_its_agent_is_back():
    c = _returning()
    assert resolve_step(c, queue(), POLICY, s(1), StaffedAgents([IDLE])).label == "experts"
    back = resolve_step(c, queue(), POLICY, s(1), StaffedAgents([IDLE, _busy("a9")]))
    assert back.label == "last agent a9" and back.skipped == ()


def test_the_staff_is_read_only_when_no_available_candidate_satisfies_the_step():
    reads = []

    def load():
        reads.append(1)
        return [IDLE]

    plain = contact()
    assert select_agent(plain, queue(), POLICY, [IDLE], s(1), staffed=load).winner == "a5"
    assert reads == []  # a5 satisfies the experts step: nothing else to know
    lookups = []
    staff = StaffedAgents(load, lookup=lambda aid: lookups.append(aid))  # a9: unknown
    assert select_agent(_returning(), queue(), POLICY, [IDLE], s(1), staffed=staff).winner == "a5"
    assert lookups == ["a9"] and reads == []  # the last-agent step needed one agent, not all of them


def test_select_agent_still_consumes_a_candidate_generator_once():
    c = _returning()
    d = select_agent(c, queue(), POLICY, (a for a in [GENERALIST, IDLE]), s(1), staffed=[GENERALIST, IDLE])
    assert d.winner == "a5" and d.skipped == {"step": 1}  # scored again from what it had read


# -- the freed agent's side -----------------------------------------------------------------------

def test_a_freed_agent_is_not_refused_a_contact_for_an_unreachable_last_agent_step():
    c = _returning()
    d = select_contact(IDLE, {"billing": [c]}, {"billing": queue()}, POLICY, s(1), staffed=[IDLE, _offline("a9")])
    assert d.winner == "c1" and d.step.label == "experts"
    assert [k.reason for k in d.skipped_steps] == ["agent_offline"] and d.why.startswith("skipped")
    assert d.scores[0].step == 1
    # A busy last agent keeps the contact for them until the step expires.
    held = select_contact(IDLE, {"billing": [c]}, {"billing": queue()}, POLICY, s(1), staffed=[IDLE, _busy("a9")])
    assert held.winner is None and held.skipped == {"not_preferred": 1}
    assert select_contact(IDLE, {"billing": [c]}, {"billing": queue()}, POLICY, s(1)).winner is None  # as planned


def test_a_freed_generalist_takes_a_contact_whose_expert_step_nobody_staffed_meets():
    waiting = {"billing": [contact("c1"), contact("c2", enqueued_at=s(-1))]}
    d = select_contact(GENERALIST, waiting, {"billing": queue()}, POLICY, s(1), staffed=[GENERALIST])
    assert d.winner == "c2" and d.considered_count == 2
    assert select_contact(GENERALIST, waiting, {"billing": queue()}, POLICY, s(1),
                          staffed=[GENERALIST, _busy("e5", {"billing": 5})]).winner is None


# -- the recheck timer ----------------------------------------------------------------------------

def test_the_timer_is_not_set_for_the_expiry_of_a_skipped_step():
    c = _returning()
    q = queue(max_wait_s=600)
    tight = POLICY.model_copy(update={"reservation": POLICY.reservation.model_copy(update={"timeout_s": 60})})
    assert next_check_at(c, q, tight, s(1)) == s(20)  # as planned: the last-agent step's expiry
    assert next_check_at(c, q, tight, s(1), staffed=[IDLE]) == s(50)  # skipped: the experts step's
    assert next_check_at(c, q, tight, s(1), staffed=[IDLE, _busy("a9")]) == s(20)


# -- the estimated wait ---------------------------------------------------------------------------

def test_the_wait_is_not_zero_while_only_agents_the_step_excludes_are_free():
    c = contact()  # experts step until s(30)
    staff = StaffedAgents([GENERALIST, _busy("e5", {"billing": 5})])
    ready = ready_in_s(c, queue(), POLICY, s(0), [GENERALIST], staff)
    assert ready == pytest.approx(30)
    stats = QueueStats(aht_s=300, agents=2, available=1)
    assert estimate_wait(1, stats).ewt_s == 0  # what it said: a free agent, so no wait
    e = estimate_wait(1, stats, ready_in_s=ready)
    assert e.ewt_s == pytest.approx(30) and e.p90_s >= 30
    assert ready_in_s(c, queue(), POLICY, s(0), [IDLE], staff) == 0  # an expert is free
    # Nobody staffed meets the experts step: it is skipped, so the generalist takes it now.
    assert ready_in_s(c, queue(), POLICY, s(0), [GENERALIST], StaffedAgents([GENERALIST])) == 0


def test_the_wait_counts_every_reachable_step_ahead_and_skips_unreachable_ones():
    c = _returning()  # last agent until s(20), experts until s(50)
    busy_a9, busy_expert = _busy("a9"), _busy("e5", {"billing": 5})
    assert ready_in_s(c, queue(), POLICY, s(0), [GENERALIST], StaffedAgents([GENERALIST, busy_a9, busy_expert])) \
        == pytest.approx(50)
    assert ready_in_s(c, queue(), POLICY, s(0), [GENERALIST], StaffedAgents([GENERALIST, busy_a9])) \
        == pytest.approx(20)  # the experts step will be skipped when its turn comes
    assert ready_in_s(c, queue(), POLICY, s(0), [IDLE], StaffedAgents([IDLE, busy_a9])) == pytest.approx(20)


def test_no_available_agent_ever_satisfying_its_steps_counts_no_free_agent():
    c = contact()
    other = agent("o1", {"billing": 5}, queues=("sales",))
    assert ready_in_s(c, queue(), POLICY, s(0), [other], StaffedAgents([other])) is None
    stats = QueueStats(aht_s=300, agents=2, available=1)
    assert estimate_wait(1, stats, ready_in_s=None).ewt_s == pytest.approx(150)  # 1 release at 2 agents


# -- through the use-cases (memory adapters) -------------------------------------------------------

def _deps_with_a_returning_customer():
    """bo served customer c-7 a minute ago; ana serves sales too, both still OFFLINE or AVAILABLE."""
    deps = demo_deps()
    _policy(deps, journey={"last_agent_step_s": 20})
    add_agent(deps, "bo")
    add_agent(deps, "ana")
    _status(deps, "bo", "AVAILABLE")
    first = _new_contact(deps, "t0", customer_id="c-7")
    assert first.agent_id == "bo"
    for step in (contacts.accept_contact, contacts.complete_contact, contacts.end_after_contact_work):
        step(deps, TENANT, "bo", first.contact_id)
    deps.clock.advance(60)
    return deps


def _policy(deps, **policy):
    routing.put_policy(deps, TENANT, RoutingPolicy.model_validate(policy))


def _new_contact(deps, token, **fields):
    c = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.VOICE, queue_id="sales", **fields))
    return contacts.queue_and_route(deps, TENANT, c.contact_id, token)


def _status(deps, agent_id, status):
    return agents.set_agent_status(deps, TENANT, agent_id, StatusChange(status=status))


def test_a_contact_whose_last_agent_logged_off_is_offered_to_the_idle_agent_at_once():
    deps = _deps_with_a_returning_customer()
    _status(deps, "bo", "OFFLINE")
    _status(deps, "ana", "AVAILABLE")
    again = _new_contact(deps, "t1", customer_id="c-7")
    assert again.routing.steps[0].preferred_agents == ("bo",)  # planned: bo first for 20 s
    assert again.state == ContactState.OFFERED and again.agent_id == "ana"  # not held 20 s
    kept = routing.decisions_of(deps, TENANT, again.contact_id)[-1]
    assert kept["winner"] == "ana" and kept["step"]["label"] == "any agent of the queue"
    assert kept["skipped_steps"] == [{"index": 0, "label": "last agent bo", "reason": "agent_offline",
                                      "detail": "bo is OFFLINE", "expires_at": again.routing.steps[0].expires_at}]


def test_an_agent_freed_later_takes_the_contact_its_offline_last_agent_held():
    deps = _deps_with_a_returning_customer()
    _status(deps, "bo", "OFFLINE")
    queued = _new_contact(deps, "t1", customer_id="c-7")
    assert queued.state == ContactState.QUEUED  # nobody available
    deps.clock.advance(2)
    _status(deps, "ana", "AVAILABLE")  # offers her work: the agent side
    offered = contacts.get_contact(deps, TENANT, queued.contact_id)
    assert offered.state == ContactState.OFFERED and offered.agent_id == "ana"
    kept = routing.decisions_of(deps, TENANT, queued.contact_id)[-1]
    assert kept["kind"] == "select_contact" and kept["skipped_steps"][0]["reason"] == "agent_offline"


def test_a_busy_last_agent_is_still_waited_for():
    deps = _deps_with_a_returning_customer()
    _status(deps, "bo", "BREAK")
    _status(deps, "ana", "AVAILABLE")
    assert _new_contact(deps, "t1", customer_id="c-7").state == ContactState.QUEUED


def test_the_routing_recheck_timer_skips_an_unreachable_steps_expiry():
    deps = _deps_with_a_returning_customer()
    _policy(deps, journey={"last_agent_step_s": 5})
    _status(deps, "bo", "OFFLINE")
    queued = _new_contact(deps, "t1", customer_id="c-7")
    queue = deps.config.get_queue(TENANT, "sales")
    policy = routing.policy_of(deps, TENANT)
    now = deps.clock.now_ms()
    assert next_check_at(queued, queue, policy, now) == queued.routing.steps[0].expires_at  # as planned: 5 s
    assert routing.next_check(deps, queued, queue, policy, now) == now + 30_000  # one reservation timeout


def test_wait_info_of_a_contact_no_free_agent_may_take_yet_is_not_zero():
    deps = demo_deps()
    _policy(deps, queues={"sales": {"steps": [{"name": "experts", "condition": "sales>=4", "expiry_s": 40}],
                                           "expected_aht_s": 100}})
    add_agent(deps, "bo", skills={"sales": 2})
    add_agent(deps, "cy", skills={"sales": 5})
    _status(deps, "cy", "BREAK")  # the expert is staffed: the step holds
    _status(deps, "bo", "AVAILABLE")
    queued = _new_contact(deps, "t1")
    assert queued.state == ContactState.QUEUED
    batch = [SequencedEvent(event=e, shard_id="s0", sequence=pad_sequence(str(i)))
             for i, e in enumerate(deps.events.events)]  # what the stream consumer does: the live counters
    metrics.apply_records(deps, "s0", batch)
    deps.clock.advance(10)
    info = waiting.wait_of(deps, queued)
    assert info.agents_available == 1 and info.position == 1
    assert info.ewt_s == pytest.approx(30)  # until the experts step expires, not 0 s
    _status(deps, "cy", "OFFLINE")  # now nobody staffed meets it: cy going OFFLINE gives it to bo at once
    offered = contacts.get_contact(deps, TENANT, queued.contact_id)  # (it waited for the step's expiry, told 0 s)
    assert (offered.state, offered.agent_id) == (ContactState.OFFERED, "bo")
