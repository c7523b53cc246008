"""Live metrics fold: duplicates, redeliveries and reordering give the clean stream's numbers."""
from __future__ import annotations

import random

from ccaas.bootstrap import memory_dependencies
from ccaas.domain.live_metrics import SequencedEvent, contributions, day_of, fold_batch, pad_sequence
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
    assert (view.agents_staffed, view.agents_on_contact, view.agents_available) == (2, 2, 0)


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
    updates = metrics.apply_batch(deps, "shardId-0", _records(source.events.events))
    assert len(updates) == 1 and deps.live.writes == 1
    assert updates[0].events == sum(1 for e in source.events.events if contributions(e))
    assert updates[0].events > 20


def test_watermark_skips_records_already_applied():
    source = _traffic()
    records = _records(source.events.events)
    watermark = records[9].sequence
    updates = fold_batch(records, {(TENANT, "sales"): watermark})
    applied = [r for r in records if r.sequence > watermark]
    assert updates[0].new_watermark == applied[-1].sequence
    assert updates[0].expected_watermark == watermark
    assert day_of(0) == "19700101"
