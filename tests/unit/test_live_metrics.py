"""Live metrics fold: duplicates, redeliveries and reordering give the clean stream's numbers."""
from __future__ import annotations

import random

import pytest
from datetime import UTC, datetime

from ccaas.bootstrap import memory_dependencies
from ccaas.domain.tenants import Tenant
from ccaas.domain.live_metrics import SequencedEvent, contributions, day_slot, fold_batch, pad_sequence
from ccaas.usecases import agents, contacts, metrics
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.contacts import NewContact
from tests.unit.demo import TENANT, add_agent, demo_deps


def _traffic():
    """A small day: 6 voice contacts, 2 agents, one abandon, with clock steps."""
    deps = demo_deps()
    add_agent(deps, "ana")
    add_agent(deps, "bob")
    ids = []
    for i in range(6):
        c = contacts.create_contact(deps, TENANT, NewContact(channel="VOICE", queue_id="sales"))
        contacts.queue_and_route(deps, TENANT, c.contact_id, f"t{i}")
        ids.append(c.contact_id)
        deps.clock.advance(5)
    contacts.abandon_contact(deps, TENANT, ids[5], reason="CUSTOMER_LEFT", from_workflow=False)
    agents.set_agent_status(deps, TENANT, "ana", StatusChange(status="AVAILABLE"))  # waited 30 s: outside SL
    agents.set_agent_status(deps, TENANT, "bob", StatusChange(status="AVAILABLE"))
    for _ in range(2):
        for agent_id in ("ana", "bob"):
            offered = agents.get_agent(deps, TENANT, agent_id).offered_contact_ids
            for cid in offered:
                contacts.accept_contact(deps, TENANT, agent_id, cid)
                deps.clock.advance(10)
                contacts.complete_contact(deps, TENANT, agent_id, cid)
                contacts.end_after_contact_work(deps, TENANT, agent_id, cid)
    # bob is idle now: a new contact is answered with no wait.
    quick = contacts.create_contact(deps, TENANT, NewContact(channel="VOICE", queue_id="sales"))
    contacts.queue_and_route(deps, TENANT, quick.contact_id, "quick")
    contacts.accept_contact(deps, TENANT, "bob", quick.contact_id)
    return deps


def _records(events, shard="shardId-0"):
    return [SequencedEvent(event=e, shard_id=shard, sequence=pad_sequence(str(1000 + i))) for i, e in enumerate(events)]


def _apply(records, deps):
    for start in range(0, len(records), 7):
        batch = records[start : start + 7]
        fresh = [r for r in batch if metrics.is_first_delivery(deps, r)]
        metrics.apply_batch(deps, "shardId-0", fresh)


def test_clean_stream_counts_the_day():
    source = _traffic()
    deps = memory_dependencies(clock=source.clock, config=source.config, store=source.store)
    _apply(_records(source.events.events), deps)
    view = metrics.realtime_queue_metrics(deps, TENANT, "sales")
    # Arrivals every 5 s from t=0; agents free at t=30; accept + 10 s talk each.
    # Answer waits: c0 30 s, c1 35 s, c2 40 s, c3 45 s, quick 0 s; c5 abandoned after 5 s; c4 offered.
    assert (view.offered, view.answered, view.abandoned, view.completed) == (7, 5, 1, 4)
    assert view.in_queue == 1
    assert view.answered_within_sl == 1
    assert view.asa_s == (30 + 35 + 40 + 45 + 0) / 5
    assert view.service_level == 1 / (5 + 1 - 1)  # the 5 s abandon is within T and left out
    # c5's 5 s abandon is a short one (DOMAIN default excludes them from both sides): (1 - 1) / (7 - 1)
    assert view.abandonment_rate == 0.0
    assert view.aht_s == 10.0
    assert view.oldest_wait_s is None  # c4 is offered, not QUEUED, so no contact waits unoffered
    # ana's only contact is c4, ringing (offered, not accepted): reserved, not on a contact; bob is on `quick`
    assert (view.agents_staffed, view.agents_reserved, view.agents_on_contact, view.agents_available) == (2, 1, 1, 0)
    assert view.agents_staffed == (view.agents_available + view.agents_reserved + view.agents_on_contact
                                   + view.agents_acw + view.agents_not_ready)


