"""One suite, two implementations: every port behaves the same in memory and on (moto) AWS."""
from __future__ import annotations

import threading
import uuid

import boto3
import pytest

from ccaas.domain.events import Event
from ccaas.domain.live_metrics import WritePlan
from ccaas.domain.models import Agent, Channel, Conflict, Contact, ContactState, NotFound, Queue, QueueAssignment
from ccaas.domain.tenants import Tenant
from ccaas.usecases import agents, contacts
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.contacts import NewContact
from tests.aws_stack import function_environment, moto_dependencies

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]


@pytest.fixture
def tenant(deps):
    tenant_id = f"t{uuid.uuid4().hex[:10]}"
    deps.config.put_tenant(Tenant(tenant_id=tenant_id, name="Contract"))
    deps.config.put_queue(Queue(tenant_id=tenant_id, queue_id="q1", name="Q1"))
    return tenant_id


def _contact(tenant, n, **kw):
    kw.setdefault("queue_id", "q1")
    return Contact(tenant_id=tenant, contact_id=f"c{n}", channel=Channel.CHAT, initiated_at=1000 + n, **kw)


def _agent(tenant, agent_id, **kw):
    return Agent(tenant_id=tenant, agent_id=agent_id, name=agent_id, queues=(QueueAssignment(queue_id="q1"),), **kw)


def test_saved_entities_read_back_equal(deps, tenant):
    contact = _contact(tenant, 1, attributes={"lang": "es"}, customer_id="cust-9")
    agent = _agent(tenant, "ana", skills={"billing": 4}, capacity={Channel.CHAT: 3, Channel.VOICE: 1})
    deps.store.save(contacts=[contact], agents=[agent])
    assert deps.store.get_contact(tenant, "c1") == contact
    assert deps.store.get_agent(tenant, "ana") == agent
    with pytest.raises(NotFound):
        deps.store.get_contact(tenant, "nope")


def test_save_is_optimistic_and_all_or_nothing(deps, tenant):
    contact, agent = _contact(tenant, 1), _agent(tenant, "ana")
    deps.store.save(contacts=[contact], agents=[agent])
    with pytest.raises(Conflict):
        deps.store.save(contacts=[contact])  # version 0 again: already exists
    moved = contact.model_copy(update={"state": ContactState.QUEUED, "version": 1, "enqueued_at": 5})
    stale_agent = agent.model_copy(update={"version": 5, "status": "AVAILABLE"})
    with pytest.raises(Conflict):
        deps.store.save(contacts=[moved], agents=[stale_agent])
    assert deps.store.get_contact(tenant, "c1").state == ContactState.INITIATED  # nothing half-written
    deps.store.save(contacts=[moved])
    assert deps.store.get_contact(tenant, "c1").version == 1


def test_waiting_index_holds_queued_contacts_oldest_first_and_only_them(deps, tenant):
    for n, enqueued in ((1, 300), (2, 100), (3, 200)):
        deps.store.save(contacts=[_contact(tenant, n, state=ContactState.QUEUED, enqueued_at=enqueued)])
    deps.store.save(contacts=[_contact(tenant, 4, state=ContactState.CONNECTED, enqueued_at=50)])
    assert [c.contact_id for c in deps.store.waiting_contacts(tenant, "q1", 10)] == ["c2", "c3", "c1"]
    assert [c.contact_id for c in deps.store.waiting_contacts(tenant, "q1", 1)] == ["c2"]
    c2 = deps.store.get_contact(tenant, "c2")
    deps.store.save(contacts=[c2.model_copy(update={"state": ContactState.OFFERED, "version": 1})])
    assert [c.contact_id for c in deps.store.waiting_contacts(tenant, "q1", 10)] == ["c3", "c1"]


