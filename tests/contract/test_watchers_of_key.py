"""ConnectionStore.watchers_of: one credential's watcher connections (what a watcher's $connect bounds), in memory and
on (moto) AWS, where it is a begins_with Query of the audience index rather than the tenant's every watcher."""
from __future__ import annotations

import uuid

import boto3
import pytest

from ccaas.adapters.aws.push import DynamoConnectionStore
from ccaas.bootstrap import memory_dependencies
from ccaas.domain.push import Identity, open_connection
from tests.aws_stack import function_environment

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]


class CountingClient:
    """The DynamoDB client, keeping each Query's arguments."""

    def __init__(self, inner) -> None:
        self.inner, self.queries = inner, []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def query(self, **kwargs):
        self.queries.append(kwargs)
        return self.inner.query(**kwargs)


@pytest.fixture(params=["memory", "moto"])
def connections(request, stack):
    if request.param == "memory":
        return memory_dependencies().connections
    table = function_environment(stack, "manage_connection")["CONNECTIONS_TABLE"]
    return DynamoConnectionStore(CountingClient(boto3.client("dynamodb")), table)


def _open(connections, tenant, cid, role, key_id, agent_id=""):
    c = open_connection(Identity(tenant_id=tenant, role=role, agent_id=agent_id, key_id=key_id), cid, 1_764_000_000_000)
    connections.put(c)
    return c


def test_watchers_of_a_key_are_its_own_watchers_of_this_tenant_only(connections):
    tenant = f"t{uuid.uuid4().hex[:10]}"
    mine = {_open(connections, tenant, f"m{i}=", role, "k_sup1") for i, role in enumerate(("supervisor", "admin", "supervisor"))}
    _open(connections, tenant, "o1=", "supervisor", "k_sup10")  # a key id the first one is a prefix of
    _open(connections, tenant, "o2=", "supervisor", "jwt:k_sup1")
    _open(connections, tenant, "a1=", "agent", "k_sup1", agent_id="ana")  # an agent socket of the same key: not a watcher
    _open(connections, f"{tenant}x", "x1=", "supervisor", "k_sup1")  # another tenant's
    assert set(connections.watchers_of(tenant, "k_sup1")) == mine
    assert [c.connection_id for c in connections.watchers_of(tenant, "k_sup10")] == ["o1="]
    assert connections.watchers_of(tenant, "k_none") == []
    assert len(connections.watchers(tenant)) == 5  # the tenant's audience still lists every watcher
    connections.delete(tenant, "m0=")
    assert {c.connection_id for c in connections.watchers_of(tenant, "k_sup1")} == {"m1=", "m2="}


def test_on_dynamodb_a_keys_watchers_are_read_by_their_key_not_filtered_from_the_tenants(stack):
    table = function_environment(stack, "manage_connection")["CONNECTIONS_TABLE"]
    connections = DynamoConnectionStore(CountingClient(boto3.client("dynamodb")), table)  # the adapter's own Query
    tenant = f"t{uuid.uuid4().hex[:10]}"
    _open(connections, tenant, "m1=", "supervisor", "k_sup1")
    client = connections._db  # noqa: SLF001
    client.queries.clear()
    connections.watchers_of(tenant, "k_sup1")
    (query,) = client.queries
    assert "begins_with(aud_sk, :p)" in query["KeyConditionExpression"] and "FilterExpression" not in query
    assert query["ExpressionAttributeValues"][":p"] == {"S": "k_sup1#"}