def test_duplicates_redeliveries_and_reordering_change_nothing():
    source = _traffic()
    clean = memory_dependencies(clock=source.clock, config=source.config, store=source.store)
    records = _records(source.events.events)
    _apply(records, clean)

    messy = memory_dependencies(clock=source.clock, config=source.config, store=source.store)
    rng = random.Random(7)
    # The same event published twice (new stream record, same event id) ...
    republished = records + [
        SequencedEvent(event=r.event, shard_id=r.shard_id, sequence=pad_sequence(str(5000 + i)))
        for i, r in enumerate(rng.sample(records, 10))
    ]
    shuffled = sorted(republished, key=lambda r: r.sequence)
    # ... and whole batches delivered twice (a retried invocation).
    for start in range(0, len(shuffled), 7):
        batch = shuffled[start : start + 7]
        rng.shuffle(batch)  # order inside a batch does not matter for sums
        for _ in range(2):
            fresh = [r for r in batch if metrics.is_first_delivery(messy, r)]
            metrics.apply_batch(messy, "shardId-0", fresh)
    assert messy.live.items == clean.live.items


def test_one_write_per_queue_per_batch():
    source = _traffic()
    deps = memory_dependencies(clock=source.clock, config=source.config, store=source.store)
    applied = metrics.apply_batch(deps, "shardId-0", _records(source.events.events))
    assert len(applied) == 1 and deps.live.writes == 1
    assert applied[0].update.events == sum(1 for e in source.events.events if contributions(e))
    assert applied[0].update.events > 20


def test_watermark_skips_records_already_applied():
    source = _traffic()
    records = _records(source.events.events)
    watermark = records[9].sequence
    updates = fold_batch(records, {(TENANT, "sales"): watermark})
    applied = [r for r in records if r.sequence > watermark]
    assert updates[0].new_watermark == applied[-1].sequence
    assert updates[0].expected_watermark == watermark


def _event(kind, at_ms, queue="sales", channel="VOICE", tenant=TENANT, **payload):
    import uuid as _uuid

    from ccaas.domain.events import Event

    base = {"queue_id": queue, "channel": channel, "sl_threshold_s": 20, **payload}
    return Event(event_id=_uuid.uuid4().hex, tenant_id=tenant, type=kind, subject="contact/x", sequence=1,
                 occurred_at=datetime.fromtimestamp(at_ms / 1000, tz=UTC), payload=base)


_next_sequence = iter(range(10_000, 10**9))


def _feed(deps, events):
    records = [SequencedEvent(event=e, shard_id="shardId-0", sequence=pad_sequence(str(next(_next_sequence)))) for e in events]
    for start in range(0, len(records), 3):
        metrics.apply_batch(deps, "shardId-0", records[start : start + 3])


def test_today_follows_the_tenant_time_zone_and_the_day_slot_is_reset_at_local_midnight():
    deps = demo_deps()
    deps.config.put_tenant(Tenant(tenant_id=TENANT, name="Demo", time_zone="America/New_York"))
    before_midnight = int(datetime(2026, 11, 26, 4, 59, tzinfo=UTC).timestamp() * 1000)  # 23:59 in New York
    after_midnight = before_midnight + 2 * 60_000
    _feed(deps, [_event("contact.queued", before_midnight), _event("contact.queued", before_midnight),
                 _event("contact.queued", after_midnight)])
    deps.clock.now = before_midnight + 30_000
    late_evening = metrics.realtime_queue_metrics(deps, TENANT, "sales")
    assert (late_evening.day, late_evening.offered) == ("20261125", 2)
    deps.clock.now = after_midnight + 30_000
    new_day = metrics.realtime_queue_metrics(deps, TENANT, "sales")
    assert (new_day.day, new_day.offered, new_day.in_queue) == ("20261126", 1, 3)  # gauges do not reset
    # Two days later the same day slot is reused: the first write resets it, nothing stale survives.
    two_days_on = after_midnight + 2 * 86_400_000
    _feed(deps, [_event("contact.connected", two_days_on, enqueued_at=two_days_on - 5_000, connected_at=two_days_on)])
    deps.clock.now = two_days_on
    view = metrics.realtime_queue_metrics(deps, TENANT, "sales")
    assert (view.offered, view.answered, view.answered_within_sl, view.in_queue) == (0, 1, 1, 2)


