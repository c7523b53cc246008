"""A person's answer takes a free agent or is an abandoned call (47 CFR 64.1200(a)(7): no live agent within 2 s of
the greeting), counted where the 3 % cap reads it: answers beyond the free agents of a tick, an Amazon Connect call
whose agent came late, two writers of one outcome, and an agent's "no person" re-disposition."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from ccaas.domain.models import Agent, AgentStatus, ContactState, NotFound, QueueAssignment
from ccaas.domain.outbound.models import Disposition
from ccaas.ports_outbound import CarrierOutcome
from ccaas.usecases import outbound, outbound_metrics
from ccaas.usecases.outbound import DispositionRequest, outcome_from_ctr
from tests.unit.test_outbound_usecases import NOW, T, _campaign, _upload, deps  # noqa: F401 - deps: fixture

ANSWERED = CarrierOutcome(disposition=Disposition.ANSWERED, at=NOW + timedelta(seconds=8))


def _rows(n: int) -> str:
    return "row_id,phone,time_zone,consent_automated_voice\n" + "".join(
        f"r{i},+1212555{101 + i:04d},America/New_York,true\n" for i in range(n))


def _agent(deps, agent_id: str, **update) -> None:
    """A new free agent of the queue, or a change to one."""
    try:
        agent = deps.store.get_agent(T, agent_id)
    except NotFound:
        deps.store.save(agents=[Agent(tenant_id=T, agent_id=agent_id, name=agent_id, status=AgentStatus.AVAILABLE,
                                      queues=(QueueAssignment(queue_id="sales"),))])
        agent = deps.store.get_agent(T, agent_id)
    if update:
        deps.store.save(agents=[agent.model_copy(update={**update, "version": agent.version + 1})])


def _offer(deps, contact_id: str, agent_id: str) -> None:
    """What routing does: the contact is offered to the agent (who then no longer reads as free)."""
    contact = deps.store.get_contact(T, contact_id)
    deps.store.save(contacts=[contact.model_copy(update={"state": ContactState.OFFERED, "version": contact.version + 1})])
    _agent(deps, agent_id, offered_contact_ids=(contact_id,))


def _answer(deps, record, outcome=ANSWERED):
    return outbound.record_outcome(deps, T, "c1", record.attempt.row_id, record.attempt_id, outcome)


def _day_counts(deps):
    return deps.outbound.day_counts(T, "c1", "2025-11-01", "2025-12-31")


def _four_calls_two_free_agents(deps):
    for extra in ("cy", "dee"):
        _agent(deps, extra)
    _campaign(deps)
    _upload(deps, _rows(4))
    assert outbound.dial_tick(deps, T, "c1", NOW).dialed == 4  # one per free agent
    for gone in ("cy", "dee"):
        _agent(deps, gone, status=AgentStatus.OFFLINE)
    return outbound.attempts_export(deps, T, "c1")


def test_answers_beyond_the_free_agents_are_abandoned_calls_with_the_message(deps):
    """Routing reserves an agent after the contact is made: until then every answer saw the same free agents, and
    the people beyond them waited in a queue recorded as connected (the cap never saw those drops)."""
    records = _four_calls_two_free_agents(deps)
    done = [_answer(deps, r) for r in records]
    assert [d.attempt.disposition for d in done] == [Disposition.ANSWERED] * 2 + [Disposition.ABANDONED] * 2
    assert all(d.contact_id for d in done[:2]) and not any(d.contact_id for d in done[2:])
    assert all(d.attempt.abandon_message_played for d in done[2:])
    assert len(deps.workflow.started) == 2  # two contacts routed for two free agents
    stats = outbound.abandonment(outbound._window_counts(deps, T, "c1", NOW, 31))
    assert (stats.answered, stats.abandoned) == (4, 2)
    m = outbound_metrics.campaign_metrics(deps, T, "c1")
    assert (m.human_answered, m.connects, m.abandoned) == (4, 2, 2)


def test_an_answer_holds_its_agent_until_routing_offers_it_and_a_minute_at_most(deps):
    records = _four_calls_two_free_agents(deps)
    first, second = (_answer(deps, r) for r in records[:2])
    _offer(deps, first.contact_id, "ana")  # ana took the first call; ben is still held by the second
    _agent(deps, "cy", status=AgentStatus.AVAILABLE)  # a new free agent: for the next answer
    third = _answer(deps, records[2])
    assert third.attempt.disposition is Disposition.ANSWERED and third.contact_id
    # ben (second's) and cy (third's) held, ana busy: nobody free
    assert _answer(deps, records[3]).attempt.disposition is Disposition.ABANDONED
    assert second.contact_id and deps.store.get_contact(T, second.contact_id).state is ContactState.INITIATED

    _agent(deps, "dee", status=AgentStatus.AVAILABLE)
    deps.clock.advance(outbound.HANDOUT_HOLD.total_seconds() + 1)  # contacts routing never took hold no agent for good
    _upload(deps, "row_id,phone,time_zone,consent_automated_voice\nr9,+12125550199,America/New_York,true\n")
    now = datetime.fromtimestamp(deps.clock.now_ms() / 1000, tz=NOW.tzinfo)
    assert outbound.dial_tick(deps, T, "c1", now).dialed >= 1
    late = next(r for r in outbound.attempts_export(deps, T, "c1") if r.attempt.row_id == "r9")
    assert _answer(deps, late, CarrierOutcome(disposition=Disposition.ANSWERED, at=now)).contact_id


def test_the_same_outcome_recorded_twice_at_once_makes_one_contact(deps, monkeypatch):
    """Both writers found the agent free: each made (and routed) a contact for the one call."""
    _campaign(deps)
    _upload(deps, _rows(1))
    outbound.dial_tick(deps, T, "c1", NOW)
    (record,) = outbound.attempts_export(deps, T, "c1")
    made = outbound._outbound_contact
    others: list = []

    def racing(*args):
        if not others:  # the other tick records the same outcome while this one makes its contact
            others.append(None)
            others[0] = _answer(deps, record)
        return made(*args)

    monkeypatch.setattr(outbound, "_outbound_contact", racing)
    done = _answer(deps, record)
    assert len(deps.workflow.started) == 1
    assert done.attempt.disposition is others[0].attempt.disposition is Disposition.ANSWERED
    assert deps.outbound.get_attempt(T, "c1", "r0", record.attempt_id).contact_id == deps.workflow.started[0][1]
    assert _day_counts(deps)["2025-11-24"] == {"attempts": 1, "outcome.answered": 1, "connects": 1}


def test_a_late_writer_never_turns_a_connected_call_into_an_abandoned_one(deps):
    """The second writer read "no outcome yet", then found the agent taken by the first's call: it wrote ABANDONED
    over ANSWERED (two person-answered calls counted for one, and the agent's disposition refused)."""
    _agent(deps, "ben", status=AgentStatus.OFFLINE)
    _campaign(deps)
    _upload(deps, _rows(1))
    outbound.dial_tick(deps, T, "c1", NOW)
    (record,) = outbound.attempts_export(deps, T, "c1")
    store, read = deps.outbound, deps.outbound.get_attempt
    first: list = []

    def stale_read(*args):
        held = read(*args)
        if not first:  # this writer has read the attempt undisposed; the other runs to completion now
            first.append(None)
            store.get_attempt = read
            first[0] = _answer(deps, record)
            _offer(deps, first[0].contact_id, "ana")
            store.get_attempt = stale_read
        return held

    store.get_attempt = stale_read
    try:
        done = _answer(deps, record)
    finally:
        store.get_attempt = read
    assert done.attempt.disposition is Disposition.ANSWERED and done.contact_id == first[0].contact_id
    assert _day_counts(deps)["2025-11-24"] == {"attempts": 1, "outcome.answered": 1, "connects": 1}
    rpc = outbound.dispose_contact(deps, T, done.contact_id, DispositionRequest(disposition="right_party_contact"))
    assert rpc.attempt.disposition is Disposition.RIGHT_PARTY_CONTACT and rpc.attempt.conversation


def _ctr(agent_at: str | None, attempt_id: str = "a1", instance: str = "") -> dict:
    return {"ContactId": "k1", "InstanceARN": instance, "InitiationMethod": "OUTBOUND", "Channel": "VOICE",
            "InitiationTimestamp": "2025-11-24T16:00:00Z", "ConnectedToSystemTimestamp": "2025-11-24T16:00:10Z",
            "DisconnectTimestamp": "2025-11-24T16:05:00Z",
            "Agent": {"ConnectedToAgentTimestamp": agent_at} if agent_at else None,
            "Attributes": {"ccaas_tenant_id": T, "ccaas_campaign_id": "c1", "ccaas_row_id": "r0",
                           "ccaas_attempt_id": attempt_id}}


@pytest.mark.parametrize(("agent_at", "expected"), [
    ("2025-11-24T16:00:11Z", Disposition.ANSWERED), ("2025-11-24T16:00:12Z", Disposition.ANSWERED),
    ("2025-11-24T16:00:12.500Z", Disposition.ABANDONED), ("2025-11-24T16:00:55Z", Disposition.ABANDONED),
    ("2025-11-24T16:04:30Z", Disposition.ABANDONED), (None, Disposition.ABANDONED)])
def test_a_connect_call_whose_agent_came_more_than_2_s_after_the_answer_is_abandoned(agent_at, expected):
    _, outcome = outcome_from_ctr(_ctr(agent_at))
    assert outcome.disposition is expected


def test_a_late_agent_connect_record_counts_a_drop_keeps_its_contact_and_starts_reg_f_quiet(deps):
    _campaign(deps)
    _upload(deps, "row_id,phone,time_zone,consent_automated_voice,account_id\nr0,+12125550101,America/New_York,true,debt-1\n")
    outbound.dial_tick(deps, T, "c1", NOW)
    (record,) = outbound.attempts_export(deps, T, "c1")
    instance = "arn:aws:connect:us-east-1:123456789012:instance/1b2c3d4e-0000-4000-8000-000000000001"
    deps.config.put_connect_instance(instance, T)
    done = outbound.record_ctr_outcome(deps, _ctr("2025-11-24T16:00:55Z", record.attempt_id, instance))
    assert done.attempt.disposition is Disposition.ABANDONED and done.contact_id == "k1"
    assert done.attempt.abandon_message_played is None  # the flow queued it: whether a message played is unknown
    m = outbound_metrics.campaign_metrics(deps, T, "c1")
    assert (m.human_answered, m.connects, m.abandoned) == (1, 0, 1)
    since = NOW - timedelta(days=1)
    assert deps.outbound.conversations(T, "account", "debt-1", since) == [NOW + timedelta(minutes=5)]
    assert deps.outbound.conversations(T, "number", "+12125550101", since) == [NOW + timedelta(minutes=5)]


def test_a_machine_the_agent_disposes_leaves_the_answered_calls_the_cap_divides_by(deps):
    """1 drop + 2 "answered" calls the agents found to be answering machines: 1 of 1 person-answered calls dropped
    (100 %), as the historical figures say, not 1 of 3."""
    _agent(deps, "cy")
    _campaign(deps)
    _upload(deps, _rows(3))
    outbound.dial_tick(deps, T, "c1", NOW)
    records = outbound.attempts_export(deps, T, "c1")
    _answer(deps, records[0], CarrierOutcome(disposition=Disposition.ABANDONED, at=NOW + timedelta(seconds=8)))
    answered = [_answer(deps, r) for r in records[1:]]
    deps.clock.now = int((NOW + timedelta(hours=8, minutes=30)).timestamp() * 1000)  # the next UTC day: 00:30
    for d in answered:
        outbound.dispose_contact(deps, T, d.contact_id, DispositionRequest(disposition="answering_machine"))
    stats = outbound.abandonment(outbound._window_counts(deps, T, "c1", NOW + timedelta(hours=9), 31))
    assert (stats.answered, stats.abandoned) == (1, 1)
    m = outbound_metrics.campaign_metrics(deps, T, "c1")
    assert (m.human_answered, m.connects, m.abandonment_rate) == (1, 0, 1.0)
    assert m.outcomes == {"abandoned": 1, "answered": 0, "answering_machine": 2}
    # counted on the day of the answer: no day holds fewer than zero answered calls
    assert set(_day_counts(deps)) == {"2025-11-24"}
