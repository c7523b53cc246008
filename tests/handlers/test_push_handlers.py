"""The WebSocket handlers with their template environment, on moto: manage_connection's three routes
(tenant and role from the authorizer's context), and push_updates (offers, gone connections, failures
as batch item failures, a poison record)."""
from __future__ import annotations

import json
import time
import uuid

import pytest
from moto.apigatewaymanagementapi import models as mgmt
from moto.core.exceptions import JsonRESTError

from ccaas.bootstrap import dependencies
from ccaas.domain.events import EventType, contact_event
from ccaas.domain.models import Channel, Contact, ContactState
from tests.lambda_harness import context, kinesis_event, load_handler

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]


def _route(route_key: str, cid: str, tenant_id: str, role: str, agent_id: str = "", body: str | None = None) -> dict:
    ctx = {"routeKey": route_key, "connectionId": cid, "eventType": route_key.strip("$").upper(), "stage": "v1",
           "authorizer": {"tenant_id": tenant_id, "role": role, "agent_id": agent_id, "key_id": "k1", "principalId": tenant_id}}
    return {"requestContext": ctx, "body": body, "isBase64Encoded": False}


@pytest.fixture
def manage(env):
    env("manage_connection")
    handler = load_handler("manage_connection")
    return lambda *a, **kw: handler(_route(*a, **kw), context("manage_connection"))


def _sent() -> dict[str, list[dict]]:
    """What moto's management API received, per connection (its bytes are concatenated)."""
    out: dict[str, list[dict]] = {}
    for backend in mgmt.apigatewaymanagementapi_backends.values():
        for region in backend.values():
            for cid, conn in region.connections.items():
                text, decoder, msgs = conn.data.decode(), json.JSONDecoder(), []
                while text:
                    msg, end = decoder.raw_decode(text)
                    msgs.append(msg)
                    text = text[end:]
                out.setdefault(cid, []).extend(msgs)
    return out


def test_connect_stores_the_credentials_identity_and_disconnect_deletes_it(tenant, manage):
    assert manage("$connect", "ana-1=", tenant.id, "agent", "ana") == {"statusCode": 200}
    conn = dependencies().connections.get(tenant.id, "ana-1=")
    assert (conn.role, conn.agent_id) == ("agent", "ana") and conn.expires_at > time.time() + 7000
    assert manage("$disconnect", "ana-1=", tenant.id, "agent", "ana") == {"statusCode": 200}
    assert dependencies().connections.get(tenant.id, "ana-1=") is None


def test_connect_refuses_integration_keys_and_agentless_agent_keys(tenant, manage):
    assert manage("$connect", "i-1", tenant.id, "integration")["statusCode"] == 403
    assert manage("$connect", "a-1", tenant.id, "agent", "")["statusCode"] == 403
    assert dependencies().connections.get(tenant.id, "i-1") is None


def test_default_route_answers_ping_subscribe_and_errors_without_dropping_the_connection(tenant, manage):
    manage("$connect", "sup-1", tenant.id, "supervisor")
    pong = json.loads(manage("$default", "sup-1", tenant.id, "supervisor", body='{"action":"ping"}')["body"])
    assert pong["type"] == "pong"
    sub = json.loads(manage("$default", "sup-1", tenant.id, "supervisor", body='{"action":"subscribe","queues":["sales"]}')["body"])
    assert sub == {"type": "subscribed", "at": sub["at"], "queues": ["sales"]}
    for bad in ("{", '{"action":"subscribe","queues":"sales"}', '{"action":"steal","tenant_id":"x"}',
                "[" * 5000 + "]" * 5000):  # nested past Python's JSON decoder: once no reply at all (the route failed)
        reply = manage("$default", "sup-1", tenant.id, "supervisor", body=bad)
        assert reply["statusCode"] == 200 and json.loads(reply["body"])["type"] == "error"
    assert dependencies().connections.get(tenant.id, "sup-1").subscriptions == ("sales",)


class _Gone(JsonRESTError):
    code = 410  # what API Gateway answers for a connection that no longer exists

    def __init__(self) -> None:
        super().__init__("GoneException", "the connection is gone")