def test_sliding_fifteen_minutes_counts_only_recent_minutes():
    deps = demo_deps()
    start = 1_764_000_000_000 - 1_764_000_000_000 % 60_000
    events = []
    for minute in range(0, 30, 2):  # a contact answered every 2 minutes, waits of 10 s then 30 s alternating
        at = start + minute * 60_000
        wait = 10_000 if minute % 4 == 0 else 30_000
        events.append(_event("contact.connected", at, enqueued_at=at - wait, connected_at=at))
    _feed(deps, events)
    deps.clock.now = start + 29 * 60_000 + 1
    window = metrics.realtime_queue_metrics(deps, TENANT, "sales").last_15_minutes
    # minutes 16..28 are inside (15..29 window): 16,18,...,28 = 7 answers; within SL at minutes 16,20,24,28
    assert (window.answered, window.service_level) == (7, 4 / 7)
    assert window.asa_s == (4 * 10 + 3 * 30) / 7


def test_per_channel_split_and_estimated_wait():
    deps = demo_deps()
    now = deps.clock.now_ms()
    _feed(deps, [
        _event("contact.queued", now, channel="VOICE"),
        _event("contact.queued", now, channel="CHAT"),
        _event("contact.queued", now, channel="CHAT"),
        _event("contact.completed", now, channel="CHAT", connected_at=now - 100_000, acw_ended_at=now),
        _event("agent.status_changed", now, queue_ids=["sales"], previous_activity="OFFLINE", activity="ON_CONTACT"),
    ])
    view = metrics.realtime_queue_metrics(deps, TENANT, "sales")
    assert {c.channel: (c.offered, c.in_queue) for c in view.by_channel} == {"CHAT": (2, 2), "VOICE": (1, 1)}
    assert view.aht_s == 100.0 and view.agents_staffed == 1
    assert view.estimated_wait_s == (3 + 1) * 100.0 / 1


def test_a_late_event_for_a_period_the_slot_no_longer_holds_is_dropped_not_mixed_in():
    from ccaas.domain.live_metrics import plan_write

    update = fold_batch(_records([_event("contact.queued", 1_764_000_000_000)]), {})[0]
    newer_minute = 1_764_000_000_000 // 60_000 + 16  # same slot, newer minute
    item = {f"m{newer_minute % 16}_at": newer_minute, f"m{newer_minute % 16}_offered": 4}
    plan = plan_write(update, item)
    assert not any(k.startswith(f"m{newer_minute % 16}_") for k in (*plan.sets, *plan.adds))


