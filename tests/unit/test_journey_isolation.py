"""Synthetic contacts (journey tests) stay out of live metrics, history/KPIs and alerts, and reach only
test agents or the agent their journey names; real contacts never reach a test agent."""
from __future__ import annotations

from ccaas.domain.alerts import AlertRules, QueueSnapshot, queue_findings
from ccaas.domain.events import EventType, agent_event, contact_event
from ccaas.domain.history import record_from_contact
from ccaas.domain.live_metrics import SequencedEvent, contributions, fold_batch, pad_sequence
from ccaas.domain.models import Channel, ContactState
from ccaas.domain.routing_engine import RoutingPolicy, select_agent, select_contact
from ccaas.domain.routing_engine.synthetic import (
    SYNTHETIC_ATTRIBUTE,
    TEST_AGENT_ATTRIBUTE,
    TEST_AGENT_SKILL,
    is_synthetic,
    is_test_agent,
    synthetic_refusal,
)
from tests.fixtures.routing.builders import T0, agent, contact, queue, s

SYNTHETIC = {SYNTHETIC_ATTRIBUTE: "sales-call"}
REAL = agent("ana", {"billing": 5})
BOT = agent("bot", {"billing": 5, TEST_AGENT_SKILL: 1})
QUEUES = {"billing": queue("billing")}


def _lifecycle_events(c, a):
    """queued, connected, completed of one contact, and its agent's activity changes."""
    queued = c.model_copy(update={"state": ContactState.QUEUED, "version": 1})
    connected = queued.model_copy(update={"state": ContactState.CONNECTED, "agent_id": a.agent_id,
                                          "connected_at": s(5), "version": 2})
    done = connected.model_copy(update={"state": ContactState.COMPLETED, "acw_ended_at": s(65), "version": 3})
    busy = a.model_copy(update={"active": {Channel.VOICE: 1}, "active_contact_ids": (c.contact_id,), "version": 1})
    return [
        contact_event(EventType.CONTACT_QUEUED, queued, "e-queued-0001", s(0), sl_threshold_s=20),
        contact_event(EventType.CONTACT_CONNECTED, connected, "e-connected", s(5)),
        contact_event(EventType.CONTACT_COMPLETED, done, "e-completed", s(65)),
        agent_event(EventType.AGENT_ACTIVITY_CHANGED, busy, "e-agent-busy", s(5), previous_activity="AVAILABLE"),
        agent_event(EventType.AGENT_ACTIVITY_CHANGED, a, "e-agent-free", s(65), previous_activity="ON_CONTACT"),
    ]


def _records(events):
    return [SequencedEvent(event=e, shard_id="shardId-0", sequence=pad_sequence(str(1000 + i))) for i, e in enumerate(events)]


def test_marks_are_read_from_the_attribute_and_the_skill() -> None:
    assert is_synthetic(contact(attributes=SYNTHETIC)) and not is_synthetic(contact())
    assert is_test_agent(BOT) and not is_test_agent(REAL)


def test_events_carry_the_marks_and_live_metrics_ignore_them() -> None:
    synthetic = _lifecycle_events(contact("syn", attributes=SYNTHETIC), BOT)
    assert all(e.payload.get("synthetic") for e in synthetic[:3])
    assert all(e.payload.get("test_agent") for e in synthetic[3:])
    assert all(contributions(e) == [] for e in synthetic)
    real = _lifecycle_events(contact("real"), REAL)
    assert not any(e.payload.get("synthetic") or e.payload.get("test_agent") for e in real)
    # a batch of real and synthetic traffic adds exactly what the real traffic alone adds
    alone = fold_batch(_records(real), {})
    mixed = fold_batch(_records([*synthetic, *real]), {})
    assert [(u.queue_id, u.days, u.minutes, u.gauges) for u in mixed] == [(u.queue_id, u.days, u.minutes, u.gauges) for u in alone]
    assert fold_batch(_records(synthetic), {}) == []