def _offered_contact(tenant_id: str, agent_id: str = "ana") -> Contact:
    now = int(time.time() * 1000)
    contact = Contact(tenant_id=tenant_id, contact_id=str(uuid.uuid4()), channel=Channel.VOICE, queue_id="sales",
                      state=ContactState.OFFERED, agent_id=agent_id, initiated_at=now - 5000, enqueued_at=now - 5000,
                      offered_at=now)
    dependencies().store.save(contacts=[contact])
    return contact


def test_push_consumer_delivers_the_offer_deletes_gone_connections_and_reports_other_failures(tenant, env, manage, monkeypatch):
    other = f"{tenant.id}o"
    manage("$connect", f"{tenant.id}-ana", tenant.id, "agent", "ana")
    manage("$connect", f"{tenant.id}-gone", tenant.id, "agent", "ana")
    manage("$connect", f"{other}-ana", other, "agent", "ana")  # another tenant's ana: must get nothing
    env("serve_api")
    contact = _offered_contact(tenant.id)
    offered = contact_event(EventType.CONTACT_OFFERED, contact, uuid.uuid4().hex, int(time.time() * 1000))

    original = mgmt.ApiGatewayManagementApiBackend.post_to_connection
    failing: set[str] = set()

    def post(self, data, connection_id):
        if connection_id.endswith("-gone"):
            raise _Gone()
        if connection_id in failing:
            raise JsonRESTError("LimitExceededException", "slow down")
        return original(self, data, connection_id)

    monkeypatch.setattr(mgmt.ApiGatewayManagementApiBackend, "post_to_connection", post)
    env("push_updates")
    handler = load_handler("push_updates")
    poison = b'{"not": "an event"}'
    result = handler(kinesis_event([offered.model_dump_json().encode(), poison]), context("push_updates"))
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == ["4959" + f"{1:020d}"]  # the poison only

    sent = _sent()
    (offer,) = sent[f"{tenant.id}-ana"]
    assert offer["type"] == "offer" and offer["payload"]["contact"]["contact_id"] == contact.contact_id
    assert f"{other}-ana" not in sent
    assert dependencies().connections.get(tenant.id, f"{tenant.id}-gone") is None  # gone: deleted
    assert dependencies().connections.get(tenant.id, f"{tenant.id}-ana") is not None

    failing.add(f"{tenant.id}-ana")
    result = handler(kinesis_event([offered.model_dump_json().encode()], first=10), context("push_updates"))
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == ["4959" + f"{10:020d}"]  # retried
    assert dependencies().connections.get(tenant.id, f"{tenant.id}-ana") is not None  # not gone: kept


def test_a_batch_that_reaches_nobody_writes_no_log_line_and_no_metrics_document(tenant, env, manage, capsys, caplog):
    """Most batches concern no connected agent or supervisor: a line and an EMF document of zeros for each
    was ~0.7 KB of log ingestion per batch (bench cost); a batch that pushes something still reports it."""
    import logging

    caplog.set_level(logging.INFO)
    env("serve_api")
    nobody = _offered_contact(tenant.id, agent_id="bo")  # bo has no connection
    env("push_updates")
    handler = load_handler("push_updates")
    event = contact_event(EventType.CONTACT_OFFERED, nobody, uuid.uuid4().hex, int(time.time() * 1000))
    capsys.readouterr(), caplog.clear()
    assert handler(kinesis_event([event.model_dump_json().encode()]), context("push_updates"))["batchItemFailures"] == []
    assert "batch pushed" not in caplog.messages
    assert not [line for line in capsys.readouterr().out.splitlines() if "_aws" in line]  # no EMF document

    manage("$connect", f"{tenant.id}-ana", tenant.id, "agent", "ana")
    ana = _offered_contact(tenant.id)
    event = contact_event(EventType.CONTACT_OFFERED, ana, uuid.uuid4().hex, int(time.time() * 1000))
    capsys.readouterr(), caplog.clear()
    handler(kinesis_event([event.model_dump_json().encode()], first=20), context("push_updates"))
    assert "batch pushed" in caplog.messages
    (emf,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    assert emf["PushesSent"] in (1, 1.0, [1.0]) and "PushFailures" not in emf, emf