def test_an_agent_whose_only_contact_is_ringing_is_reserved_not_on_contact():
    """Amazon Connect shows an agent with an incoming (reserved, not accepted) contact as Incoming, not on
    contact: here RESERVED, with its own live gauge, and agents by activity still add up to staffed."""
    from ccaas.domain.events import AgentActivity, agent_activity

    deps = demo_deps()
    add_agent(deps, "ana", capacity={"VOICE": 1, "CHAT": 2})
    agents.set_agent_status(deps, TENANT, "ana", StatusChange(status="AVAILABLE"))
    first = contacts.create_contact(deps, TENANT, NewContact(channel="CHAT", queue_id="sales"))
    contacts.queue_and_route(deps, TENANT, first.contact_id, "t1")
    ana = agents.get_agent(deps, TENANT, "ana")
    assert ana.offered_contact_ids == (first.contact_id,) and agent_activity(ana) == AgentActivity.RESERVED
    contacts.accept_contact(deps, TENANT, "ana", first.contact_id)
    assert agent_activity(agents.get_agent(deps, TENANT, "ana")) == AgentActivity.ON_CONTACT
    second = contacts.create_contact(deps, TENANT, NewContact(channel="CHAT", queue_id="sales"))
    contacts.queue_and_route(deps, TENANT, second.contact_id, "t2")  # a second chat rings while on the first
    assert agent_activity(agents.get_agent(deps, TENANT, "ana")) == AgentActivity.ON_CONTACT
    contacts.complete_contact(deps, TENANT, "ana", first.contact_id)  # the first in ACW, the second still ringing
    assert agent_activity(agents.get_agent(deps, TENANT, "ana")) == AgentActivity.ACW
    contacts.end_after_contact_work(deps, TENANT, "ana", first.contact_id)
    assert agent_activity(agents.get_agent(deps, TENANT, "ana")) == AgentActivity.RESERVED

    # the stream: AVAILABLE -> RESERVED -> ON_CONTACT -> ACW -> RESERVED, each a gauge move
    changes = [(e.payload.get("previous_activity"), e.payload["activity"]) for e in deps.events.events
               if e.type in ("agent.status_changed", "agent.activity_changed")]
    assert [c for c in changes if c[0] != c[1]] == [("OFFLINE", "AVAILABLE"), ("AVAILABLE", "RESERVED"),
                                                    ("RESERVED", "ON_CONTACT"), ("ON_CONTACT", "ACW"), ("ACW", "RESERVED")]
    assert ("ON_CONTACT", "ON_CONTACT") in changes  # the second chat ringing: slots held 1 -> 2, no gauge move
    live = memory_dependencies(clock=deps.clock, config=deps.config, store=deps.store)
    _apply(_records(deps.events.events), live)
    view = metrics.realtime_queue_metrics(live, TENANT, "sales")
    assert (view.agents_staffed, view.agents_reserved, view.agents_on_contact, view.agents_available) == (1, 1, 0, 0)
    ringing = _event("agent.activity_changed", 0, queue_ids=["sales"], previous_activity="AVAILABLE", activity="RESERVED")
    (part,) = contributions(ringing)
    assert dict(part.gauges) == {"agents_available": -1, "agents_reserved": 1, "agents_staffed": 0}


# --- transfers (DOMAIN "Moving work between people"): queue counters per segment --------------------
def _transfer_setup(*agent_ids):
    from tests.unit.test_transfers import _setup

    return _setup(*agent_ids)


def _live_view(source, queue_id):
    live = memory_dependencies(clock=source.clock, config=source.config, store=source.store)
    _apply(_records(source.events.events), live)
    return metrics.realtime_queue_metrics(live, TENANT, queue_id)


def test_transfers_count_out_of_the_senders_queue_and_into_the_next_segments_queue():
    """sales -> billing (blind, to the queue) -> cy (named agent: the segment stays in billing and is
    offered to her at once, never waiting: its connect adds no answer, no wait, no in_queue move)."""
    from ccaas.usecases import transfers
    from ccaas.usecases.transfers import Destination, TransferRequest
    from tests.unit.test_transfers import _route

    deps, cid = _transfer_setup("bob", "cy")
    deps.clock.advance(20)
    second = transfers.transfer(deps, TENANT, "ana", cid, TransferRequest(to=Destination(queue_id="billing")))
    contacts.end_after_contact_work(deps, TENANT, "ana", cid)
    routed = _route(deps, second.contact_id)
    assert routed.agent_id == "bob"
    deps.clock.advance(3)
    contacts.accept_contact(deps, TENANT, "bob", second.contact_id)
    third = transfers.transfer(deps, TENANT, "bob", second.contact_id, TransferRequest(to=Destination(agent_id="cy")))
    assert third.enqueued_at is None and third.queue_id == "billing"
    _route(deps, third.contact_id, "tok-third")
    deps.clock.advance(2)
    contacts.accept_contact(deps, TENANT, "cy", third.contact_id)
    connected = [e for e in deps.events.events if e.type == "contact.connected"]
    assert connected[-1].payload["enqueued_at"] is None  # the case that must not crash the fold

    sales, billing = _live_view(deps, "sales"), _live_view(deps, "billing")
    assert (sales.offered, sales.answered, sales.completed, sales.in_queue) == (1, 1, 1, 0)
    assert (sales.transferred_out, sales.transferred_in) == (1, 0)
    # billing: the second segment waited 3 s there and was answered; the third was never queued.
    assert (billing.offered, billing.answered, billing.in_queue, billing.asa_s) == (1, 1, 0, 3.0)
    assert (billing.transferred_out, billing.transferred_in) == (1, 2)
    assert (billing.last_15_minutes.transferred_out, billing.last_15_minutes.transferred_in) == (1, 2)
    assert (sales.last_15_minutes.transferred_out, sales.last_15_minutes.transferred_in) == (1, 0)


