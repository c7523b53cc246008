"""Routing's roster (StateStore.staffing_roster): the AWS store keeps it a few seconds per container, so a peak
of decisions that find no free candidate costs one roster Query per container and tenant, not one per decision."""
from __future__ import annotations

import time

from ccaas.adapters.aws.dynamodb import DynamoStateStore
from ccaas.bootstrap import memory_dependencies
from ccaas.domain.models import Agent, Channel, Contact, Queue, QueueAssignment
from ccaas.domain.routing_engine.conditions import SkillAtLeast
from ccaas.usecases import routing


def _store(max_age_s: int) -> tuple[DynamoStateStore, list[str]]:
    store = DynamoStateStore(client=None, contacts_table="c", agents_table="a", roster_max_age_s=max_age_s)
    reads: list[str] = []

    def list_agents(tenant_id: str) -> list[Agent]:  # the roster Query, counted
        reads.append(tenant_id)
        return [Agent(tenant_id=tenant_id, agent_id=f"a{len(reads)}", name="A")]

    store.list_agents = list_agents  # type: ignore[method-assign]
    return store, reads


def test_the_roster_is_read_once_within_its_age_and_again_after():
    store, reads = _store(max_age_s=1)
    first = store.staffing_roster("t1")
    assert store.staffing_roster("t1") == first and reads == ["t1"]
    assert store.staffing_roster("t2") != first and reads == ["t1", "t2"]  # per tenant
    time.sleep(1.05)
    assert store.staffing_roster("t1") != first and reads == ["t1", "t2", "t1"]


def test_one_roster_at_a_time_and_age_zero_reads_each_time():
    """A roster can be ~150 MB of objects (2,000 agents at the largest profile): the container keeps one, and drops
    it before reading another tenant's, so its peak is what one decision held before (outside review)."""
    store, reads = _store(max_age_s=60)
    for tenant in ("t1", "t2", "t3"):
        store.staffing_roster(tenant)
        assert [key[0].split("\x1f")[1] for key in store._rosters.store] == [tenant]
    store.staffing_roster("t3")
    assert reads == ["t1", "t2", "t3"]
    uncached, reads = _store(max_age_s=0)
    uncached.staffing_roster("t1"), uncached.staffing_roster("t1")
    assert reads == ["t1", "t1"] and uncached._rosters is None


def test_routing_asks_the_roster_not_the_agent_list():
    """The skill step's question goes through staffing_roster (the one the AWS store may keep): list_agents,
    which answers GET /agents, stays uncached."""
    deps = memory_dependencies()
    deps.config.put_queue(Queue(tenant_id="t", queue_id="q", name="Q"))
    deps.store.save(agents=[Agent(tenant_id="t", agent_id="bob", name="Bob", status="BREAK", skills={"es": 4},
                                  queues=(QueueAssignment(queue_id="q"),), capacity={Channel.CHAT: 1})])
    asked: list[str] = []
    roster = deps.store.staffing_roster
    deps.store.staffing_roster = lambda tenant_id: asked.append(tenant_id) or roster(tenant_id)  # type: ignore[method-assign]
    staffed = routing.staff_of(deps, "t")
    queue = deps.config.get_queue("t", "q")
    contact = Contact(tenant_id="t", contact_id="c", channel=Channel.CHAT, queue_id="q", initiated_at=1)
    able = staffed.able(queue, contact, SkillAtLeast(skill="es", min=3))
    assert able == ("bob",) and asked == ["t"]


def test_the_lambdas_keep_it_as_long_as_the_configuration(monkeypatch):
    from ccaas.adapters.cached_config import MAX_AGE_ENV  # noqa: PLC0415

    monkeypatch.setenv(MAX_AGE_ENV, "7")
    store = DynamoStateStore(client=None, contacts_table="c", agents_table="a", roster_max_age_s=None)
    store.list_agents = lambda tenant_id: []  # type: ignore[method-assign]
    store.staffing_roster("t")
    assert store._roster_max_age_s == 7


def test_the_lambdas_wiring_keeps_the_roster(monkeypatch):
    from ccaas.bootstrap import _AwsDependencies  # noqa: PLC0415
    from ccaas.settings import Settings  # noqa: PLC0415

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    store = _AwsDependencies(Settings(contacts_table="c", agents_table="a")).store
    assert store._roster_max_age_s is None  # kept as long as the configuration, not read per decision
