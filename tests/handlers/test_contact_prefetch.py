"""An agent's request on a contact reads it once: the access check's consistent read is the use-case's first one
(ccaas.adapters.prefetched_contact). Counted at the DynamoDB client, on moto: a retry after a conflict and the next
request read afresh, and a contact another agent holds is still a 404."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest

from ccaas.adapters.aws.dynamodb import DynamoStateStore
from ccaas.bootstrap import dependencies
from ccaas.domain.models import Agent, QueueAssignment
from ccaas.usecases import admin
from tests.lambda_harness import api, context, load_handler

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]


class Calls:
    """serve_api's DynamoDB calls by operation, and its GetItems of one contact."""

    def __init__(self, tenant_id: str, contact_id: str) -> None:
        self.pk = f"{tenant_id}#CONTACT#{contact_id}"
        self.contact_reads = 0
        self.transactions = 0

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "GetItem" and params["Key"]["pk"]["S"] == self.pk and params["Key"]["sk"]["S"] == "CONTACT":
            assert params.get("ConsistentRead") is True, params
            self.contact_reads += 1
        elif model.name == "TransactWriteItems":
            self.transactions += 1


@contextmanager
def counting(tenant_id: str, contact_id: str, *, before_transaction: Any = None) -> Iterator[Calls]:
    events = dependencies().store._db.meta.events  # noqa: SLF001 - serve_api's one DynamoDB client
    calls = Calls(tenant_id, contact_id)

    def transaction(params: dict[str, Any], model: Any, **_: Any) -> None:
        if before_transaction is not None:
            before_transaction(calls.transactions)

    events.register("provide-client-params.dynamodb", calls, unique_id="prefetch-count")
    events.register("provide-client-params.dynamodb.TransactWriteItems", transaction, unique_id="prefetch-race")
    try:
        yield calls
    finally:
        events.unregister("provide-client-params.dynamodb", unique_id="prefetch-count")
        events.unregister("provide-client-params.dynamodb.TransactWriteItems", unique_id="prefetch-race")


def _offered_to_ana(tenant, env) -> str:
    assert api("PUT", "/agents/ana/status", tenant.id, {"status": "AVAILABLE"})[0] == 200
    _, created = api("POST", "/contacts", tenant.id, {"channel": "VOICE", "queue_id": "sales", "customer_id": "cust-1"})
    contact_id = created["contact_id"]
    env("route_contact")
    load_handler("route_contact")({"tenant_id": tenant.id, "contact_id": contact_id, "task_token": "tok"}, context())
    env("serve_api")
    assert api("GET", f"/contacts/{contact_id}", tenant.id)[1]["agent_id"] == "ana"
    return contact_id


def _elsewhere() -> DynamoStateStore:
    """Another writer's (and the test's own) store: a client of its own, whose calls serve_api's does not count."""
    return DynamoStateStore(boto3.client("dynamodb"), os.environ["CONTACTS_TABLE"], os.environ["AGENTS_TABLE"])


def _another_writer_touches(tenant_id: str, contact_id: str) -> int:
    """The stored contact changed by someone else (its version up by one, a mark in its attributes)."""
    store = _elsewhere()
    held = store.get_contact(tenant_id, contact_id)
    store.save(contacts=[held.model_copy(update={"version": held.version + 1,
                                                 "attributes": {**held.attributes, "touched": "elsewhere"}})])
    return held.version + 1


def test_each_agent_action_reads_its_contact_once(tenant, env):
    contact_id = _offered_to_ana(tenant, env)
    for verb, state in (("accept", "CONNECTED"), ("complete", "ACW"), ("end-acw", "COMPLETED")):
        with counting(tenant.id, contact_id) as calls:
            status, body = api("POST", f"/agents/ana/contacts/{contact_id}/{verb}", tenant.id)
        assert status == 200 and body["state"] == state, (verb, body)
        assert calls.contact_reads == 1, (verb, calls.contact_reads)  # the access check's read, served to the use-case


def test_a_retry_after_a_conflict_reads_the_contact_afresh(tenant, env):
    contact_id = _offered_to_ana(tenant, env)
    versions: list[int] = []

    def race(transactions_so_far: int) -> None:  # another writer lands between the read and the first write
        if transactions_so_far == 0:
            versions.append(_another_writer_touches(tenant.id, contact_id))

    with counting(tenant.id, contact_id, before_transaction=race) as calls:
        status, body = api("POST", f"/agents/ana/contacts/{contact_id}/accept", tenant.id)
    assert status == 200 and body["state"] == "CONNECTED", body
    # one conflict, then the retry read the other writer's version (a second serving of the prefetched contact
    # would have conflicted again); the access check's read and the retry's: two reads, not three
    assert calls.transactions == 2 and calls.contact_reads == 2, vars(calls)
    assert body["attributes"]["touched"] == "elsewhere"
    assert _elsewhere().get_contact(tenant.id, contact_id).version == versions[0] + 1


def test_the_contact_read_for_one_request_is_never_served_to_the_next(tenant, env):
    contact_id = _offered_to_ana(tenant, env)
    admin.put_agent(dependencies(), Agent(tenant_id=tenant.id, agent_id="ben", name="Ben",
                                          queues=(QueueAssignment(queue_id="sales"),)))
    # Nothing touches serve_api's store between the two requests (as between two invocations of one environment).
    with counting(tenant.id, contact_id) as calls:
        # ben's check reads ana's offer and refuses (404): nothing in that request reads it again
        assert api("POST", f"/agents/ben/contacts/{contact_id}/accept", tenant.id)[0] == 404
        touched = _another_writer_touches(tenant.id, contact_id)
        calls.contact_reads = 0
        # the next request on this environment, one without an access check, reads afresh
        status, body = api("GET", f"/contacts/{contact_id}", tenant.id, role="supervisor")
    assert status == 200 and body["attributes"]["touched"] == "elsewhere", body
    assert calls.contact_reads == 1
    status, body = api("POST", f"/agents/ana/contacts/{contact_id}/accept", tenant.id)
    assert status == 200 and body["attributes"]["touched"] == "elsewhere", body
    assert _elsewhere().get_contact(tenant.id, contact_id).version == touched + 1


def test_a_contact_another_agent_holds_is_still_a_404_and_unchanged(tenant, env):
    contact_id = _offered_to_ana(tenant, env)
    admin.put_agent(dependencies(), Agent(tenant_id=tenant.id, agent_id="ben", name="Ben",
                                          queues=(QueueAssignment(queue_id="sales"),)))
    before = api("GET", f"/contacts/{contact_id}", tenant.id)[1]
    for verb in ("accept", "reject", "complete", "end-acw"):
        with counting(tenant.id, contact_id) as calls:
            # as ben's own key (end-acw admits supervisors too: they are not confined)
            status, body = api("POST", f"/agents/ben/contacts/{contact_id}/{verb}", tenant.id, role="agent", agent_id="ben")
        assert status == 404 and body["field"] == "contact_id" and "ana" not in body["message"], (verb, body)
        assert calls.contact_reads == 1 and calls.transactions == 0, (verb, vars(calls))
    assert api("GET", f"/contacts/{contact_id}", tenant.id)[1] == before