def test_transfer_contributions_by_target_kind():
    from ccaas.domain.events import EventType

    to_queue = _event(EventType.CONTACT_TRANSFERRED, 0, mode="BLIND", to_kind="QUEUE", to_queue_id="billing",
                      to_agent_id=None, next_contact_id="n1")
    assert [(c.queue_id, dict(c.counters)) for c in contributions(to_queue)] == [
        ("sales", {"transferred_out": 1}), ("billing", {"transferred_in": 1})]
    to_agent = _event(EventType.CONTACT_TRANSFERRED, 0, mode="ESCALATION", to_kind="AGENT", to_queue_id="sales",
                      to_agent_id="sue", next_contact_id="n2")
    assert [(c.queue_id, dict(c.counters)) for c in contributions(to_agent)] == [
        ("sales", {"transferred_out": 1, "transferred_in": 1})]  # one contribution: one item write, one event
    external = _event(EventType.CONTACT_TRANSFERRED, 0, mode="BLIND", to_kind="EXTERNAL", to_queue_id=None,
                      to_agent_id=None, next_contact_id=None)
    assert [(c.queue_id, dict(c.counters)) for c in contributions(external)] == [("sales", {"transferred_out": 1})]
    assert all(not c.gauges for e in (to_queue, to_agent, external) for c in contributions(e))

    deps = demo_deps()
    now = deps.clock.now_ms()
    _feed(deps, [_event(EventType.CONTACT_TRANSFERRED, now, to_kind="QUEUE", to_queue_id="spanish", channel="CHAT"),
                 _event(EventType.CONTACT_TRANSFERRED, now, to_kind="EXTERNAL", to_queue_id=None),
                 _event(EventType.CONTACT_TRANSFERRED, now - 20 * 60_000, to_kind="QUEUE", to_queue_id="spanish")])
    sales, spanish = (metrics.realtime_queue_metrics(deps, TENANT, q) for q in ("sales", "spanish"))
    assert (sales.transferred_out, sales.last_15_minutes.transferred_out) == (3, 2)
    assert (spanish.transferred_in, spanish.last_15_minutes.transferred_in, spanish.transferred_out) == (2, 1, 0)
    assert deps.live.items[(TENANT, "sales")][f"d{day_slot(sales.day)}_transferred_out#CHAT"] == 1  # split by channel


def test_a_segment_offered_straight_to_an_agent_adds_no_queue_figures_and_does_not_crash():
    from ccaas.domain.events import EventType

    deps = demo_deps()
    now = deps.clock.now_ms()
    direct = dict(initiation_method="TRANSFER", enqueued_at=None)
    answered = _event(EventType.CONTACT_CONNECTED, now, connected_at=now, **direct)
    gone = _event(EventType.CONTACT_ABANDONED, now, disconnected_at=now, previous_state="OFFERED", reason="CUSTOMER_LEFT",
                  **direct)
    assert contributions(answered) == [] and contributions(gone) == []
    _feed(deps, [_event(EventType.CONTACT_QUEUED, now), answered, gone])
    view = metrics.realtime_queue_metrics(deps, TENANT, "sales")
    assert (view.offered, view.answered, view.abandoned, view.in_queue, view.asa_s) == (1, 0, 0, 1, None)