def test_waiting_in_queues_reads_a_whole_routing_profile_per_queue_oldest_first(deps, tenant):
    plan = {1: ("q1", 300), 2: ("q2", 100), 3: ("q1", 200), 4: ("q3", 50), 5: ("q2", 400), 6: ("q1", 500)}
    for n, (queue, enqueued) in plan.items():
        deps.store.save(contacts=[_contact(tenant, n, state=ContactState.QUEUED, enqueued_at=enqueued, queue_id=queue)])
    deps.store.save(contacts=[_contact(tenant, 7, state=ContactState.CONNECTED, enqueued_at=10, queue_id="q2")])
    deps.store.save(contacts=[_contact(f"{tenant}x", 8, state=ContactState.QUEUED, enqueued_at=1, queue_id="q1")])

    def ids(found):
        return {q: [c.contact_id for c in cs] for q, cs in found.items()}

    assert ids(deps.store.waiting_in_queues(tenant, ["q1", "q2", "q9"], 10)) == {
        "q1": ["c3", "c1", "c6"], "q2": ["c2", "c5"], "q9": []}
    assert ids(deps.store.waiting_in_queues(tenant, ["q2", "q1", "q2"], 2)) == {"q2": ["c2", "c5"], "q1": ["c3", "c1"]}
    assert ids(deps.store.waiting_in_queues(tenant, ["q3"], 5)) == {"q3": ["c4"]}
    assert deps.store.waiting_in_queues(tenant, [], 5) == {}


def test_waiting_in_queues_past_one_page_still_sees_every_queue(deps, tenant):
    """A backlog deeper than one 1 MB page of the tenant's index: the newer queue is not missed."""
    bulky = {"notes": "x" * 40_000}
    for n in range(30):
        deps.store.save(contacts=[_contact(tenant, n, state=ContactState.QUEUED, enqueued_at=n, attributes=bulky)])
    deps.store.save(contacts=[_contact(tenant, 99, state=ContactState.QUEUED, enqueued_at=1000, queue_id="q2")])
    found = deps.store.waiting_in_queues(tenant, ["q1", "q2"], 40)
    assert [c.contact_id for c in found["q2"]] == ["c99"]
    q1 = [c.contact_id for c in found["q1"]]  # oldest first, as far as one page of its own goes
    assert len(q1) >= 20 and q1 == [f"c{n}" for n in range(len(q1))]


def test_waiting_in_queues_behind_a_deep_backlog_of_another_queue_still_finds_each_queue_s_oldest(deps, tenant):
    """120 older contacts in q1, then 3 in q2: q2's two oldest are found although the tenant's oldest 100
    (what one read asks for, see the next test) are all q1's."""
    for n in range(120):
        deps.store.save(contacts=[_contact(tenant, n, state=ContactState.QUEUED, enqueued_at=n)])
    for n in (2, 0, 1):
        deps.store.save(contacts=[_contact(tenant, 200 + n, state=ContactState.QUEUED, enqueued_at=500 + n, queue_id="q2")])
    found = deps.store.waiting_in_queues(tenant, ["q1", "q2"], 2)
    assert {q: [c.contact_id for c in cs] for q, cs in found.items()} == {"q1": ["c0", "c1"], "q2": ["c200", "c201"]}


def test_a_routing_profile_read_stops_at_what_it_can_use(stack):
    """A tenant with 150 waiting: the live view's read (one contact per queue) and a next offer's (50 per
    queue) read the tenant's oldest 100 and 150, not every waiting contact."""
    deps = moto_dependencies(stack)
    tenant_id = f"t{uuid.uuid4().hex[:10]}"
    for n in range(150):
        deps.store.save(contacts=[_contact(tenant_id, n, state=ContactState.QUEUED, enqueued_at=n, queue_id=f"q{n % 3}")])
    reads = []
    query = deps.store._db.query  # noqa: SLF001 - the adapter's client: what it reads is the point

    def counting_query(**kwargs):
        answer = query(**kwargs)
        reads.append(answer["ScannedCount"])
        return answer

    deps.store._db.query = counting_query  # noqa: SLF001
    oldest = deps.store.waiting_in_queues(tenant_id, ["q0", "q1", "q2"], 1)
    assert [[c.contact_id for c in oldest[q]] for q in ("q0", "q1", "q2")] == [["c0"], ["c1"], ["c2"]]
    assert reads == [100]
    reads.clear()
    profile = deps.store.waiting_in_queues(tenant_id, ["q0", "q1"], 50)
    assert [c.contact_id for c in profile["q0"]] == [f"c{n}" for n in range(0, 150, 3)]
    assert [c.contact_id for c in profile["q1"]] == [f"c{n}" for n in range(1, 150, 3)]
    assert reads[0] == 100 and sum(reads) < 150 + 100  # the tenant's oldest 100, then each queue short of 50 alone


