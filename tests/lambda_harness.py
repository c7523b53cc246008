"""Calling the real handlers the way Lambda does: each functions/<folder>/handler.py imported as its
own module, invoked with a Lambda-like context."""
from __future__ import annotations

import base64
import importlib.util
import json
import uuid
from collections.abc import Iterable
from typing import Any
from types import ModuleType, SimpleNamespace

from infra.naming import FUNCTIONS_DIR


def load_module(folder: str, prefix: str = "handler") -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"{prefix}_{folder}", FUNCTIONS_DIR / folder / "handler.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_handler(folder: str):
    return load_module(folder).lambda_handler


def context(name: str = "fn", remaining_ms: int = 10_000) -> SimpleNamespace:
    return SimpleNamespace(
        function_name=name, memory_limit_in_mb=512, aws_request_id=str(uuid.uuid4()),
        invoked_function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        get_remaining_time_in_millis=lambda: remaining_ms,
    )


def kinesis_event(payloads: Iterable[bytes], *, shard: str = "shardId-000000000000", first: int = 0,
                  stream: str = "s") -> dict:
    """A Kinesis event source mapping's Lambda event, one record per payload, sequence numbers from `first`."""
    records = []
    for i, data in enumerate(payloads, start=first):
        seq = f"4959{i:020d}"
        records.append({
            "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "p", "sequenceNumber": seq,
                        "data": base64.b64encode(data).decode(), "approximateArrivalTimestamp": 1764065700.0},
            "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": f"{shard}:{seq}",
            "eventName": "aws:kinesis:record", "invokeIdentityArn": "arn:aws:iam::123456789012:role/r",
            "awsRegion": "us-east-1", "eventSourceARN": f"arn:aws:kinesis:us-east-1:123456789012:stream/{stream}",
        })  # fmt: skip
    return {"Records": records}


AUTO = "auto"


def authorizer_context(method: str, path: str, tenant_id: str, role: str = AUTO,
                       agent_id: str | None = None) -> dict[str, str]:
    """What the authorizer passes on for a key of `tenant_id` with `role` (and `agent_id`).

    role AUTO: the role the route naturally serves (admin wherever admin is admitted, else supervisor,
    integration, then the agent the path names): tests of behaviour call each route as its own caller;
    tests of access (tests/handlers/test_roles.py) say the role."""
    if role == AUTO:
        from ccaas.api import access
        from ccaas.api.app import ROUTES

        found = access.matching(ROUTES, method, path)
        roles = access.roles_of(found[0]) if found else None
        role = access.natural_role(roles).value if roles else "admin"
        if role == "agent" and agent_id is None:
            agent_id = found[1].get("agent_id")
    return {"tenant_id": tenant_id, "role": role, "agent_id": agent_id or "", "key_id": f"k_{role[:10]:_<10}",
            "principalId": f"{tenant_id}#k_{role[:10]:_<10}"}


def api_response(method: str, path: str, tenant_id: str | None, body: Any = None, query: dict | None = None,
                 headers: dict | None = None, *, raw_body: str | None = None, base64_body: bool = False,
                 content_type: str | None = "application/json", role: str = AUTO,
                 agent_id: str | None = None) -> tuple[int, Any, dict]:
    """serve_api invoked with the API Gateway proxy event the TOKEN authorizer lets through for
    `tenant_id` (None: no authorizer context) with `role` (see authorizer_context). Returns (status,
    body parsed when JSON, multi-value headers). `raw_body` is sent as it is (with `base64_body`, as API
    Gateway passes bytes that are not UTF-8)."""
    event = {
        "resource": "/{proxy+}", "path": path, "httpMethod": method,
        "headers": {**({"content-type": content_type} if content_type is not None else {}), **(headers or {})},
        "multiValueHeaders": {},
        "queryStringParameters": query, "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": {"proxy": path.lstrip("/")}, "stageVariables": None,
        "requestContext": {"stage": "v1", "requestId": str(uuid.uuid4()), "httpMethod": method, "path": f"/v1{path}",
                           "resourcePath": "/{proxy+}", "identity": {"sourceIp": "127.0.0.1"},
                           "authorizer": authorizer_context(method, path, tenant_id, role, agent_id) if tenant_id else None},
        "body": raw_body if raw_body is not None else json.dumps(body) if body is not None else None,
        "isBase64Encoded": base64_body,
    }  # fmt: skip
    response = load_handler("serve_api")(event, context("serve_api"))
    response_headers = response.get("multiValueHeaders") or {}
    text = response["body"] or "null"
    parsed = json.loads(text) if "json" in response_headers.get("Content-Type", ["application/json"])[0] else text
    return response["statusCode"], parsed, response_headers


def api(method: str, path: str, tenant_id: str | None, body: Any = None, query: dict | None = None, *,
        role: str = AUTO, agent_id: str | None = None) -> tuple[int, Any]:
    """api_response without the headers: (status, parsed body)."""
    status, parsed, _ = api_response(method, path, tenant_id, body, query, role=role, agent_id=agent_id)
    return status, parsed


def connected_contact(tenant: Any, env: Any, agent_id: str = "ana", **contact: Any) -> str:
    """A contact of `tenant` (VOICE on sales, with `contact`'s fields) routed by the real route_contact handler and
    accepted by `agent_id`: the id of a CONNECTED contact. `env` is tests/handlers' fixture (each handler's env)."""
    api("PUT", f"/agents/{agent_id}/status", tenant.id, {"status": "AVAILABLE"})
    _, created = api("POST", "/contacts", tenant.id, {"channel": "VOICE", "queue_id": "sales", **contact})
    contact_id = created["contact_id"]
    env("route_contact")
    load_handler("route_contact")({"tenant_id": tenant.id, "contact_id": contact_id, "task_token": "tok"}, context())
    env("serve_api")
    assert api("POST", f"/agents/{agent_id}/contacts/{contact_id}/accept", tenant.id)[0] == 200
    return contact_id

