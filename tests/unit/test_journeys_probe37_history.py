"""A test agent's activity never becomes history (outside probe 37, journeys finding 5): its events wrote an OFFLINE
span each (113 items of one bot, no TTL), which also took the "no agent activity in this range" warning off
/metrics/historical for a range where no real agent worked. Through the stream consumer's batch path, as
functions/record_agent_activity runs it, and the single-event path."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ccaas.bootstrap import memory_dependencies
from ccaas.domain.history import ActivityKind, OpenActivity
from ccaas.domain.models import Agent, Channel, Queue, QueueAssignment
from ccaas.domain.routing_engine.synthetic import SYNTHETIC_ATTRIBUTE, TEST_AGENT_ATTRIBUTE, TEST_AGENT_SKILL
from ccaas.usecases import admin, agents, contacts, history
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.contacts import NewContact

T = "acme"


def _deps():
    deps = memory_dependencies()
    admin.register_tenant(deps, tenant_id=T, name=T)
    admin.put_queue(deps, Queue(tenant_id=T, queue_id="sales", name="Sales", channels=frozenset({Channel.VOICE})))
    admin.put_agent(deps, Agent(tenant_id=T, agent_id="bot", name="Bot", queues=(QueueAssignment(queue_id="sales"),),
                                skills={TEST_AGENT_SKILL: 1}))
    return deps


def _journey_runs(deps, runs: int) -> list:
    """The bot's part of `runs` journeys: AVAILABLE, a synthetic call handled, OFFLINE. Returns its events."""
    first = len(deps.events.events)
    for i in range(runs):
        agents.set_agent_status(deps, T, "bot", StatusChange(status="AVAILABLE"))
        c = contacts.create_contact(deps, T, NewContact(channel=Channel.VOICE, queue_id="sales", attributes={
            SYNTHETIC_ATTRIBUTE: "sales-call", TEST_AGENT_ATTRIBUTE: "bot"}))
        contacts.queue_and_route(deps, T, c.contact_id, f"tok-{i}")
        contacts.accept_contact(deps, T, "bot", c.contact_id)
        deps.clock.advance(20)
        contacts.complete_contact(deps, T, "bot", c.contact_id)
        contacts.end_after_contact_work(deps, T, "bot", c.contact_id)
        agents.set_agent_status(deps, T, "bot", StatusChange(status="OFFLINE"))
        deps.clock.advance(280)
    return [e for e in deps.events.events[first:] if e.type in history.AGENT_EVENTS]


def _today(deps):
    day = datetime.fromtimestamp(deps.clock.now_ms() / 1000, tz=UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day, day + timedelta(days=1)


def test_a_test_agents_journeys_write_no_activity_and_the_range_says_no_agent_worked():
    deps = _deps()
    start = deps.clock.now_ms()
    events = _journey_runs(deps, 4)
    assert len(events) >= 12
    assert history.record_agent_activities(deps, events[: len(events) // 2]) == [False] * (len(events) // 2)
    assert not any(history.record_agent_activity(deps, e) for e in events[len(events) // 2:])
    assert deps.history.open_activities(T) == []
    assert history.activity_spans(deps, T, start - 1, deps.clock.now_ms() + 1) == []
    day, end = _today(deps)
    assert history.NO_AGENT_ACTIVITY in history.historical_metrics(deps, T, start=day, end=end, interval="day").warnings
    assert history.NO_AGENT_ACTIVITY in history.historical_summary(deps, T, start=day, end=end).warnings


def test_a_span_an_earlier_rule_left_a_test_agent_is_closed_once_then_nothing_more_is_written():
    deps = _deps()
    start = deps.clock.now_ms()
    deps.history.apply_agent_activity(T, OpenActivity(agent_id="bot", kind=ActivityKind.AVAILABLE_IDLE, since=start,
                                                      sequence=0))
    deps.clock.advance(600)
    events = _journey_runs(deps, 2)
    history.record_agent_activities(deps, events)  # one batch: the first event closes it, the others write nothing
    [closed] = history.activity_spans(deps, T, start, deps.clock.now_ms())[:1]
    assert (closed.kind, closed.start_ms, closed.end_ms) == (ActivityKind.AVAILABLE_IDLE, start, start + 600_000)
    [held] = deps.history.open_activities(T)
    assert held.kind is ActivityKind.OFFLINE and held.since == start + 600_000
    spans_before = len(deps.history.agent_activities(T, start, deps.clock.now_ms() + 1))
    history.record_agent_activities(deps, _journey_runs(deps, 3))
    assert len(deps.history.agent_activities(T, start, deps.clock.now_ms() + 1)) == spans_before == 1