def test_a_withdrawn_consult_leg_leaves_the_queue_is_not_an_abandon_and_its_offer_is_taken_back():
    from ccaas.usecases import transfers
    from ccaas.usecases.transfers import ConsultDestination, ConsultRequest
    from tests.unit.test_transfers import _route

    deps, cid = _transfer_setup("bob")
    agents.set_agent_status(deps, TENANT, "bob", StatusChange(status="BREAK"))  # nobody free in supervisors
    leg = transfers.consult(deps, TENANT, "ana", cid, ConsultRequest(to=ConsultDestination(queue_id="supervisors")))
    assert _route(deps, leg.contact_id, "tok-leg").state == "QUEUED"
    deps.clock.advance(30)
    transfers.cancel_consult(deps, TENANT, "ana", cid)
    # A consult to a named agent, withdrawn while ringing: never queued anywhere.
    agents.set_agent_status(deps, TENANT, "bob", StatusChange(status="AVAILABLE"))
    direct = transfers.consult(deps, TENANT, "ana", cid, ConsultRequest(to=ConsultDestination(agent_id="bob")))
    _route(deps, direct.contact_id, "tok-direct")
    transfers.cancel_consult(deps, TENANT, "ana", cid)
    transfers.hold(deps, TENANT, "ana", cid)
    transfers.resume(deps, TENANT, "ana", cid)
    withdrawn = [e.payload for e in deps.events.events if e.type == "contact.abandoned"]
    assert [(p["queue_id"], p["previous_state"], p["reason"]) for p in withdrawn] == [
        ("supervisors", "QUEUED", "CONSULT_CANCELLED"), ("sales", "OFFERED", "CONSULT_CANCELLED")]
    supervisors, sales = _live_view(deps, "supervisors"), _live_view(deps, "sales")
    # Its queuing was taken back when it was withdrawn: a consult leg is not a customer contact (history's consult_leg).
    assert (supervisors.offered, supervisors.abandoned, supervisors.in_queue, supervisors.abandonment_rate) == (0, 0, 0, None)
    assert (sales.offered, sales.answered, sales.abandoned, sales.in_queue) == (1, 1, 0, 0)
    assert (sales.transferred_out, supervisors.transferred_in) == (0, 0)  # a cancelled consult transfers nothing


def test_hold_consult_and_conference_events_add_nothing():
    from ccaas.domain.events import EventType

    for kind in (EventType.CONTACT_HELD, EventType.CONTACT_RESUMED, EventType.CONTACT_CONSULT_STARTED,
                 EventType.CONTACT_CONSULT_CANCELLED, EventType.CONTACT_CONFERENCE_JOINED, EventType.CONTACT_CONFERENCE_LEFT):
        assert contributions(_event(kind, 0, hold_count=1, hold_ms=0, enqueued_at=None, initiation_method="TRANSFER")) == []


def test_a_direct_segment_that_enters_the_queue_after_a_failed_offer_counts_when_the_event_says_so():
    """lifecycle.decline queues a segment that was offered straight to a named agent: from then on it
    waits like any contact, so its connect or abandon moves `in_queue` and its answer counts. The
    contact.offer_declined payload flags `entered_queue` for that case."""
    from ccaas.domain.events import EventType

    deps = demo_deps()
    now = deps.clock.now_ms()
    _feed(deps, [
        _event(EventType.CONTACT_OFFER_DECLINED, now, enqueued_at=now, entered_queue=True, initiation_method="TRANSFER"),
        _event(EventType.CONTACT_OFFER_DECLINED, now, enqueued_at=now - 9_000, initiation_method="API"),  # queued before
        _event(EventType.CONTACT_CONNECTED, now + 8_000, enqueued_at=now, connected_at=now + 8_000, initiation_method="TRANSFER"),
    ])
    deps.clock.now = now + 8_000
    view = metrics.realtime_queue_metrics(deps, TENANT, "sales")
    assert (view.offered, view.answered, view.in_queue, view.asa_s) == (1, 1, 0, 8.0)


