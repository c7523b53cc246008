"""Slot occupancy (DOMAIN.md "Occupancy": busy slot-seconds ÷ available slot-seconds) for the platform's own agents:
each activity span carries the contact slots its agent held and could hold (Agent.slots), and a chat agent taking a
second chat cuts its span. Before, spans carried none and slot occupancy came out equal to occupancy (outside review)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ccaas.domain.events import EventType
from ccaas.domain.history import OpenActivity
from ccaas.domain.kpis import ActivityKind
from ccaas.domain.models import Agent, Channel
from ccaas.usecases import agents, contacts, history
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.contacts import NewContact
from tests.unit.demo import TENANT, add_agent, demo_deps


def _agent(**kw) -> Agent:
    return Agent(tenant_id="t", agent_id="a", name="A", **kw)


def test_an_agents_slots_are_what_it_holds_of_the_most_it_takes_on_one_channel():
    assert _agent(capacity={Channel.CHAT: 3}).slots() == (0, 3)
    assert _agent(capacity={Channel.CHAT: 3}, active={Channel.CHAT: 2}).slots() == (2, 3)
    assert _agent(capacity={Channel.VOICE: 1, Channel.CHAT: 3}, active={Channel.VOICE: 1}).slots() == (3, 3)  # a call fills them
    assert _agent(capacity={Channel.VOICE: 1, Channel.CHAT: 3}, voice_blocks_other_channels=False,
                  active={Channel.VOICE: 1, Channel.CHAT: 3}).slots() == (3, 3)
    assert _agent(capacity={}).slots() == (0, 0)


def test_only_kinds_with_slots_take_an_events_counts_and_only_whole_numbers_in_range():
    payload = {"slots_busy": 1, "slots_available": 3}
    assert OpenActivity.of_event("a", ActivityKind.ON_CONTACT, 0, 1, payload).slots_available == 3
    assert OpenActivity.of_event("a", ActivityKind.NOT_READY, 0, 1, payload).slots_available is None  # no slots
    for bad in ({}, {"slots_busy": 1}, {"slots_busy": True, "slots_available": 3}, {"slots_busy": 1, "slots_available": 10**6},
                {"slots_busy": "1", "slots_available": 3}):
        assert OpenActivity.of_event("a", ActivityKind.ON_CONTACT, 0, 1, bad).slots_busy is None  # the defaults


def _record_activity(deps) -> None:
    for event in deps.events.events:
        if event.type in (EventType.AGENT_STATUS_CHANGED, EventType.AGENT_ACTIVITY_CHANGED):
            history.record_agent_activity(deps, event)


def _day(deps, t0: int):
    report = history.historical_metrics(deps, TENANT, start=datetime.fromtimestamp((t0 - 3_600_000) / 1000, UTC),
                                        end=datetime.fromtimestamp((t0 + 3 * 3_600_000) / 1000, UTC), interval="day")
    (row,) = report.rows
    return row


def _chat(deps, token: str):
    created = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.CHAT, queue_id="sales"))
    return contacts.queue_and_route(deps, TENANT, created.contact_id, token)


def _ana_with_three_chat_slots():
    """ana, 3 chat slots, available from t0: (deps, t0)."""
    deps = demo_deps()
    t0 = deps.clock.now_ms()
    add_agent(deps, "ana", capacity={Channel.CHAT: 3})
    agents.set_agent_status(deps, TENANT, "ana", StatusChange(status="AVAILABLE"))
    return deps, t0


def _log_off_and_record(deps) -> None:
    agents.set_agent_status(deps, TENANT, "ana", StatusChange(status="OFFLINE"))
    _record_activity(deps)


def test_one_chat_of_three_slots_is_a_third_of_the_slots_busy():
    """The reviewer's day: ana (3 chat slots) handles one chat 10 min + 1 min ACW, then is idle 9 min."""
    deps, t0 = _ana_with_three_chat_slots()
    chat = _chat(deps, "t1")
    contacts.accept_contact(deps, TENANT, "ana", chat.contact_id)
    deps.clock.advance(600)
    contacts.complete_contact(deps, TENANT, "ana", chat.contact_id)
    deps.clock.advance(60)
    contacts.end_after_contact_work(deps, TENANT, "ana", chat.contact_id)
    deps.clock.advance(540)
    _log_off_and_record(deps)
    row = _day(deps, t0)
    assert row.occupancy == pytest.approx(660 / 1200)
    assert row.slot_occupancy == pytest.approx(660 * 1 / (1200 * 3))


def test_a_second_chat_cuts_the_span_where_the_slots_held_changed():
    deps, t0 = _ana_with_three_chat_slots()
    first = _chat(deps, "t1")
    contacts.accept_contact(deps, TENANT, "ana", first.contact_id)
    deps.clock.advance(300)
    second = _chat(deps, "t2")
    contacts.accept_contact(deps, TENANT, "ana", second.contact_id)
    deps.clock.advance(300)
    for chat in (first, second):
        contacts.complete_contact(deps, TENANT, "ana", chat.contact_id)
        contacts.end_after_contact_work(deps, TENANT, "ana", chat.contact_id)
    _log_off_and_record(deps)
    busy = [(s.end_ms - s.start_ms, s.slots_busy) for s in history.activity_spans(deps, TENANT, t0, t0 + 3_600_000)
            if s.kind is ActivityKind.ON_CONTACT and s.end_ms > s.start_ms]
    assert [n for _, n in busy if _ >= 300_000] == [1, 2]  # 5 min with one chat, 5 min with two
    row = _day(deps, t0)
    assert row.slot_occupancy == pytest.approx((300 * 1 + 300 * 2) / (600 * 3), rel=1e-3)
