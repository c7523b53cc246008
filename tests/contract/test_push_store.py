"""The connections table (ConnectionStore): one suite, in memory and on (moto) AWS."""
from __future__ import annotations

import uuid

import boto3
import pytest

from ccaas.adapters.aws.push import DynamoConnectionStore
from ccaas.bootstrap import memory_dependencies
from ccaas.domain.models import NotFound
from ccaas.domain.push import Identity, open_connection
from tests.aws_stack import function_environment

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]


@pytest.fixture(params=["memory", "moto"])
def connections(request, stack):
    if request.param == "memory":
        return memory_dependencies().connections
    table = function_environment(stack, "manage_connection")["CONNECTIONS_TABLE"]
    return DynamoConnectionStore(boto3.client("dynamodb"), table)


@pytest.fixture
def tenant() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


def _open(connections, tenant, cid, role, agent_id=""):
    c = open_connection(Identity(tenant_id=tenant, role=role, agent_id=agent_id), cid, 1_764_000_000_000)
    connections.put(c)
    return c


def test_put_get_delete_round_trip_and_delete_is_idempotent(connections, tenant):
    c = _open(connections, tenant, "c1=", "agent", "ana")
    assert connections.get(tenant, "c1=") == c
    connections.delete(tenant, "c1=")
    connections.delete(tenant, "c1=")
    assert connections.get(tenant, "c1=") is None


def test_a_connection_keeps_the_key_it_was_opened_with_and_its_tokens_expiry(connections, tenant):
    """What revoking a key (its key id) and a user token's expiry close a socket by."""
    person = Identity(tenant_id=tenant, role="supervisor", key_id="jwt:5f1c-77aa", expires_at=1_764_000_900)
    c = open_connection(person, "p1=", 1_764_000_000_000)
    connections.put(c)
    assert connections.get(tenant, "p1=") == c and (c.key_id, c.expires_at) == ("jwt:5f1c-77aa", 1_764_000_900)
    assert [w.key_id for w in connections.watchers(tenant)] == ["jwt:5f1c-77aa"]


def test_agents_and_watchers_are_found_by_audience_and_tenant(connections, tenant):
    other = f"{tenant}x"
    _open(connections, tenant, "a1", "agent", "ana")
    _open(connections, tenant, "a2", "agent", "ana")
    _open(connections, tenant, "b1", "agent", "bob")
    _open(connections, tenant, "s1", "supervisor")
    _open(connections, tenant, "m1", "admin")
    _open(connections, other, "a1", "agent", "ana")  # the same ids in another tenant
    _open(connections, other, "s9", "supervisor")
    assert [c.connection_id for c in connections.of_agent(tenant, "ana")] == ["a1", "a2"]
    assert all(c.tenant_id == tenant for c in connections.of_agent(tenant, "ana"))
    assert [c.connection_id for c in connections.of_agent(tenant, "bob")] == ["b1"]
    assert connections.of_agent(tenant, "") == [] and connections.of_agent(tenant, "nobody") == []
    assert sorted(c.connection_id for c in connections.watchers(tenant)) == ["m1", "s1"]
    assert [c.connection_id for c in connections.watchers(other)] == ["s9"]
    connections.delete(tenant, "a1")
    assert [c.connection_id for c in connections.of_agent(other, "ana")] == ["a1"]  # the other tenant's stays


def test_subscribe_replaces_the_queues_of_an_existing_connection_only(connections, tenant):
    _open(connections, tenant, "s1", "supervisor")
    updated = connections.subscribe(tenant, "s1", ["sales", "support", "sales"])
    assert updated.subscriptions == ("sales", "support")
    assert connections.get(tenant, "s1").subscriptions == ("sales", "support")
    assert [c.subscriptions for c in connections.watchers(tenant)] == [("sales", "support")]
    assert connections.subscribe(tenant, "s1", []).subscriptions == ()
    with pytest.raises(NotFound):
        connections.subscribe(tenant, "nope", ["sales"])
    with pytest.raises(NotFound):
        connections.subscribe(f"{tenant}x", "s1", ["sales"])  # another tenant's credential
    assert connections.get(f"{tenant}x", "s1") is None


# --- PushChannel: PostToConnection --------------------------------------------------------------------

@pytest.fixture(params=["memory", "moto"])
def channel(request, stack, monkeypatch):
    """(channel, make_gone(connection_id), received(connection_id) -> list of messages)."""
    if request.param == "memory":
        from ccaas.adapters.memory.push import MemoryPushChannel

        ch = MemoryPushChannel()
        return ch, ch.gone.add, lambda cid: ch.sent.get(cid, [])

    import json
    from urllib.parse import quote

    from moto.apigatewaymanagementapi import models as mgmt
    from moto.core.exceptions import JsonRESTError

    from ccaas.adapters.aws.push import ApiGatewayPushChannel

    class Gone(JsonRESTError):
        code = 410

        def __init__(self) -> None:
            super().__init__("GoneException", "gone")

    gone: set[str] = set()
    original = mgmt.ApiGatewayManagementApiBackend.post_to_connection

    def post(self, data, connection_id):
        if connection_id in gone:
            raise Gone()
        return original(self, data, connection_id)

    monkeypatch.setattr(mgmt.ApiGatewayManagementApiBackend, "post_to_connection", post)
    endpoint = function_environment(stack, "push_updates")["WEBSOCKET_ENDPOINT"]
    ch = ApiGatewayPushChannel(boto3.client("apigatewaymanagementapi", endpoint_url=endpoint))

    def received(cid: str) -> list[dict]:
        out = []
        for backend in mgmt.apigatewaymanagementapi_backends.values():
            for region in backend.values():
                for key in {cid, quote(cid, safe="")}:  # moto keeps the id as it appears in the path
                    if key not in region.connections:
                        continue
                    text, decoder = region.connections[key].data.decode(), json.JSONDecoder()
                    while text:
                        msg, end = decoder.raw_decode(text)
                        out.append(msg)
                        text = text[end:]
        return out

    return ch, lambda cid: gone.update({cid, quote(cid, safe="")}), received


def test_post_delivers_json_and_a_gone_connection_raises_connection_gone(channel):
    from ccaas.domain.push import ConnectionGone

    ch, make_gone, received = channel
    cid = f"c{uuid.uuid4().hex[:10]}="
    ch.post(cid, {"type": "offer", "at": "2026-11-25T10:00:00.000Z", "payload": {"contact_id": "c1"}})
    ch.post(cid, {"type": "contact_state", "at": "2026-11-25T10:00:01.000Z", "payload": {"state": "CONNECTED"}})
    assert [m["type"] for m in received(cid)] == ["offer", "contact_state"]
    assert received(cid)[0]["payload"] == {"contact_id": "c1"}
    make_gone(cid)
    with pytest.raises(ConnectionGone):
        ch.post(cid, {"type": "offer", "at": "x", "payload": {}})
