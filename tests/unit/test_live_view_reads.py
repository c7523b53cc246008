"""The live-metrics consumer's view after its write (ccaas.usecases.metrics.view_after_write) reads a queue's
oldest waiting contact when the written item's in-queue gauge counts one, and otherwise at least every
OLDEST_REREAD_MS: reading it after every write was 5.3 Queries per completed contact on the busy-day bench,
most of them of queues nobody waited in, and a gauge that counts fewer than wait (another shard's events not
applied yet, a lost event) must not hide a waiting customer from the oldest-wait alarm for longer."""
from __future__ import annotations

import pytest

from ccaas.bootstrap import memory_dependencies
from ccaas.domain.live_metrics import SequencedEvent, pad_sequence
from ccaas.domain.models import Agent, Channel, Queue, QueueAssignment
from ccaas.usecases import admin, agents, contacts, metrics
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.contacts import NewContact
from tests.alert_builders import JOURNEY

T = "t1"


@pytest.fixture
def deps():
    deps = memory_dependencies()
    admin.register_tenant(deps, tenant_id=T, name=T)
    for queue_id in ("sales", "support"):
        admin.put_queue(deps, Queue(tenant_id=T, queue_id=queue_id, name=queue_id, channels=frozenset({Channel.VOICE})))
    admin.put_agent(deps, Agent(tenant_id=T, agent_id="bob", name="bob", queues=(QueueAssignment(queue_id="support"),)))
    return deps


@pytest.fixture
def waiting_reads(deps, monkeypatch):
    """The queues whose waiting contacts were read, in order."""
    reads: list[str] = []
    read = deps.store.waiting_contacts

    def counted(tenant_id, queue_id, limit):
        reads.append(queue_id)
        return read(tenant_id, queue_id, limit)

    monkeypatch.setattr(deps.store, "waiting_contacts", counted)
    return reads


def _queue(deps, queue_id, attributes=None):
    c = contacts.create_contact(deps, T, NewContact(channel=Channel.VOICE, queue_id=queue_id, attributes=attributes or {}))
    contacts.queue_and_route(deps, T, c.contact_id, f"tok-{c.contact_id}")
    return c.contact_id


def _apply(deps, start=0):
    events = deps.events.events[start:]
    return metrics.apply_records(deps, "shard-0", [
        SequencedEvent(event=e, shard_id="shard-0", sequence=pad_sequence(str(start + i + 1))) for i, e in enumerate(events)])


def test_a_queue_nobody_waits_in_is_read_once_then_every_reread_interval(deps, waiting_reads):
    _queue(deps, "sales")
    deps.clock.advance(30)
    _queue(deps, "sales")
    agents.set_agent_status(deps, T, "bob", StatusChange(status="AVAILABLE"))  # support: agents, nobody waiting
    applied = {a.update.queue_id: a for a in _apply(deps)}
    assert set(applied) == {"sales", "support"}
    waiting_reads.clear()
    support = metrics.view_after_write(deps, applied["support"])  # the first view of the queue reads
    assert waiting_reads == ["support"] and (support.in_queue, support.oldest_wait_s, support.agents_available) == (0, None, 1)
    sales = metrics.view_after_write(deps, applied["sales"])
    assert waiting_reads == ["support", "sales"] and (sales.in_queue, sales.oldest_wait_s) == (2, 30)
    waiting_reads.clear()
    deps.clock.advance(metrics.OLDEST_REREAD_MS / 1000 - 1)
    assert metrics.view_after_write(deps, applied["support"]).oldest_wait_s is None
    assert metrics.view_after_write(deps, applied["sales"]).oldest_wait_s == 59
    assert waiting_reads == ["sales"]  # support's gauge counts nobody: not read within the interval
    deps.clock.advance(1)
    metrics.view_after_write(deps, applied["support"])
    assert waiting_reads == ["sales", "support"]


def test_a_customer_the_gauge_does_not_count_shows_within_the_reread_interval(deps, waiting_reads):
    """The gauge counts no one (the contact's queued event is on another shard, or its publish was lost) while a
    customer waits: the oldest wait shows at the latest when the interval has passed."""
    agents.set_agent_status(deps, T, "bob", StatusChange(status="AVAILABLE"))
    [support] = _apply(deps)
    metrics.view_after_write(deps, support)  # read: nobody waits
    _queue(deps, "support", attributes={"vip": "yes"})
    _queue(deps, "support")  # bob takes one, the other waits (its event not applied: the item is the old one)
    deps.clock.advance(10)
    assert metrics.view_after_write(deps, support).oldest_wait_s is None
    deps.clock.advance(metrics.OLDEST_REREAD_MS / 1000)
    assert metrics.view_after_write(deps, support).oldest_wait_s == 10 + metrics.OLDEST_REREAD_MS / 1000


def test_the_views_are_those_of_a_full_read_when_the_gauge_counts_the_waiting(deps, waiting_reads):
    first = _queue(deps, "sales")
    _queue(deps, "support", attributes=JOURNEY)  # a journey test's contact: in no gauge, and no oldest wait
    agents.set_agent_status(deps, T, "bob", StatusChange(status="AVAILABLE"))
    deps.clock.advance(12)
    views = _views_equal_to_full_reads(deps, _apply(deps), waiting_reads)
    start = len(deps.events.events)
    contacts.abandon_contact(deps, T, first, reason="customer left", from_workflow=False)  # sales empties
    views += _views_equal_to_full_reads(deps, _apply(deps, start), waiting_reads)
    assert [(v.queue_id, v.in_queue, v.oldest_wait_s) for v in views] == [
        ("sales", 1, 12), ("support", 0, None), ("sales", 0, None)]


def _views_equal_to_full_reads(deps, applied_batch, waiting_reads):
    views = []
    for applied in applied_batch:
        full = metrics.view_of(deps, T, applied.update.queue_id, applied.item)
        views.append(metrics.view_after_write(deps, applied))
        assert views[-1] == full
    return views
