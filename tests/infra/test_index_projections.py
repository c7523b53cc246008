"""Cost levers in the template (bench cost): the Contacts `customer` index keeps keys only and its reader
gets the contacts by key; the contact-events consumers that need no 1 s freshness gather their batches."""
from __future__ import annotations

import uuid

import boto3
import pytest

from ccaas.domain.models import Channel, Contact
from infra.function_specs import SPECS
from tests.aws_stack import function_environment, moto_dependencies
from tests.contract.conftest import deps, stack  # noqa: F401 - fixtures (memory and moto twins)

WINDOWED = {"evaluate_alerts": 5, "record_agent_activity": 5}  # the others: 0 (live metrics, offer frames)


def _table(synth, table_id: str) -> dict:
    return synth.resources[synth.logical_id(synth.stack.data.tables[table_id])]["Properties"]


def test_the_customer_index_keeps_keys_only_and_the_routing_indexes_whole_items(synth):
    projections = {g["IndexName"]: g["Projection"] for g in _table(synth, "Contacts")["GlobalSecondaryIndexes"]}
    assert projections["customer"] == {"ProjectionType": "KEYS_ONLY"}
    # routing reads whole waiting contacts from these (a BatchGetItem per decision would cost more)
    assert projections["waiting"]["ProjectionType"] == projections["waiting_tenant"]["ProjectionType"] == "ALL"


def test_only_the_consumers_without_a_freshness_goal_gather_their_batches(synth):
    functions = {synth.logical_id(synth.stack.factory.functions[f]): f for f, s in SPECS.items() if s.consumes_events}
    windows = {}
    for mapping in synth.of_type("AWS::Lambda::EventSourceMapping").values():
        props = mapping["Properties"]
        folder = functions.get(props["FunctionName"].get("Ref"))
        if folder:
            windows[folder] = props["MaximumBatchingWindowInSeconds"]
    assert windows == {f: WINDOWED.get(f, 0) for f in functions.values()}
    assert windows["consume_contact_events"] == windows["push_updates"] == 0


def _contact(tenant: str, n: int, customer_id: str | None) -> Contact:
    return Contact(tenant_id=tenant, contact_id=f"c{n}", channel=Channel.CHAT, queue_id="q1", initiated_at=1000 + n,
                   customer_id=customer_id, attributes={"n": str(n)}, reason=f"reason {n}")


def test_a_customer_s_recent_contacts_are_whole_contacts_newest_first(deps):
    tenant = f"t{uuid.uuid4().hex[:10]}"
    saved = [_contact(tenant, 1, "cust-1"), _contact(tenant, 2, "cust-2"), _contact(tenant, 3, "cust-1"),
             _contact(tenant, 4, None), _contact(tenant, 5, "cust-1")]
    for contact in saved:
        deps.store.save(contacts=[contact])
    assert deps.store.recent_contacts(tenant, "cust-1", 2) == [saved[4], saved[2]]
    assert deps.store.recent_contacts(tenant, "cust-1", 10) == [saved[4], saved[2], saved[0]]
    assert deps.store.recent_contacts(tenant, "cust-2", 10) == [saved[1]]
    assert deps.store.recent_contacts(tenant, "nobody", 10) == []


def test_the_deployed_customer_index_holds_keys_only(stack):
    deps = moto_dependencies(stack)
    tenant = f"t{uuid.uuid4().hex[:10]}"
    deps.store.save(contacts=[_contact(tenant, 1, "cust-1")])
    table = function_environment(stack, "serve_api")["CONTACTS_TABLE"]
    items = boto3.client("dynamodb").query(TableName=table, IndexName="customer", KeyConditionExpression="cust_pk = :c",
                                           ExpressionAttributeValues={":c": {"S": f"{tenant}#cust-1"}})["Items"]
    assert len(items) == 1 and set(items[0]) == {"pk", "sk", "cust_pk", "cust_sk"}
