"""A journey test's agent (skill ccaas:test_agent) is no workforce: its events write no activity at all (no span,
open item or lake row: synthetic data never becomes history), so occupancy, utilization, staffed time, cost per
contact and the lake's agent_activity figures never count its time (and a span it opened before that rule is closed
by its next event); and an agent cannot become (or stop being) a test agent
while staffed, which would strand a span or a live gauge."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ccaas.bootstrap import memory_dependencies
from ccaas.domain.events import Event
from ccaas.domain.history import ActivityKind, OpenActivity
from ccaas.domain.kpis.settings import KpiSettings
from ccaas.domain.models import Agent, Channel, Conflict, Queue, QueueAssignment
from ccaas.domain.routing_engine.synthetic import SYNTHETIC_ATTRIBUTE, TEST_AGENT_ATTRIBUTE, TEST_AGENT_SKILL
from ccaas.usecases import admin, agents, contacts, history
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.contacts import NewContact
from tests.lake_twin import installed_export

T = "acme"
SALES = (QueueAssignment(queue_id="sales"),)


def _deps():
    deps = memory_dependencies()
    admin.register_tenant(deps, tenant_id=T, name=T)
    admin.put_queue(deps, Queue(tenant_id=T, queue_id="sales", name="Sales", channels=frozenset({Channel.VOICE})))
    admin.put_agent(deps, Agent(tenant_id=T, agent_id="ana", name="Ana", queues=SALES))
    admin.put_agent(deps, Agent(tenant_id=T, agent_id="bot", name="Bot", queues=SALES, skills={TEST_AGENT_SKILL: 1}))
    history.put_kpi_settings(deps, T, KpiSettings(agent_cost_per_staffed_hour=30.0))
    return deps


def _handle(deps, agent_id: str, token: str, seconds: int, **attributes: str) -> None:
    c = contacts.create_contact(deps, T, NewContact(channel=Channel.VOICE, queue_id="sales", attributes=attributes))
    contacts.queue_and_route(deps, T, c.contact_id, token)
    contacts.accept_contact(deps, T, agent_id, c.contact_id)
    deps.clock.advance(seconds)
    contacts.complete_contact(deps, T, agent_id, c.contact_id)
    contacts.end_after_contact_work(deps, T, agent_id, c.contact_id)
    history.record_contact(deps, T, c.contact_id)


def _day(deps, journeys: int):
    """An hour of ana (one 5-minute call) with `journeys` runs of the bot on synthetic contacts meanwhile."""
    start = deps.clock.now_ms()
    agents.set_agent_status(deps, T, "ana", StatusChange(status="AVAILABLE"))
    _handle(deps, "ana", "tok-real", 300)
    for i in range(journeys):
        agents.set_agent_status(deps, T, "bot", StatusChange(status="AVAILABLE"))
        _handle(deps, "bot", f"tok-{i}", 20, **{SYNTHETIC_ATTRIBUTE: "sales-call", TEST_AGENT_ATTRIBUTE: "bot"})
        agents.set_agent_status(deps, T, "bot", StatusChange(status="OFFLINE"))
        deps.clock.advance(250)
    deps.clock.advance(3300 - 270 * journeys)
    agents.set_agent_status(deps, T, "ana", StatusChange(status="OFFLINE"))
    applied = [history.record_agent_activity(deps, e) for e in list(deps.events.events)]
    day = datetime.fromtimestamp(start / 1000, tz=UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    totals = history.historical_summary(deps, T, start=day, end=day + timedelta(days=1)).totals
    spans = history.activity_spans(deps, T, start - 1, deps.clock.now_ms() + 1)
    return totals, spans, applied


def test_a_test_agents_time_counts_in_no_workforce_kpi() -> None:
    alone, _, _ = _day(_deps(), journeys=0)
    mixed, spans, _ = _day(_deps(), journeys=12)
    assert {s.agent_id for s in spans if s.kind is not ActivityKind.OFFLINE} == {"ana"}
    kpis = ("handled", "staffed_ms", "occupancy", "utilization", "cost_per_contact")
    assert [getattr(mixed, k) for k in kpis] == [getattr(alone, k) for k in kpis]
    assert alone.staffed_ms == 3_600_000 and alone.cost_per_contact == 30.0


def test_a_test_agents_events_write_no_activity_in_the_store_or_the_lake() -> None:
    """They wrote an OFFLINE span each (113 items of one bot, kept for good: outside probe 37, journeys finding 5)."""
    deps = _deps()
    with installed_export() as lake:
        _, spans, _ = _day(deps, journeys=2)
    bot_events = [e for e in deps.events.events if e.payload.get("agent_id") == "bot" and "activity" in e.payload]
    assert bot_events and all(e.payload.get("test_agent") for e in bot_events)
    assert [o for o in deps.history.open_activities(T) if o.agent_id == "bot"] == []
    assert {s.agent_id for s in spans} == {"ana"}
    assert {r["agent_id"] for r in lake.of("agent_activity")} == {"ana"}


def test_a_span_a_test_agent_opened_before_the_rule_is_closed_by_its_next_event() -> None:
    """A test agent online when the rule was deployed had an AVAILABLE span open (the old code opened one): its
    next event (the journey's clean-up OFFLINE, or any) ends it there, instead of staffed time with no end."""
    deps = _deps()
    start = deps.clock.now_ms()
    deps.history.apply_agent_activity(T, OpenActivity(agent_id="bot", kind=ActivityKind.AVAILABLE_IDLE, since=start, sequence=1))
    deps.clock.advance(600)
    event = Event(event_id="evt-upgrade-1", tenant_id=T, type="agent.status_changed", subject="agent/bot", sequence=2,
                  occurred_at=datetime.fromtimestamp(deps.clock.now_ms() / 1000, tz=UTC),
                  payload={"agent_id": "bot", "status": "AVAILABLE", "activity": "AVAILABLE", "test_agent": True})
    assert history.record_agent_activity(deps, event)
    deps.clock.advance(3 * 86400)
    day = datetime.fromtimestamp(deps.clock.now_ms() / 1000, tz=UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    assert history.historical_summary(deps, T, start=day, end=day + timedelta(days=1)).totals.staffed_ms == 0
    (closed,) = [s for s in history.activity_spans(deps, T, start, start + 1_000_000) if s.kind is not ActivityKind.OFFLINE]
    assert (closed.start_ms, closed.end_ms) == (start, start + 600_000)


@pytest.mark.parametrize("status", ["AVAILABLE", "BREAK"])
def test_the_test_agent_skill_changes_only_while_the_agent_is_offline(status: str) -> None:
    deps = _deps()
    agents.set_agent_status(deps, T, "ana", StatusChange(status=status))
    agents.set_agent_status(deps, T, "bot", StatusChange(status=status))
    as_test = Agent(tenant_id=T, agent_id="ana", name="Ana", queues=SALES, skills={TEST_AGENT_SKILL: 1})
    with pytest.raises(Conflict) as refused:
        admin.put_agent(deps, as_test)
    assert refused.value.field == "skills"
    with pytest.raises(Conflict):
        admin.put_agent(deps, Agent(tenant_id=T, agent_id="bot", name="Bot", queues=SALES))
    assert deps.store.get_agent(T, "ana").skills == {} and TEST_AGENT_SKILL in deps.store.get_agent(T, "bot").skills
    # other profile changes of a staffed agent, and the switch itself once offline, go through
    admin.put_agent(deps, Agent(tenant_id=T, agent_id="ana", name="Ana", queues=SALES, skills={"billing": 3}))
    agents.set_agent_status(deps, T, "ana", StatusChange(status="OFFLINE"))
    assert TEST_AGENT_SKILL in admin.put_agent(deps, as_test).skills