def test_a_rejected_transfer_to_a_named_agent_keeps_the_gauges_consistent():
    from ccaas.usecases import transfers
    from ccaas.usecases.transfers import Destination, TransferRequest
    from tests.unit.test_transfers import _route

    deps, cid = _transfer_setup("bob", "cy")
    segment = transfers.transfer(deps, TENANT, "ana", cid, TransferRequest(to=Destination(agent_id="bob")))
    _route(deps, segment.contact_id)
    deps.clock.advance(4)
    back = contacts.reject_contact(deps, TENANT, "bob", segment.contact_id)
    contacts.accept_contact(deps, TENANT, back.agent_id, segment.contact_id)
    live = memory_dependencies(clock=deps.clock, config=deps.config, store=deps.store)
    _apply(_records(deps.events.events), live)
    view = metrics.realtime_queue_metrics(live, TENANT, "sales")
    assert live.live.items[(TENANT, "sales")].get("g_in_queue", 0) == 0
    assert (view.offered, view.answered, view.transferred_out, view.transferred_in) == (2, 2, 1, 1)


def test_no_gauge_counts_offline_agents_so_none_goes_negative():
    """Agents start OFFLINE without an event, so an OFFLINE gauge fed by events would start below zero at
    the first log-in; offline agents are the roster minus staffed, not a stream gauge."""
    logs_in = _event("agent.status_changed", 0, queue_ids=["sales"], previous_activity="OFFLINE", activity="AVAILABLE")
    logs_out = _event("agent.status_changed", 1, queue_ids=["sales"], previous_activity="NOT_READY", activity="OFFLINE")
    assert dict(contributions(logs_in)[0].gauges) == {"agents_available": 1, "agents_staffed": 1}
    assert dict(contributions(logs_out)[0].gauges) == {"agents_not_ready": -1, "agents_staffed": -1}


class _Racing:
    """A live metrics store whose next `races` writes each find another shard's consumer got there first:
    `rival()` runs just before the write is sent (two shards' invocations writing one queue item at once)."""

    def __init__(self, live, rival, races: int = 1) -> None:
        self._live, self._rival, self.races, self.writes = live, rival, races, 0

    def write(self, tenant_id, queue_id, plan):
        self.writes += 1
        if self.races:
            self.races -= 1
            self._rival()
        return self._live.write(tenant_id, queue_id, plan)

    def __getattr__(self, name):
        return getattr(self._live, name)


def _two_shards():
    """The small day's events split over two shards, and one clean run of both, one shard after the other."""
    source = _traffic()
    events = source.events.events
    shard_a, shard_b = _records(events[0::2], "shardId-a"), _records(events[1::2], "shardId-b")
    clean = memory_dependencies(clock=source.clock, config=source.config, store=source.store)
    metrics.apply_batch(clean, "shardId-a", shard_a)
    metrics.apply_batch(clean, "shardId-b", shard_b)
    return source, shard_a, shard_b, clean


@pytest.mark.parametrize("races", [1, 2])
def test_a_first_write_that_loses_to_another_shard_is_read_again_and_lands(races):
    """Two shards' first batches for a queue nobody has written yet, at once (a fresh deployment or runtime):
    the loser reads the item again and writes on it, instead of failing its whole batch (a Lambda error, the
    batch re-delivered); the counts are the clean run's."""
    source, shard_a, shard_b, clean = _two_shards()
    shared = memory_dependencies(clock=source.clock, config=source.config, store=source.store)
    rivals = iter([lambda: metrics.apply_batch(shared, "shardId-b", shard_b[:10]),
                   lambda: metrics.apply_batch(shared, "shardId-b", shard_b[10:])])
    racing = _Racing(shared.live, lambda: next(rivals)(), races=races)
    loser = memory_dependencies(clock=source.clock, config=source.config, store=source.store, live=racing)
    (applied,) = metrics.apply_batch(loser, "shardId-a", shard_a)
    assert racing.writes == races + 1  # each lost write read the item again and wrote once more
    if races == 1:
        metrics.apply_batch(shared, "shardId-b", shard_b[10:])
    assert shared.live.items == clean.live.items


