"""Routing fixes found by an outside tester (round 38):

1. a supervisor's status on a busy agent clears what it holds (offers back to their queue, after-contact work
   ended) and OFFLINE during a conversation is the agent's pending `next_status`; a supervisor may end an ACW;
2. a contact past its queue's SL threshold never falls behind one of the same priority that waited less;
3. an agent going OFFLINE (the last to satisfy a step) and a saved profile decide at once, as AVAILABLE does;
4. (views) offers show the journey's times as ISO 8601 with `_ms` twins."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccaas.domain import lifecycle
from ccaas.domain.models import Agent, AgentStatus, Channel, Conflict, ContactState, QueueAssignment
from ccaas.domain.routing_engine import (
    ContactScoring,
    JourneySummary,
    PastContact,
    QueueStats,
    RoutingPolicy,
    StaffedAgents,
    position_in_queue,
    resolve_step,
    select_contact,
    waiting_order,
)
from ccaas.domain.routing_engine.scoring import contact_rank
from ccaas.usecases import admin, agents, contacts, routing, transfers
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.contacts import NewContact
from tests.fixtures.routing.builders import agent, contact, queue, s
from tests.unit.demo import TENANT, add_agent, ana_holds_a_contact, demo_deps


def _status(deps, agent_id, status, *, by_supervisor=False):
    forced = {"by_supervisor": True} if by_supervisor else {}
    return agents.set_agent_status(deps, TENANT, agent_id, StatusChange(status=status), **forced)


def _new_contact(deps, token, queue_id="sales"):
    created = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.VOICE, queue_id=queue_id))
    return contacts.queue_and_route(deps, TENANT, created.contact_id, token)


def _contact(deps, contact_id):
    return contacts.get_contact(deps, TENANT, contact_id)


def _agent(deps, agent_id):
    return agents.get_agent(deps, TENANT, agent_id)


# --- 1. a supervisor's status on a busy agent -------------------------------------------------------------------


def test_the_agents_own_offline_with_a_conversation_in_progress_stays_a_409():
    deps = demo_deps()
    ana_holds_a_contact(deps)
    with pytest.raises(Conflict, match="finish them before going OFFLINE"):
        _status(deps, "ana", "OFFLINE")
    assert _agent(deps, "ana").next_status is None


def test_a_supervisors_offline_mid_conversation_is_pending_and_applies_when_the_last_contact_ends():
    deps = demo_deps()
    call = ana_holds_a_contact(deps)
    pending = _status(deps, "ana", "OFFLINE", by_supervisor=True)  # it was a 409: the desktop died, no way out
    assert (pending.status, pending.next_status) == (AgentStatus.AVAILABLE, AgentStatus.OFFLINE)
    assert not pending.is_available and not pending.is_staffed
    assert _contact(deps, call).state == ContactState.CONNECTED  # the conversation goes on

    waiting_one = _new_contact(deps, "t-new")  # ana takes no new work meanwhile
    assert _contact(deps, waiting_one.contact_id).state == ContactState.QUEUED

    transfers.disconnect_customer(deps, TENANT, call)  # the customer hangs up: ACW, still pending
    assert (_agent(deps, "ana").status, _agent(deps, "ana").next_status) == ("AVAILABLE", "OFFLINE")
    deps.events.events.clear()
    done = contacts.end_after_contact_work(deps, TENANT, "ana", call)  # a supervisor may (route test below)
    assert done.state == ContactState.COMPLETED and (TENANT, call) in deps.workflow.post_contact
    ana = _agent(deps, "ana")
    assert (ana.status, ana.next_status, ana.busy) == (AgentStatus.OFFLINE, None, False)
    assert _contact(deps, waiting_one.contact_id).state == ContactState.QUEUED  # not offered to an OFFLINE agent
    moved = [e.payload for e in deps.events.events if e.subject == "agent/ana"]
    assert moved and moved[-1]["activity"] == "OFFLINE" and moved[-1]["status"] == "OFFLINE"
    assert moved[-1]["previous_status"] == "AVAILABLE" and moved[-1]["previous_activity"] == "ACW"


def test_a_supervisors_offline_ends_after_contact_work_at_once():
    deps = demo_deps()
    call = ana_holds_a_contact(deps)
    transfers.disconnect_customer(deps, TENANT, call)
    deps.events.events.clear()
    ana = _status(deps, "ana", "OFFLINE", by_supervisor=True)  # was a 409, and ACW had no end but the agent's
    assert (ana.status, ana.next_status, ana.busy) == (AgentStatus.OFFLINE, None, False)
    ended = _contact(deps, call)
    assert ended.state == ContactState.COMPLETED and ended.acw_ended_at is not None
    assert (TENANT, call) in deps.workflow.post_contact  # its post-contact workflow runs, as end-acw starts it
    kinds = [str(e.type) for e in deps.events.events]
    assert "contact.completed" in kinds and "agent.status_changed" in kinds
    last = [e.payload for e in deps.events.events if e.subject == "agent/ana"][-1]
    assert (last["status"], last["activity"]) == ("OFFLINE", "OFFLINE")  # live gauges and spans close


def test_a_supervisors_break_ends_acw_and_keeps_the_break():
    deps = demo_deps()
    call = ana_holds_a_contact(deps)
    transfers.disconnect_customer(deps, TENANT, call)
    ana = _status(deps, "ana", "BREAK", by_supervisor=True)
    assert (ana.status, ana.next_status, ana.busy) == ("BREAK", None, False)
    assert _contact(deps, call).state == ContactState.COMPLETED


def test_the_agents_own_break_keeps_its_acw():
    deps = demo_deps()
    call = ana_holds_a_contact(deps)
    transfers.disconnect_customer(deps, TENANT, call)
    assert _status(deps, "ana", "BREAK").acw_contact_ids == (call,)


def test_a_supervisors_offline_withdraws_a_ringing_offer_and_routes_it_again_keeping_its_place():
    deps = demo_deps()
    add_agent(deps, "ana")
    _status(deps, "ana", "AVAILABLE")
    offered = _new_contact(deps, "t1")
    assert (offered.state, offered.agent_id) == (ContactState.OFFERED, "ana")
    add_agent(deps, "bo")
    _status(deps, "bo", "AVAILABLE")  # the contact rings at ana: nothing for bo yet
    ana = _status(deps, "ana", "OFFLINE", by_supervisor=True)  # was a 409 while the offer rang (RESERVED)
    assert (ana.status, ana.next_status, ana.busy) == (AgentStatus.OFFLINE, None, False)
    again = _contact(deps, offered.contact_id)
    assert (again.state, again.agent_id) == (ContactState.OFFERED, "bo")
    assert again.enqueued_at == offered.enqueued_at  # its place and wait kept
    assert "ana" not in again.declined_by  # withdrawn, not refused: ana may have it once back
    why = [d["why"] for d in routing.decisions_of(deps, TENANT, offered.contact_id) if d["kind"] == "reservation"]
    assert why and "withdrawn from ana" in why[-1]


def test_a_supervisors_offline_with_an_offer_and_a_conversation_leaves_only_the_conversation():
    deps = demo_deps()
    add_agent(deps, "ana", capacity={"CHAT": 2, "VOICE": 1})
    _status(deps, "ana", "AVAILABLE")
    first = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.CHAT, queue_id="sales"))
    contacts.queue_and_route(deps, TENANT, first.contact_id, "t1")
    contacts.accept_contact(deps, TENANT, "ana", first.contact_id)
    second = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.CHAT, queue_id="sales"))
    assert contacts.queue_and_route(deps, TENANT, second.contact_id, "t2").agent_id == "ana"
    ana = _status(deps, "ana", "OFFLINE", by_supervisor=True)
    assert (ana.status, ana.next_status) == ("AVAILABLE", "OFFLINE")
    assert ana.active_contact_ids == (first.contact_id,) and ana.offered_contact_ids == ()
    assert _contact(deps, second.contact_id).state == ContactState.QUEUED


def test_a_supervisors_available_ends_acw_and_offers_work():
    deps = demo_deps()
    call = ana_holds_a_contact(deps)
    transfers.disconnect_customer(deps, TENANT, call)
    waiting_one = _new_contact(deps, "t2")
    assert waiting_one.state == ContactState.QUEUED  # ana is in ACW
    ana = _status(deps, "ana", "AVAILABLE", by_supervisor=True)  # same status: still clears the ACW
    assert _contact(deps, call).state == ContactState.COMPLETED
    assert ana.offered_contact_ids == (waiting_one.contact_id,)


def test_the_agents_own_status_replaces_a_pending_offline():
    deps = demo_deps()
    ana_holds_a_contact(deps)
    _status(deps, "ana", "OFFLINE", by_supervisor=True)
    back = _status(deps, "ana", "AVAILABLE")  # the desktop is back: the agent decides again
    assert (back.status, back.next_status, back.is_available) == ("AVAILABLE", None, True)


def test_a_missed_offer_does_not_overwrite_a_pending_offline():
    ana = agent("ana", capacity={"CHAT": 2}).model_copy(update={"tenant_id": "t1"})
    chat1, chat2 = contact("c1", channel=Channel.CHAT), contact("c2", channel=Channel.CHAT)
    _, ana = lifecycle.reserve(chat1, ana, s(0))
    connected, ana = lifecycle.accept(_offered(chat1, "ana"), ana, s(1))
    _, ana = lifecycle.reserve(chat2, ana, s(2))
    ana = lifecycle.set_status(ana, "OFFLINE", s(3), by_supervisor=True)
    _, ana = lifecycle.decline(_offered(chat2, "ana"), ana, s(4), agent_status="MISSED")
    assert (ana.status, ana.next_status) == ("AVAILABLE", "OFFLINE")


def _offered(c, agent_id):
    return c.model_copy(update={"state": ContactState.OFFERED, "agent_id": agent_id, "offered_at": s(0)})


def test_an_agent_going_offline_counts_as_gone_for_steps_at_once():
    """A pending OFFLINE is not staffed: a step only it satisfies is passed over (reach.py)."""
    policy = RoutingPolicy.model_validate({"queues": {"billing": {"steps": [
        {"name": "experts", "condition": "billing>=4", "expiry_s": 60}]}}})
    expert = agent("x4", {"billing": 4}).model_copy(update={"active": {"VOICE": 1}, "active_contact_ids": ("c0",),
                                                           "next_status": "OFFLINE"})
    step = resolve_step(contact(), queue(), policy, s(1), StaffedAgents([expert]))
    assert step.final and step.skipped[0].reason == "no_staffed_agent"


# --- 2. SL risk past the threshold --------------------------------------------------------------------------------


def test_a_contact_past_the_threshold_stays_ahead_of_an_equal_priority_one_that_waited_less():
    """The tester's queue: T = 20 s, c1 at 0 s, c2 at 4 s, nobody arriving: c1 was position 2 at 20 s and the agent
    freed at 22 s was offered c2 (its SL risk 0.73 against c1's 0 once c1 had missed T)."""
    policy, q = RoutingPolicy(), queue(sl_threshold_s=20)
    c1, c2 = contact("c1", enqueued_at=s(0)), contact("c2", enqueued_at=s(4))
    for t in range(4, 60):
        order = waiting_order(q, policy.contact_scoring, s(t))
        assert (position_in_queue(c1, [c1, c2], order), position_in_queue(c2, [c1, c2], order)) == (1, 2), t
    assert select_contact(agent("ben"), {"billing": [c2, c1]}, {"billing": q}, policy, s(22)).winner == "c1"


_WEIGHTS = st.floats(min_value=0, max_value=1000, allow_nan=False, allow_infinity=False)
_SCORING = st.builds(ContactScoring, contact_priority=_WEIGHTS, wait=_WEIGHTS, sl_risk=_WEIGHTS,
                     sl_risk_horizon=st.floats(min_value=0.01, max_value=100, allow_nan=False))
_STATS = st.none() | st.builds(QueueStats, aht_s=st.floats(min_value=1, max_value=3600), agents=st.floats(0, 50),
                               service_level=st.none() | st.floats(0, 1))


@settings(max_examples=300, deadline=None)
@given(threshold_s=st.integers(1, 3600), scoring=_SCORING, stats=_STATS, priority=st.integers(1, 10),
       older_at_s=st.integers(0, 7200), later_by_ms=st.integers(1, 3_600_000), now_after_ms=st.integers(0, 10_000_000))
def test_the_longer_waiting_contact_of_equal_priority_never_ranks_behind(threshold_s, scoring, stats, priority,
                                                                         older_at_s, later_by_ms, now_after_ms):
    q = queue(sl_threshold_s=threshold_s)
    older = contact("zz-older", enqueued_at=s(older_at_s))  # its id sorts last: the score and the time decide
    younger = contact("aa-younger", enqueued_at=older.enqueued_at + later_by_ms)
    now = younger.enqueued_at + now_after_ms
    key_older = contact_rank(older, q, priority, now, scoring, stats)[0]
    key_younger = contact_rank(younger, q, priority, now, scoring, stats)[0]
    assert key_older < key_younger


@settings(max_examples=200, deadline=None)
@given(threshold_s=st.integers(1, 600), scoring=_SCORING, stats=_STATS, priority=st.integers(1, 10),
       arrivals_ms=st.lists(st.integers(0, 600_000), min_size=2, max_size=8),
       looks_ms=st.lists(st.integers(0, 1_200_000), min_size=2, max_size=10))
def test_positions_never_increase_without_an_arrival_ranked_ahead(threshold_s, scoring, stats, priority,
                                                                  arrivals_ms, looks_ms):
    """Equal priority, one queue: a contact's position over time only grows by the arrivals ranked ahead of it
    (none, at equal priority: the property above)."""
    q = queue(sl_threshold_s=threshold_s)
    everyone = [contact(f"c{i}", enqueued_at=s(0) + at, priority=priority) for i, at in enumerate(arrivals_ms)]
    looks = sorted(s(0) + at for at in looks_ms)
    scoring_policy = RoutingPolicy(contact_scoring=scoring)

    def positions(now):
        present = [c for c in everyone if c.enqueued_at <= now]
        order = waiting_order(q, scoring_policy.contact_scoring, now, stats)
        return {c.contact_id: position_in_queue(c, present, order) for c in present}, order

    for earlier, later in zip(looks, looks[1:]):
        before, _ = positions(earlier)
        after, order = positions(later)
        arrived = [c for c in everyone if earlier < c.enqueued_at <= later]
        for contact_id, position in before.items():
            mine = order(next(c for c in everyone if c.contact_id == contact_id))
            ahead = sum(1 for c in arrived if order(c) < mine)
            assert after[contact_id] <= position + ahead


# --- 3. agent OFFLINE and a saved profile decide at once ----------------------------------------------------------


def _experts_step_with_the_expert_on_break():
    """Sales' first step takes experts (y>=4) for 60 s; x4 (y:4) is on BREAK, x2 (y:2) AVAILABLE: the step holds
    while x4 is staffed."""
    deps = demo_deps()
    routing.put_policy(deps, TENANT, RoutingPolicy.model_validate(
        {"queues": {"sales": {"steps": [{"name": "experts", "condition": "y>=4", "expiry_s": 60}]}}}))
    add_agent(deps, "x4", skills={"y": 4})
    add_agent(deps, "x2", skills={"y": 2})
    _status(deps, "x4", "BREAK")
    _status(deps, "x2", "AVAILABLE")
    return deps


def test_the_last_expert_going_offline_offers_the_contact_to_the_free_agent_at_once():
    """The tester's (A): step experts y>=4 for 60 s; x4 on BREAK (staffed: the step holds), x2 AVAILABLE; x4 going
    OFFLINE left the contact QUEUED until the step expired (ewt 0 s meanwhile)."""
    deps = _experts_step_with_the_expert_on_break()
    queued = _new_contact(deps, "t1")
    assert queued.state == ContactState.QUEUED
    deps.clock.advance(1)
    _status(deps, "x4", "OFFLINE")
    now = _contact(deps, queued.contact_id)
    assert (now.state, now.agent_id) == (ContactState.OFFERED, "x2")
    skipped = [d for d in routing.decisions_of(deps, TENANT, queued.contact_id) if d.get("winner") == queued.contact_id]
    assert skipped and skipped[-1]["skipped_steps"][0]["reason"] == "no_staffed_agent"


def test_the_decision_counts_the_agent_gone_offline_as_written_even_with_a_stale_roster(monkeypatch):
    """The AWS store keeps the roster a few seconds per container: the agent that just went OFFLINE is counted as
    written (routing.staff_of's `current`), not as the kept roster still has it."""
    deps = _experts_step_with_the_expert_on_break()
    stale = deps.store.list_agents(TENANT)  # x4 on BREAK: staffed
    monkeypatch.setattr(deps.store, "staffing_roster", lambda tenant_id: stale)
    queued = _new_contact(deps, "t1")
    _status(deps, "x4", "OFFLINE")
    assert _contact(deps, queued.contact_id).agent_id == "x2"


def test_a_queue_added_to_an_idle_available_agents_profile_serves_its_waiting_contact_at_once():
    """The tester's (B): the contact was offered only at the safety net (30 s), told ewt 0 meanwhile."""
    deps = demo_deps()
    add_agent(deps, "ana", queues=())
    _status(deps, "ana", "AVAILABLE")
    queued = _new_contact(deps, "t1")
    assert queued.state == ContactState.QUEUED
    deps.clock.advance(2)
    admin.put_agent(deps, Agent(tenant_id=TENANT, agent_id="ana", name="Ana", queues=(QueueAssignment(queue_id="sales"),)))
    now = _contact(deps, queued.contact_id)
    assert (now.state, now.agent_id) == (ContactState.OFFERED, "ana")


def test_skills_added_to_an_available_agent_serve_a_waiting_contact_at_once():
    deps = demo_deps()
    add_agent(deps, "ana", queues=("spanish",))
    _status(deps, "ana", "AVAILABLE")
    queued = _new_contact(deps, "t1", queue_id="spanish")  # requires lang_es >= 3
    assert queued.state == ContactState.QUEUED
    admin.put_agent(deps, Agent(tenant_id=TENANT, agent_id="ana", name="Ana", skills={"lang_es": 4},
                                queues=(QueueAssignment(queue_id="spanish"),)))
    assert _contact(deps, queued.contact_id).agent_id == "ana"


def test_skills_taken_from_the_last_expert_pass_its_step_over_at_once():
    deps = _experts_step_with_the_expert_on_break()
    queued = _new_contact(deps, "t1")
    admin.put_agent(deps, Agent(tenant_id=TENANT, agent_id="x4", name="X4", skills={"y": 3},
                                queues=(QueueAssignment(queue_id="sales"),)))
    assert _contact(deps, queued.contact_id).agent_id == "x2"


def test_a_profile_saved_with_nothing_waiting_costs_one_query():
    deps = demo_deps()
    add_agent(deps, "ana")
    _status(deps, "ana", "AVAILABLE")
    calls = []
    real = deps.store.available_agents
    deps.store.available_agents = lambda *a, **k: calls.append(a) or real(*a, **k)
    admin.put_agent(deps, Agent(tenant_id=TENANT, agent_id="ana", name="Ana 2", queues=(QueueAssignment(queue_id="sales"),)))
    assert calls == []


# --- 4. journey times on offers -----------------------------------------------------------------------------------


def test_an_offers_journey_shows_iso_times_with_ms_twins():
    from ccaas.api.views import JourneyView

    past = PastContact(contact_id="p1", started_at=1_796_555_341_842, ended_at=1_796_555_400_000, agent_id="ana")
    shown = JourneyView.of(JourneySummary(customer_id="c-1", recent=(past,))).model_dump(mode="json")
    recent = shown["recent"][0]
    assert recent["started_at"] == "2026-12-06T11:09:01.842Z" and recent["started_at_ms"] == 1_796_555_341_842
    assert recent["ended_at"] == "2026-12-06T11:10:00.000Z" and recent["ended_at_ms"] == 1_796_555_400_000