def test_available_index_lists_ready_agents_longest_idle_first(deps, tenant):
    deps.store.save(
        agents=[
            _agent(tenant, "ana", status="AVAILABLE", status_since=300),
            _agent(tenant, "bob", status="AVAILABLE", status_since=100),
            _agent(tenant, "cy", status="BREAK", status_since=50),
            _agent(tenant, "dee", status="AVAILABLE", status_since=10, capacity={Channel.VOICE: 1}, active={Channel.VOICE: 1}),
        ]
    )
    assert [a.agent_id for a in deps.store.available_agents(tenant, 10)] == ["bob", "ana"]
    assert [a.agent_id for a in deps.store.list_agents(tenant)] == ["ana", "bob", "cy", "dee"]
    assert deps.store.staffing_roster(tenant) == deps.store.list_agents(tenant)


def test_index_reads_go_past_one_page(deps, tenant):
    """A Query page ends at 1 MB: agents with the largest profile the API takes (~22 KB each) filled it at ~45,
    and the longest-idle agents past it were never offered anything (outside review, session 25)."""
    skills = {f"skill-{i:03d}-{'x' * 40}": 5 for i in range(100)}
    many = [_agent(tenant, f"a{n:03d}", status="AVAILABLE", status_since=n, skills=skills) for n in range(120)]
    for start in range(0, len(many), 25):
        deps.store.save(agents=many[start:start + 25])
    found = deps.store.available_agents(tenant, 1000)
    assert [a.agent_id for a in found] == [a.agent_id for a in many]
    assert len(deps.store.available_agents(tenant, 70)) == 70
    notes = {f"k{i:02d}": "n" * 1000 for i in range(50)}
    waiting = [_contact(tenant, n, state=ContactState.QUEUED, enqueued_at=n, attributes=notes) for n in range(40)]
    for start in range(0, len(waiting), 25):
        deps.store.save(contacts=waiting[start:start + 25])
    assert [c.contact_id for c in deps.store.waiting_contacts(tenant, "q1", 100)] == [c.contact_id for c in waiting]


def test_tenants_do_not_see_each_other(deps, tenant):
    deps.store.save(contacts=[_contact(tenant, 1, state=ContactState.QUEUED, enqueued_at=1)], agents=[_agent(tenant, "ana")])
    other = f"{tenant}x"
    with pytest.raises(NotFound):
        deps.store.get_contact(other, "c1")
    assert deps.store.list_agents(other) == [] and deps.store.waiting_contacts(other, "q1", 5) == []
    assert deps.store.staffing_roster(other) == []
    with pytest.raises(NotFound):
        deps.config.get_queue(other, "q1")


def test_config_round_trips_and_keys_resolve_by_hash(deps, tenant):
    assert deps.config.get_tenant(tenant).name == "Contract"
    assert [q.queue_id for q in deps.config.list_queues(tenant)] == ["q1"]
    deps.config.put_api_key("h" * 64, tenant)
    assert deps.config.tenant_for_key("h" * 64) == tenant
    assert deps.config.tenant_for_key("x" * 64) is None


def test_live_metrics_writes_are_conditional_and_return_the_new_item(deps, tenant):
    first = WritePlan(adds={"g_in_queue": 3, "d0_answered": 2}, sets={"wm_s0": "005", "d0_at": "20261125"},
                      conditions={"wm_s0": None, "d0_at": None})
    after = deps.live.write(tenant, "q1", first)
    assert after["g_in_queue"] == 3 and after["d0_answered"] == 2 and after["wm_s0"] == "005"
    with pytest.raises(Conflict):
        deps.live.write(tenant, "q1", first)  # a redelivery expecting no watermark
    reset = WritePlan(adds={"g_in_queue": -1}, sets={"wm_s0": "009", "d0_at": "20261127", "d0_offered": 1},
                      removes=["d0_answered"], conditions={"wm_s0": "005", "d0_at": "20261125"})
    after = deps.live.write(tenant, "q1", reset)
    assert after == deps.live.read(tenant, "q1")
    assert {k: after[k] for k in after} == {"g_in_queue": 2, "wm_s0": "009", "d0_at": "20261127", "d0_offered": 1}
    assert deps.live.snapshots([(tenant, "q1"), (tenant, "q2")]) == {(tenant, "q1"): after}


