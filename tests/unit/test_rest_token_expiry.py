"""The REST API refuses a person's token past its `expires_at` although API Gateway answers from the authorizer's
cached Allow for 300 s (outside review W27, finding 7)."""
from __future__ import annotations

import json
import time
import uuid

import pytest
from aws_lambda_powertools.event_handler.exceptions import UnauthorizedError

import ccaas.api.common as common
import ccaas.bootstrap as bootstrap
from ccaas.api import access
from ccaas.bootstrap import memory_dependencies
from ccaas.usecases import admin


def _context(expires_at):
    return {"tenant_id": "acme", "role": "admin", "agent_id": "", "key_id": "jwt:alice-sub", "expires_at": expires_at,
            "principalId": "acme#jwt:alice-sub"}


@pytest.mark.parametrize("expires_at", [999, "999", 1000, "1000"])  # API Gateway passes context values as strings
def test_a_token_past_its_expiry_is_refused(expires_at):
    with pytest.raises(UnauthorizedError, match="expired"):
        access.credential(_context(expires_at), now_s=1000)


@pytest.mark.parametrize("expires_at", [1001, "1001", 0, "0", "", None])  # 0 / absent: an API key, until revoked
def test_a_live_token_or_a_key_is_admitted(expires_at):
    caller = access.credential(_context(expires_at), now_s=1000)
    assert caller.role.value == "admin" and caller.expires_at == (1001 if str(expires_at) == "1001" else None)


def test_an_unreadable_expiry_is_refused_not_ignored():
    with pytest.raises(UnauthorizedError):
        access.credential(_context("soon"), now_s=1000)


@pytest.fixture
def api(monkeypatch):
    deps = memory_dependencies()
    monkeypatch.setattr(bootstrap, "dependencies", lambda: deps)
    monkeypatch.setattr(common, "dependencies", lambda: deps)
    admin.register_tenant(deps, tenant_id="acme", name="acme")
    from ccaas.api.app import app

    def get_keys(expires_at):
        event = {"resource": "/{proxy+}", "path": "/keys", "httpMethod": "GET", "headers": {}, "multiValueHeaders": {},
                 "queryStringParameters": None, "multiValueQueryStringParameters": None, "pathParameters": {"proxy": "keys"},
                 "stageVariables": None, "body": None, "isBase64Encoded": False,
                 "requestContext": {"stage": "v1", "requestId": str(uuid.uuid4()), "httpMethod": "GET", "path": "/v1/keys",
                                    "resourcePath": "/{proxy+}", "identity": {"sourceIp": "127.0.0.1"},
                                    "authorizer": _context(expires_at)}}
        response = app.resolve(event, None)
        return response["statusCode"], json.loads(response.get("body") or "null")

    return get_keys


def test_the_api_answers_401_to_a_token_expired_behind_the_cached_policy(api):
    status, body = api(str(int(time.time()) - 240))  # the authorizer's Allow is cached 300 s
    assert status == 401 and body["error"] == "unauthorized" and "expired" in body["message"]
    status, _ = api(str(int(time.time()) + 600))
    assert status == 200
    status, _ = api("0")  # an API key
    assert status == 200
