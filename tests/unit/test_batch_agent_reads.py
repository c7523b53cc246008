"""StateStore.get_agents: a stream batch's agents in one consistent BatchGetItem (the alerts consumer read each
touched agent with its own GetItem: 2.3 GetItems per completed contact on the busy-day bench)."""
from __future__ import annotations

import pytest

from ccaas.adapters.memory import MemoryStateStore
from ccaas.domain.models import Agent
from ccaas.usecases import alerts
from ccaas.usecases.alerts import Touched
from tests.moto_items import state_store_tables
from tests.moto_items import patched  # noqa: F401 - the module's autouse fixture
from tests.unit.demo import TENANT, add_agent, demo_deps


@pytest.fixture
def aws():
    with state_store_tables() as (db, store):
        calls: list[tuple[str, dict]] = []
        db.meta.events.register("before-parameter-build.dynamodb.*", lambda model, params, **_: calls.append((model.name, params)))
        yield store, calls


def _agents(n: int, tenant: str = "t1") -> list[Agent]:
    return [Agent(tenant_id=tenant, agent_id=f"agent-{i:03d}", name=f"Agent {i}") for i in range(n)]


def test_agents_come_in_the_order_asked_the_missing_left_out_in_consistent_batches_of_100(aws):
    store, calls = aws
    written = _agents(130)
    store.save(agents=written[:65])
    store.save(agents=written[65:])
    store.save(agents=[Agent(tenant_id="t2", agent_id="agent-000", name="Other tenant")])
    asked = [a.agent_id for a in reversed(written)] + ["nobody", "agent-007"]
    calls.clear()
    found = store.get_agents("t1", asked)
    assert [a.agent_id for a in found] == [a.agent_id for a in reversed(written)]  # once each, asked order
    assert found == [store.get_agent("t1", a.agent_id) for a in reversed(written)]
    batches = [params for name, params in calls if name == "BatchGetItem"]
    assert [len(b["RequestItems"]["Agents"]["Keys"]) for b in batches] == [100, 31]
    assert all(b["RequestItems"]["Agents"]["ConsistentRead"] for b in batches)
    assert store.get_agents("t2", ["agent-000", "agent-001"]) == [Agent(tenant_id="t2", agent_id="agent-000", name="Other tenant")]
    assert store.get_agents("t1", []) == []


def test_the_memory_twin_answers_as_the_store(aws):
    store, _ = aws
    twin = MemoryStateStore()
    for s in (store, twin):
        s.save(agents=_agents(5))
    asked = ["agent-004", "ghost", "agent-001", "agent-004"]
    assert twin.get_agents("t1", asked) == store.get_agents("t1", asked)


def test_the_alerts_consumer_reads_a_batchs_agents_with_one_request():
    deps = demo_deps()
    for agent_id in ("ana", "ben", "cy"):
        add_agent(deps, agent_id)
    asked: list[list[str]] = []
    read = deps.store.get_agents
    deps.store.get_agents = lambda tenant_id, ids: asked.append(list(ids)) or read(tenant_id, ids)  # type: ignore[method-assign]
    deps.store.get_agent = None  # type: ignore[assignment] - one at a time no more
    alerts.evaluate_touched(deps, TENANT, Touched(agents={"cy", "ana", "gone", "ben"}))
    assert asked == [["ana", "ben", "cy", "gone"]]


def test_keys_left_unprocessed_are_asked_again_with_backoff_then_the_read_fails(monkeypatch):
    """Outside review: the loop asked a throttled table again at once and without end (2,000 calls in 3 ms)."""
    from ccaas.adapters.aws import batch_get as batches

    class Throttled:
        calls = 0

        def batch_get_item(self, RequestItems):  # noqa: N803 - boto3's name
            self.calls += 1
            return {"Responses": {"Agents": []}, "UnprocessedKeys": RequestItems}

    waits: list[int] = []
    monkeypatch.setattr(batches, "backoff", waits.append)
    db = Throttled()
    from ccaas.adapters.aws.dynamodb import DynamoStateStore

    with pytest.raises(batches.BatchIncomplete):
        DynamoStateStore(db, "Contacts", "Agents").get_agents("t1", ["a", "b"])
    assert db.calls == batches.ATTEMPTS and waits == list(range(batches.ATTEMPTS))
