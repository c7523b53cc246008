"""A routing decision's DECISION item (DynamoStateStore): written as zlib-compressed JSON (`decision_z`, binary) so a
busy day's 50-candidate decision is one write unit, not two (twice each in the routing transaction); read back equal
to what was recorded, key order included, and so are items written before as JSON text (`decision`, kept forever).
On moto patched as the local runtime and the cost bench run it."""
from __future__ import annotations

import json
import uuid

import pytest

from bench.cost_model import item_size, write_units
from ccaas.adapters.aws.dynamodb import contact_key
from ccaas.adapters.memory import MemoryStateStore
from ccaas.domain.routing_engine import RoutingPolicy, select_agent
from ccaas.usecases.routing import explained
from tests.fixtures.routing.builders import agent, contact, queue, s
from tests.moto_items import state_store_tables
from tests.moto_items import patched  # noqa: F401 - the module's autouse fixture

TENANT = "t1"
TWO_STEPS = RoutingPolicy.model_validate({"queues": {"billing": {"steps": [
    {"condition": "billing>=4", "expiry_s": 30}, {"condition": "billing", "expiry_s": 60}]}}})


def busy_day_decision(contact_id: str) -> dict:
    """What the engine keeps when 60 agents are free at the second step: 50 considered, the best scored."""
    agents = [agent(f"agent-{n:03d}", {"billing": 1 + n % 5}, idle_since=s(-7 * n)) for n in range(60)]
    return explained(select_agent(contact(contact_id), queue(), TWO_STEPS, agents, s(40)))


@pytest.fixture
def aws():
    with state_store_tables() as (db, store):
        yield db, store


def stored_items(db, contact_id: str) -> list[dict]:
    return db.query(TableName="Contacts", KeyConditionExpression="pk = :pk AND begins_with(sk, :d)",
                    ExpressionAttributeValues={":pk": {"S": contact_key(TENANT, contact_id)["pk"]},
                                               ":d": {"S": "DECISION#"}})["Items"]


def test_a_busy_days_decision_is_stored_compressed_in_one_write_unit(aws):
    db, store = aws
    cid = str(uuid.uuid4())
    decision = busy_day_decision(cid)
    assert len(decision["considered"]) == 50 and len(json.dumps(decision)) > 1_400  # as measured on the busy day
    store.record_decision(TENANT, cid, decision)
    store.save(contacts=[contact(cid)], decisions=[(TENANT, cid, {**decision, "at": s(41)})])

    items = stored_items(db, cid)
    assert len(items) == 2
    for item in items:
        assert isinstance(item["decision_z"]["B"], bytes) and "decision" not in item  # no JSON text beside it
        assert item["entity"] == {"S": "decision"} and set(item) == {"pk", "sk", "entity", "decision_z"}
        assert item_size(item) < 1_024 and write_units(item_size(item), transactional=True) == 2
    as_before = {**items[0], "decision": {"S": json.dumps(decision)}}
    del as_before["decision_z"]
    assert write_units(item_size(as_before), transactional=True) == 4  # what the same decision took as text


def test_decisions_read_back_as_recorded_and_as_the_memory_store_answers(aws):
    db, store = aws
    memory = MemoryStateStore()
    cid = str(uuid.uuid4())
    recorded = [
        busy_day_decision(cid),
        {"kind": "select_agent", "outcome": "wait", "at": s(50), "why": "nobody free — café ✓", "winner": None,
         "data": {"ewt_s": 12.5, "tiny": 1e-07, "big": 12345678901234567890, "ratio": 0.1}, "z": 1, "a": [1.0, 2]},
        {"kind": "reservation", "outcome": "reoffer", "at": s(60)},
    ]
    for n, decision in enumerate(recorded):
        for target in (store, memory):
            if n == 1:
                target.save(decisions=[(TENANT, cid, decision)])  # the routing transaction's path
            else:
                target.record_decision(TENANT, cid, decision)

    got = store.decisions(TENANT, cid)
    assert [json.dumps(d) for _, d in got] == [json.dumps(d) for d in recorded]  # same content, same key order
    assert [d for _, d in got] == [d for _, d in memory.decisions(TENANT, cid)]
    first_page = store.decisions(TENANT, cid, limit=1)
    assert first_page == got[:1] and store.decisions(TENANT, cid, after=first_page[0][0], limit=5) == got[1:]


def test_an_item_written_before_as_json_text_reads_as_it_did_beside_new_ones(aws):
    db, store = aws
    cid = str(uuid.uuid4())
    old = busy_day_decision(cid)
    # as _decision_item wrote it before decision_z: the decision's json.dumps in an S attribute
    db.put_item(TableName="Contacts", Item={"pk": {"S": contact_key(TENANT, cid)["pk"]},
                                            "sk": {"S": f"DECISION#{old['at']:013d}#0badc0de"},
                                            "entity": {"S": "decision"}, "decision": {"S": json.dumps(old)}})
    newer = {"kind": "select_agent", "outcome": "wait", "at": old["at"] + 1_000}
    store.record_decision(TENANT, cid, newer)

    got = store.decisions(TENANT, cid)
    assert [cursor for cursor, _ in got][0] == f"{old['at']:013d}#0badc0de"
    assert [json.dumps(d) for _, d in got] == [json.dumps(old), json.dumps(newer)]
    assert store.decisions(TENANT, cid, after=got[0][0]) == got[1:]
    assert {"decision", "decision_z"} == {name for item in stored_items(db, cid) for name in item} - {"pk", "sk", "entity"}
