"""Live metrics fold: duplicates, redeliveries and reordering give the clean stream's numbers."""
from __future__ import annotations

import random
from datetime import UTC, datetime

from ccaas.bootstrap import memory_dependencies
from ccaas.domain.tenants import Tenant
from ccaas.domain.live_metrics import SequencedEvent, contributions, fold_batch, pad_sequence
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
    assert view.abandonment_rate == 1 / 7
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
    assert changes == [("OFFLINE", "AVAILABLE"), ("AVAILABLE", "RESERVED"), ("RESERVED", "ON_CONTACT"),
                       ("ON_CONTACT", "ACW"), ("ACW", "RESERVED")]
    live = memory_dependencies(clock=deps.clock, config=deps.config, store=deps.store)
    _apply(_records(deps.events.events), live)
    view = metrics.realtime_queue_metrics(live, TENANT, "sales")
    assert (view.agents_staffed, view.agents_reserved, view.agents_on_contact, view.agents_available) == (1, 1, 0, 0)
    ringing = _event("agent.activity_changed", 0, queue_ids=["sales"], previous_activity="AVAILABLE", activity="RESERVED")
    (part,) = contributions(ringing)
    assert dict(part.gauges) == {"agents_available": -1, "agents_reserved": 1, "agents_staffed": 0}
