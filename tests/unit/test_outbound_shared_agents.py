"""An agent serving two queues, each with a running campaign, is one free agent, not one per campaign: the ticks
of campaigns whose agents overlap share the calls ringing for them and never run at once, and the answers are
handed to the shared agent once (TCPA's safe harbour: an answer with no agent is an abandoned call, 3 % cap)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from ccaas.domain.models import Agent, AgentStatus, Channel, Queue, QueueAssignment
from ccaas.domain.outbound.models import Disposition
from ccaas.ports_outbound import RINGING, CarrierOutcome
from ccaas.usecases import outbound
from ccaas.usecases.outbound import TICK_LEASE, CampaignRequest, ListUpload
from tests.outbound_builders import overlapped_tick
from tests.unit.test_outbound_tick_pacing import NOW, T, _dialed, deps  # noqa: F401 - deps: fixture


def _agents(deps, **serving: tuple[str, ...]) -> None:
    """Exactly these agents, free, each serving its queues (the fixture's ana and ben are replaced)."""
    stored = {a.agent_id: a for a in deps.store.list_agents(T)}
    for agent_id in {*serving, *stored}:
        queues = tuple(QueueAssignment(queue_id=q) for q in serving.get(agent_id, ()))
        update = {"status": AgentStatus.AVAILABLE if agent_id in serving else AgentStatus.OFFLINE, "queues": queues}
        agent = stored.get(agent_id) or Agent(tenant_id=T, agent_id=agent_id, name=agent_id, version=-1)
        deps.store.save(agents=[agent.model_copy(update={**update, "version": agent.version + 1})])


def _campaign(deps, cid: str, queue_id: str, start: int, rows: int = 5) -> None:
    outbound.create_campaign(deps, T, CampaignRequest(campaign_id=cid, name=cid, mode="progressive", queue_id=queue_id,
                                                      caller_id="+12125550199"))
    outbound.change_status(deps, T, cid, "start")
    lines = "".join(f"r{i},+1212555{start + i:04d},America/New_York,true\n" for i in range(rows))
    outbound.upload_list(deps, T, cid, ListUpload(format="csv", content="row_id,phone,time_zone,consent_automated_voice\n" + lines))


@pytest.fixture
def two_queues(deps):
    deps.config.put_queue(Queue(tenant_id=T, queue_id="support", name="Support", channels=frozenset({Channel.VOICE})))
    return deps


def test_one_free_agent_on_two_queues_gets_one_call_not_one_per_campaign(two_queues):
    deps = two_queues
    _agents(deps, ana=("sales", "support"))
    _campaign(deps, "c1", "sales", 101)
    _campaign(deps, "c2", "support", 201)
    sweep = outbound.dial_sweep(deps, NOW)
    assert sorted(t.dialed for t in sweep.ticks) == [0, 1] and len(_dialed(deps)) == 1
    # still ringing for ana: neither campaign dials again, whichever ticks
    assert outbound.dial_sweep(deps, NOW + timedelta(seconds=5)).dialed == 0
    # ended (no answer): ana is free for either campaign again, once
    for request in _dialed(deps):
        deps.dialers.dialer.outcomes[request.attempt_id] = CarrierOutcome(disposition=Disposition.NO_ANSWER, at=NOW)
    assert outbound.dial_sweep(deps, NOW + timedelta(seconds=10)).dialed == 1


def test_a_paused_campaigns_calls_still_ring_for_the_shared_agent(two_queues):
    deps = two_queues
    _agents(deps, ana=("sales", "support"), ben=("sales",))
    _campaign(deps, "c1", "sales", 101)
    assert outbound.dial_tick(deps, T, "c1", NOW).dialed == 2  # ana and ben
    outbound.change_status(deps, T, "c1", "pause")
    _campaign(deps, "c2", "support", 201)
    # c1's two calls may both be answered while ana is c2's only agent (conservative: ben's call counts too)
    assert outbound.dial_tick(deps, T, "c2", NOW + timedelta(seconds=5)).dialed == 0


def test_agents_on_one_queue_each_are_dialed_for_as_before(two_queues):
    deps = two_queues
    _agents(deps, ana=("sales",), ben=("support",))
    _campaign(deps, "c1", "sales", 101)
    _campaign(deps, "c2", "support", 201)
    sweep = outbound.dial_sweep(deps, NOW)
    assert sorted(t.dialed for t in sweep.ticks) == [1, 1] and len(_dialed(deps)) == 2
    # another queue's lease does not hold a tick whose agents do not serve it
    assert deps.outbound.acquire_lease(T, "dial#support", "crashed", now=NOW, until=NOW + TICK_LEASE)
    assert outbound.dial_tick(deps, T, "c1", NOW + timedelta(seconds=5)).overlapped is False


def test_a_tick_overlapping_one_of_another_queue_sharing_an_agent_does_nothing(two_queues):
    """Each tick took only its own queue's lease: both read ana free before either dialed, and both dialed."""
    deps = two_queues
    _agents(deps, ana=("sales", "support"))
    _campaign(deps, "c1", "sales", 101)
    _campaign(deps, "c2", "support", 201)
    outer, inner = overlapped_tick(deps, "c1", "c2", NOW)
    assert inner.overlapped and inner.dialed == 0
    assert outer.dialed == 1 and len(_dialed(deps)) == 1  # at most one call per free agent
    assert deps.outbound.leases == {}  # every lease released at the tick's end


def test_a_lease_held_on_a_queue_sharing_an_agent_holds_the_tick(two_queues):
    deps = two_queues
    _agents(deps, ana=("sales", "support"))
    _campaign(deps, "c1", "sales", 101)
    assert deps.outbound.acquire_lease(T, "dial#support", "crashed", now=NOW, until=NOW + TICK_LEASE)
    assert outbound.dial_tick(deps, T, "c1", NOW + timedelta(seconds=30)).overlapped
    assert _dialed(deps) == [] and deps.outbound.leases.keys() == {(T, "dial#support")}  # sales' released
    assert outbound.dial_tick(deps, T, "c1", NOW + TICK_LEASE).dialed == 1


def test_an_agent_moved_to_another_queue_during_the_lease_dials_nothing(two_queues, monkeypatch):
    """The leases were chosen from the agents read before them: an agent that joined another queue since is read
    by ticks not holding these leases."""
    deps = two_queues
    _agents(deps, ana=("sales",))
    _campaign(deps, "c1", "sales", 101)
    acquire = deps.outbound.acquire_lease

    def joining(*args, **kwargs):
        held = acquire(*args, **kwargs)
        _agents(deps, ana=("sales", "support"))
        return held

    monkeypatch.setattr(deps.outbound, "acquire_lease", joining)
    result = outbound.dial_tick(deps, T, "c1", NOW)
    assert result.overlapped and result.dialed == 0 and _dialed(deps) == []


def _answer(deps, cid: str):
    (record,) = outbound.attempts_export(deps, T, cid)
    return outbound.record_outcome(deps, T, cid, record.attempt.row_id, record.attempt_id,
                                   CarrierOutcome(disposition=Disposition.ANSWERED, at=record.attempt.started_at))


def _one_call_each(deps) -> None:
    _campaign(deps, "c1", "sales", 101, rows=1)
    _campaign(deps, "c2", "support", 201, rows=1)
    assert outbound.dial_tick(deps, T, "c1", NOW).dialed == 1
    later = NOW + RINGING + timedelta(seconds=1)  # c1's call no longer counts as ringing (an answer would be in)
    assert outbound.dial_tick(deps, T, "c2", later).dialed == 1


def test_two_answers_for_one_shared_free_agent_hand_out_one(two_queues):
    """Each queue's hand-outs counted only its own: both answers were handed to ana, one person waited (a drop)."""
    deps = two_queues
    _agents(deps, ana=("sales", "support"))
    _one_call_each(deps)
    first, second = _answer(deps, "c1"), _answer(deps, "c2")
    assert first.attempt.disposition is Disposition.ANSWERED and first.contact_id
    assert second.attempt.disposition is Disposition.ABANDONED and second.attempt.abandon_message_played
    assert len(deps.workflow.started) == 1


def test_answers_for_agents_of_one_queue_each_are_both_handed_out(two_queues):
    deps = two_queues
    _agents(deps, ana=("sales",), ben=("support",))
    _one_call_each(deps)
    assert [_answer(deps, c).attempt.disposition for c in ("c1", "c2")] == [Disposition.ANSWERED] * 2
    assert len(deps.workflow.started) == 2
