"""Live agent counts follow a logged-in agent whose queues change (PUT /agents): its counts leave the queues it left
and join those it joined at once, exactly once, and a gauge that goes below zero anyway is logged, not hidden.

Found by an outside probe: ben AVAILABLE in sales + support, PUT /agents/ben with sales + billing, ben OFFLINE ->
support showed 1 staffed, 1 available and a 0 s wait for good; ben AVAILABLE again -> billing showed 0 staffed (its
gauge at -1, clamped). The profile change published nothing, and the next status event's queues were taken for the
ones the agent counted in."""
from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from ccaas.domain.events import AgentActivity, Event, EventType
from ccaas.domain.live_metrics import ACTIVITY_GAUGES, SequencedEvent, contributions, pad_sequence
from ccaas.domain.models import Agent, Channel, Queue, QueueAssignment
from ccaas.usecases import admin, agents, metrics
from ccaas.usecases.agents import StatusChange
from tests.unit.demo import TENANT, demo_deps

SHARD = "shardId-000000000000"


class Consumer:
    """The live-metrics consumer as the Lambda runs it: each record through accept_record (which checks the queues
    an event names when it is consumed), then apply_records, in stream order; `consume()` takes what is new."""

    def __init__(self, deps) -> None:
        self.deps, self.taken, self.sequence = deps, 0, 0

    def consume(self):
        events = self.deps.events.events[self.taken:]
        self.taken = len(self.deps.events.events)
        records = []
        for e in events:
            self.sequence += 1
            records.append(metrics.accept_record(self.deps, e.model_dump_json().encode(), SHARD, str(self.sequence)))
        return metrics.apply_records(self.deps, SHARD, records) if records else []


def _deps():
    deps = demo_deps()
    for queue_id in ("support", "billing"):
        admin.put_queue(deps, Queue(tenant_id=TENANT, queue_id=queue_id, name=queue_id.title()))
    return deps


def _put(deps, agent_id, *queue_ids, **profile):
    return admin.put_agent(deps, Agent(tenant_id=TENANT, agent_id=agent_id, name=agent_id.title(),
                                       queues=tuple(QueueAssignment(queue_id=q) for q in queue_ids), **profile))


def _status(deps, agent_id, status):
    agents.set_agent_status(deps, TENANT, agent_id, StatusChange(status=status))


def _agents(deps, queue_id):
    view = metrics.realtime_queue_metrics(deps, TENANT, queue_id)
    return view.agents_staffed, view.agents_available


def _gauges(deps, queue_id):
    return {k: v for k, v in deps.live.items.get((TENANT, queue_id), {}).items() if k.startswith("g_") and v}


def test_the_probe_an_available_agents_queues_change_and_its_counts_follow():
    deps = _deps()
    consumer = Consumer(deps)
    _put(deps, "ben", "sales", "support")
    _status(deps, "ben", "AVAILABLE")
    consumer.consume()
    assert [_agents(deps, q) for q in ("sales", "support", "billing")] == [(1, 1), (1, 1), (0, 0)]

    _put(deps, "ben", "sales", "billing")
    consumer.consume()  # at once: before the agent's next status change
    assert [_agents(deps, q) for q in ("sales", "support", "billing")] == [(1, 1), (0, 0), (1, 1)]

    _status(deps, "ben", "OFFLINE")
    consumer.consume()
    assert [_agents(deps, q) for q in ("sales", "support", "billing")] == [(0, 0)] * 3
    support = metrics.realtime_queue_metrics(deps, TENANT, "support")
    assert support.estimated_wait_s is None  # nobody logged in: no "0 s" wait promised to callers

    _status(deps, "ben", "AVAILABLE")
    consumer.consume()
    assert [_agents(deps, q) for q in ("sales", "support", "billing")] == [(1, 1), (0, 0), (1, 1)]
    # Every stored gauge is what it shows: none went below zero on the way.
    assert all(v >= 0 for q in ("sales", "support", "billing") for v in _gauges(deps, q).values())


def test_an_agent_given_a_queue_before_it_is_made_counts_there_once_it_is():
    """The probe's variant: ben serves newq2 before it exists, logs in, newq2 is made, ben goes OFFLINE and AVAILABLE
    again -> newq2 showed 0 staffed (the log-in was left out of the queue, the log-out was not)."""
    deps = _deps()
    consumer = Consumer(deps)
    _put(deps, "ben", "sales", "newq2")
    _status(deps, "ben", "AVAILABLE")
    assert consumer.consume()  # the sales view is reported; newq2 has none to report yet (no failure either)
    admin.put_queue(deps, Queue(tenant_id=TENANT, queue_id="newq2", name="New"))
    assert _agents(deps, "newq2") == (1, 1)  # it counts at once
    _status(deps, "ben", "OFFLINE")
    consumer.consume()
    assert _agents(deps, "newq2") == (0, 0) and _gauges(deps, "newq2") == {}
    _status(deps, "ben", "AVAILABLE")
    consumer.consume()
    assert _agents(deps, "newq2") == (1, 1) and _agents(deps, "sales") == (1, 1)


@pytest.mark.parametrize("activity", [a for a in AgentActivity if a is not AgentActivity.OFFLINE])
def test_a_queue_change_moves_every_gauge_the_agent_counts_in(activity):
    """Staffed, available, reserved, on contact, ACW, not ready: whatever the agent is doing, its counts leave the
    queue it left and join the one it joined; the queue it keeps does not move (no write for it either)."""
    event = Event(event_id="e-queues-1", tenant_id=TENANT, type=EventType.AGENT_ACTIVITY_CHANGED,
                  occurred_at=datetime(2026, 12, 2, tzinfo=UTC), subject="agent/ben", sequence=5,
                  payload={"agent_id": "ben", "queue_ids": ["sales", "billing"], "previous_queue_ids": ["sales", "support"],
                           "activity": activity.value, "previous_activity": activity.value})
    moves = {c.queue_id: dict(c.gauges) for c in contributions(event)}
    gauge = ACTIVITY_GAUGES[activity.value]
    assert moves == {"support": {"agents_staffed": -1, gauge: -1}, "billing": {"agents_staffed": 1, gauge: 1}}