def test_a_write_that_keeps_losing_fails_its_batch_after_a_few_tries():
    """Bounded: after WRITE_ATTEMPTS lost writes the batch fails (the stream delivers it again; the shard
    watermark keeps any queue it did write from counting twice)."""
    source, shard_a, _, _ = _two_shards()
    deps = memory_dependencies(clock=source.clock, config=source.config, store=source.store)

    def always_beaten():
        raise metrics.Conflict("live metrics item demo/sales changed (d0_at)")

    racing = _Racing(deps.live, always_beaten, races=10**6)
    loser = memory_dependencies(clock=source.clock, config=source.config, store=source.store, live=racing)
    with pytest.raises(metrics.Conflict):
        metrics.apply_batch(loser, "shardId-a", shard_a)
    assert racing.writes == metrics.WRITE_ATTEMPTS and deps.live.items == {}


@pytest.mark.parametrize("kind, fields, field", [
    ("contact.queued", {"queue": 5}, "queue_id"),
    ("contact.queued", {"channel": ["VOICE"]}, "channel"),
    ("contact.connected", {"enqueued_at": 1, "connected_at": "soon"}, "connected_at"),
    ("contact.connected", {"enqueued_at": True, "connected_at": 2}, "enqueued_at"),
    ("contact.connected", {"enqueued_at": 1, "connected_at": 10**40}, "connected_at"),
    ("contact.connected", {"enqueued_at": 1, "connected_at": 2, "sl_threshold_s": "20"}, "sl_threshold_s"),
    ("contact.abandoned", {"previous_state": "QUEUED", "enqueued_at": 1, "disconnected_at": -5}, "disconnected_at"),
    ("contact.transferred", {"to_queue_id": 7}, "to_queue_id"),
    ("contact.completed", {"acw_ended_at": {"ms": 1}}, "acw_ended_at"),
    ("agent.status_changed", {"queue_ids": "sales", "previous_activity": "OFFLINE", "activity": "AVAILABLE"}, "queue_ids"),
    ("agent.status_changed", {"queue_ids": [1], "previous_activity": "OFFLINE", "activity": "AVAILABLE"}, "queue_ids"),
])
def test_a_payload_field_the_fold_reads_with_the_wrong_type_is_a_malformed_event_naming_it(kind, fields, field):
    """Found in the batch's fold, such a field failed every record of the batch; per record it is one poison record."""
    from ccaas.domain.events import MalformedEvent

    queue = fields.pop("queue", "sales")
    with pytest.raises(MalformedEvent) as raised:
        contributions(_event(kind, 1_764_000_000_000, queue=queue, **fields))
    assert raised.value.reason.startswith(f"payload.{field} must be")


def test_an_event_from_further_ahead_than_a_clock_drifts_is_refused_as_it_would_empty_today():
    """Applied, an event dated in a far future day that shares today's day slot moves the slot there: today's
    counts are wiped and every later event of today is dropped as older than the slot."""
    from ccaas.domain.events import MAX_AHEAD_MS, MalformedEvent, check_time
    from ccaas.domain.live_metrics import plan_write

    now = 1_764_000_000_000
    future = int(datetime(9999, 12, 29, tzinfo=UTC).timestamp() * 1000)
    assert day_slot(datetime.fromtimestamp(now / 1000, tz=UTC).strftime("%Y%m%d")) == day_slot("99991229")
    item = {}
    for at in (now, future, now):  # what the fold and the write would do without the check
        plan = plan_write(fold_batch(_records([_event("contact.queued", at)]), {})[0], item)
        item.update(plan.sets)
        for name in plan.removes:
            item.pop(name, None)
        for name, delta in plan.adds.items():
            item[name] = item.get(name, 0) + delta
    slot = f"d{day_slot('99991229')}"
    assert item[f"{slot}_at"] == "99991229" and item[f"{slot}_offered"] == 1  # today's two queued: gone
    with pytest.raises(MalformedEvent):
        check_time(_event("contact.queued", future), now)
    check_time(_event("contact.queued", now + MAX_AHEAD_MS), now)  # a producer's clock a little ahead: applied