def test_a_synthetic_contact_never_becomes_a_history_record() -> None:
    ended = contact("syn", attributes=SYNTHETIC).model_copy(update={
        "state": ContactState.COMPLETED, "connected_at": s(5), "acw_ended_at": s(65), "ended_at": s(65)})
    assert record_from_contact(ended) is None
    real = ended.model_copy(update={"attributes": {}})
    assert record_from_contact(real) is not None


def test_no_alert_from_synthetic_traffic() -> None:
    many = []
    for i in range(20):  # 20 synthetic contacts that waited 10 minutes and were abandoned
        c = contact(f"syn{i}", attributes=SYNTHETIC).model_copy(update={
            "state": ContactState.ABANDONED, "disconnected_at": s(600), "version": 2})
        many.append(contact_event(EventType.CONTACT_ABANDONED, c, f"e-abandoned-{i}", s(600), previous_state="QUEUED"))
    assert fold_batch(_records(many), {}) == []
    rules = AlertRules.model_validate({"service_level": {"enabled": True, "min_contacts": 1}})
    snapshot = QueueSnapshot(queue_id="billing", sl_target=0.8, in_queue=0, live_item={})
    assert queue_findings(rules, snapshot, s(601)) == []


# ----------------------------------------------------------------------------------------- routing
def test_a_synthetic_contact_goes_only_to_a_test_agent() -> None:
    syn = contact("syn", attributes=SYNTHETIC)
    d = select_agent(syn, QUEUES["billing"], RoutingPolicy(), [REAL, BOT], T0)
    assert d.winner == "bot" and d.skipped == {"synthetic": 1}
    d = select_agent(syn, QUEUES["billing"], RoutingPolicy(), [REAL], T0)
    assert d.winner is None and d.skipped == {"synthetic": 1}


def test_a_synthetic_contact_naming_a_test_agent_goes_only_to_that_one() -> None:
    other_bot = agent("bot-2", {"billing": 5, TEST_AGENT_SKILL: 1})
    syn = contact("syn", attributes={**SYNTHETIC, TEST_AGENT_ATTRIBUTE: "bot-2"})
    assert select_agent(syn, QUEUES["billing"], RoutingPolicy(), [BOT, REAL, other_bot], T0).winner == "bot-2"
    assert select_agent(syn, QUEUES["billing"], RoutingPolicy(), [BOT, REAL], T0).winner is None
    assert synthetic_refusal(BOT, syn) == "synthetic" and synthetic_refusal(other_bot, syn) is None


def test_marks_naming_a_real_agent_reach_no_one() -> None:
    """The marks are attributes any integration key may send: naming a real agent must not get real work
    served by them outside KPIs, history and SL (and expired after a day)."""
    syn = contact("syn", attributes={**SYNTHETIC, TEST_AGENT_ATTRIBUTE: "ana"})
    d = select_agent(syn, QUEUES["billing"], RoutingPolicy(), [BOT, REAL], T0)
    assert d.winner is None and d.skipped == {"synthetic": 2}
    assert synthetic_refusal(REAL, syn) == "synthetic"
    assert select_contact(REAL, {"billing": [syn]}, QUEUES, RoutingPolicy(), T0).winner is None


def test_a_real_contact_never_goes_to_a_test_agent() -> None:
    real = contact("real")
    d = select_agent(real, QUEUES["billing"], RoutingPolicy(), [BOT, REAL], T0)
    assert d.winner == "ana" and d.skipped == {"test_agent": 1}
    assert select_agent(real, QUEUES["billing"], RoutingPolicy(), [BOT], T0).winner is None


def test_a_freed_agent_takes_only_what_journey_tests_allow() -> None:
    syn, real = contact("syn", attributes=SYNTHETIC, enqueued_at=s(-60)), contact("real", enqueued_at=s(-1))
    waiting = {"billing": [syn, real]}
    d = select_contact(REAL, waiting, QUEUES, RoutingPolicy(), T0)
    assert d.winner == "real" and d.skipped == {"synthetic": 1}
    d = select_contact(BOT, waiting, QUEUES, RoutingPolicy(), T0)
    assert d.winner == "syn" and d.skipped == {"test_agent": 1}