def test_an_event_without_previous_queue_ids_moves_as_before():
    """Events already on the stream (and every status event) name no previous queues: they did not change."""
    event = Event(event_id="e-status-1", tenant_id=TENANT, type=EventType.AGENT_STATUS_CHANGED,
                  occurred_at=datetime(2026, 12, 2, tzinfo=UTC), subject="agent/ben", sequence=5,
                  payload={"agent_id": "ben", "queue_ids": ["sales"], "activity": "NOT_READY",
                           "previous_activity": "AVAILABLE"})
    (part,) = contributions(event)
    assert part.queue_id == "sales" and dict(part.gauges) == {"agents_staffed": 0, "agents_available": -1,
                                                               "agents_not_ready": 1}


def test_an_agent_on_a_contact_whose_queues_change_leaves_and_joins_on_contact():
    from tests.unit.test_live_kpi_rules import _new
    from ccaas.usecases import contacts

    deps = _deps()
    consumer = Consumer(deps)
    _put(deps, "ben", "sales", "support")
    _status(deps, "ben", "AVAILABLE")
    call = _new(deps, "t1")
    contacts.accept_contact(deps, TENANT, "ben", call.contact_id)
    consumer.consume()
    _put(deps, "ben", "sales", "billing")
    consumer.consume()
    support, billing = (metrics.realtime_queue_metrics(deps, TENANT, q) for q in ("support", "billing"))
    assert (support.agents_staffed, support.agents_on_contact) == (0, 0)
    assert (billing.agents_staffed, billing.agents_on_contact) == (1, 1)
    contacts.complete_contact(deps, TENANT, "ben", call.contact_id)
    contacts.end_after_contact_work(deps, TENANT, "ben", call.contact_id)
    _status(deps, "ben", "OFFLINE")
    consumer.consume()
    assert all(_gauges(deps, q) == {} for q in ("sales", "support", "billing"))


def test_put_agent_publishes_a_move_only_when_the_queues_or_slots_of_a_staffed_agent_change():
    deps = _deps()
    _put(deps, "ben", "sales")
    _put(deps, "ben", "sales", "support")  # OFFLINE: counted nowhere, nothing to move
    assert deps.events.events == []
    _status(deps, "ben", "AVAILABLE")
    n = len(deps.events.events)
    _put(deps, "ben", "sales", "support", skills={"vip": 3})  # skills only: no count moves
    assert len(deps.events.events) == n
    saved = _put(deps, "ben", "support", "billing")
    (moved,) = deps.events.events[n:]
    assert moved.type == EventType.AGENT_ACTIVITY_CHANGED and moved.subject == "agent/ben"
    assert moved.sequence == saved.version  # the agent's version after the change: ordered with its other events
    assert (moved.payload["queue_ids"], moved.payload["previous_queue_ids"]) == (["support", "billing"], ["sales", "support"])
    assert moved.payload["activity"] == moved.payload["previous_activity"] == "AVAILABLE"
    _put(deps, "ben", "support", "billing", capacity={Channel.VOICE: 1, Channel.CHAT: 3})  # slots held: the spans cut
    (slots,) = deps.events.events[n + 1:]
    assert slots.payload["slots_available"] == 3 and slots.payload["previous_queue_ids"] == ["support", "billing"]


def test_redelivered_and_republished_moves_count_once():
    deps = _deps()
    _put(deps, "ben", "sales", "support")
    _status(deps, "ben", "AVAILABLE")
    _put(deps, "ben", "sales", "billing")
    events = list(deps.events.events)
    records = [SequencedEvent(event=e, shard_id=SHARD, sequence=pad_sequence(str(i + 1))) for i, e in enumerate(events)]
    metrics.apply_records(deps, SHARD, records)
    metrics.apply_records(deps, SHARD, records)  # the batch delivered again (its watermark skips it)
    copy = SequencedEvent(event=events[-1], shard_id=SHARD, sequence=pad_sequence("99"))
    metrics.apply_records(deps, SHARD, [copy])  # published twice: same event id, a later record (deduplicated)
    assert [_agents(deps, q) for q in ("sales", "support", "billing")] == [(1, 1), (0, 0), (1, 1)]


def test_a_gauge_below_zero_is_shown_as_zero_and_logged(caplog):
    """Each agent's moves sum to what it counts in now, so a gauge below zero means an event was lost: shown as 0,
    and logged with the queue and the gauges' names (never hidden as the probe's billing -1 was)."""
    deps = _deps()
    lost_login = Event(event_id="e-logout-1", tenant_id=TENANT, type=EventType.AGENT_STATUS_CHANGED,
                       occurred_at=datetime.fromtimestamp(deps.clock.now_ms() / 1000, tz=UTC), subject="agent/ben",
                       sequence=3, payload={"agent_id": "ben", "queue_ids": ["billing"], "activity": "OFFLINE",
                                            "previous_activity": "AVAILABLE"})
    caplog.set_level(logging.WARNING)
    metrics.apply_records(deps, SHARD, [SequencedEvent(event=lost_login, shard_id=SHARD, sequence=pad_sequence("1"))])
    assert _agents(deps, "billing") == (0, 0)
    (warning,) = [r for r in caplog.records if r.getMessage() == "live gauge below zero"]
    assert (warning.tenant_id, warning.queue_id, warning.gauges) == (TENANT, "billing", ["agents_available", "agents_staffed"])