def test_deduplicator_remembers_the_first_sequence(deps, tenant):
    event = Event(event_id=uuid.uuid4().hex, tenant_id=tenant, type="contact.queued", occurred_at="2026-11-25T10:00:00Z", subject="contact/c1", sequence=1)
    assert deps.dedup.first_sequence(event, "0001") == "0001"
    assert deps.dedup.first_sequence(event, "0007") == "0001"


def test_deduplicator_reads_and_stores_a_batch_of_first_sightings(deps, tenant):
    ids = [uuid.uuid4().hex for _ in range(130)]  # more than one BatchGetItem (100) and BatchWriteItem (25)
    assert deps.dedup.seen(ids) == {}
    deps.dedup.remember({e: f"{i:04d}" for i, e in enumerate(ids[:120])})
    found = deps.dedup.seen([*ids, ids[0]])
    assert found == {e: f"{i:04d}" for i, e in enumerate(ids[:120])}
    event = Event(event_id=ids[5], tenant_id=tenant, type="contact.queued", occurred_at="2026-11-25T10:00:00Z",
                  subject="contact/c1", sequence=1)
    assert deps.dedup.first_sequence(event, "9999") == "0005"  # the one-record form sees the batch's records


def test_racing_reservations_never_exceed_capacity_or_double_assign(deps, tenant):
    deps.config.put_queue(Queue(tenant_id=tenant, queue_id="q1", name="Q1"))
    for i in range(3):
        deps.store.save(agents=[_agent(tenant, f"a{i}", capacity={Channel.CHAT: 2, Channel.VOICE: 1})])
    for n in range(12):
        deps.store.save(contacts=[_contact(tenant, n)])
        contacts.queue_and_route(deps, tenant, f"c{n}", f"tok{n}")
    barrier = threading.Barrier(9)
    errors = []

    def run(fn):
        try:
            barrier.wait()
            fn()
        except Exception as error:  # surfaced below
            errors.append(error)

    work = [lambda i=i: agents.set_agent_status(deps, tenant, f"a{i}", StatusChange(status="AVAILABLE")) for i in range(3)]
    work += [lambda n=n: contacts.route_contact(deps, deps.store.get_contact(tenant, f"c{n}")) for n in range(6)]
    threads = [threading.Thread(target=run, args=(w,)) for w in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    holders = []
    for i in range(3):
        agent = deps.store.get_agent(tenant, f"a{i}")
        assert agent.active.get(Channel.CHAT, 0) == len(agent.active_contact_ids) <= 2
        holders += agent.active_contact_ids
    assert len(holders) == len(set(holders)) == 6
    for cid in holders:
        assert deps.store.get_contact(tenant, cid).state == ContactState.OFFERED


def test_published_events_reach_the_stream_in_order(deps, tenant, stack):
    contact = contacts.create_contact(deps, tenant, NewContact(channel=Channel.CHAT, queue_id="q1"))
    contacts.queue_and_route(deps, tenant, contact.contact_id, "tok")
    if not hasattr(deps.events, "events"):
        stream = function_environment(stack, "serve_api")["EVENTS_STREAM_NAME"]
        kinesis = boto3.client("kinesis")
        records = []
        for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
            iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            records += kinesis.get_records(ShardIterator=iterator, Limit=10000)["Records"]
        published = [Event.model_validate_json(r["Data"]) for r in records]
    else:
        published = deps.events.events
    mine = [e for e in published if e.tenant_id == tenant]
    assert [e.type for e in mine] == ["contact.queued"]
    assert mine[0].payload["queue_id"] == "q1" and mine[0].partition_key == f"{tenant}#contact/{contact.contact_id}"
