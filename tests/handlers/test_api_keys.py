"""API keys end to end: issued, listed, rotated and revoked through serve_api (as admin), and what the
authorizer (TOKEN and REQUEST events) makes of each secret afterwards."""
from __future__ import annotations

import pytest

from ccaas.bootstrap import dependencies
from ccaas.domain.tenants import hash_api_key
from ccaas.usecases import admin
from tests.lambda_harness import api, context, load_handler

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]

REST_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/v1/GET/contacts/x"
WS_ARN = "arn:aws:execute-api:us-east-1:123456789012:ws0123/v1/$connect"


@pytest.fixture
def authorize(env):
    def call(api_key: str, kind: str = "TOKEN", **request) -> dict:
        env("authorize_request")
        try:
            handler = load_handler("authorize_request")
            if kind == "TOKEN":
                event = {"type": "TOKEN", "authorizationToken": f"Bearer {api_key}", "methodArn": REST_ARN}
            else:
                event = {"type": "REQUEST", "methodArn": WS_ARN, "headers": request.get("headers") or {},
                         "queryStringParameters": request.get("query"), "requestContext": {"eventType": "CONNECT"}}
            return handler(event, context("authorize"))
        finally:
            env("serve_api")

    return call


def _admin(method, path, tenant, body=None):
    return api(method, path, tenant.id, body, role="admin")


def test_issue_list_rotate_revoke_through_the_api_and_the_authorizer(tenant, authorize):
    status, issued = _admin("POST", "/keys", tenant, {"role": "agent", "agent_id": "ana", "name": "Ana's desk"})
    assert status == 201 and issued["api_key"].startswith("ck_") and issued["key_id"].startswith("k_")
    assert issued["role"] == "agent" and issued["agent_id"] == "ana" and issued["created_at"].endswith("Z")
    policy = authorize(issued["api_key"])
    assert policy["principalId"] == f"{tenant.id}#{issued['key_id']}"
    assert policy["context"] == {"tenant_id": tenant.id, "role": "agent", "agent_id": "ana", "key_id": issued["key_id"],
                                 "expires_at": 0}  # a key: no expiry (a token's exp otherwise)
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Allow"

    status, keys = _admin("GET", "/keys", tenant)
    assert status == 200 and {k["role"] for k in keys} == {"admin", "agent"}
    assert all("api_key" not in k and "key_hash" not in k for k in keys)
    assert issued["api_key"] not in str(keys) and hash_api_key(issued["api_key"]) not in str(keys)

    status, rotated = _admin("POST", f"/keys/{issued['key_id']}/rotate", tenant)
    assert status == 200 and rotated["key_id"] == issued["key_id"] and rotated["api_key"] != issued["api_key"]
    assert rotated["role"] == "agent" and rotated["agent_id"] == "ana"
    with pytest.raises(Exception, match="Unauthorized"):
        authorize(issued["api_key"])  # the old secret stopped working
    assert authorize(rotated["api_key"])["context"]["agent_id"] == "ana"

    status, revoked = _admin("POST", f"/keys/{issued['key_id']}/revoke", tenant)
    assert status == 200 and revoked["revoked_at"] is not None
    with pytest.raises(Exception, match="Unauthorized"):
        authorize(rotated["api_key"])
    assert _admin("POST", f"/keys/{issued['key_id']}/revoke", tenant)[0] == 200  # idempotent
    assert _admin("POST", f"/keys/{issued['key_id']}/rotate", tenant)[0] == 409  # a revoked key stays revoked
    assert _admin("POST", "/keys/k_0123456789/revoke", tenant)[0] == 404


def test_keys_are_the_admins_and_roles_are_checked(tenant):
    for role in ("supervisor", "integration"):
        status, body = api("POST", "/keys", tenant.id, {"role": "admin"}, role=role)
        assert status == 403 and "needs role admin" in body["message"]
    status, body = api("GET", "/keys", tenant.id, role="agent", agent_id="ana")
    assert status == 403
    status, body = _admin("POST", "/keys", tenant, {"role": "agent"})
    assert status == 422 and body["field"] == "agent_id"
    status, body = _admin("POST", "/keys", tenant, {"role": "supervisor", "agent_id": "ana"})
    assert status == 422 and body["field"] == "agent_id"
    status, body = _admin("POST", "/keys", tenant, {"role": "root"})
    assert status == 422


def test_the_websocket_connect_request_is_answered_like_a_token(tenant, authorize):
    issued = admin.issue_api_key(dependencies(), tenant.id, role="supervisor", name="wallboard")
    expected = {"tenant_id": tenant.id, "role": "supervisor", "agent_id": "", "key_id": issued.key_id, "expires_at": 0}
    assert authorize(issued.api_key)["context"] == expected
    by_header = authorize("", "REQUEST", headers={"Authorization": f"Bearer {issued.api_key}"})
    by_query = authorize("", "REQUEST", query={"token": issued.api_key})
    assert by_header["context"] == by_query["context"] == expected
    assert by_query["principalId"] == f"{tenant.id}#{issued.key_id}"
    assert by_query["policyDocument"]["Statement"][0]["Resource"] == [WS_ARN]
    for bad in ({"query": {"token": "ck_nope"}}, {"headers": {"authorization": "Bearer "}}, {}):
        with pytest.raises(Exception, match="Unauthorized"):
            authorize("", "REQUEST", **bad)


def test_a_key_stored_before_roles_still_works_as_admin(tenant, authorize):
    legacy = f"ck_{tenant.id}_from-before-roles"
    dependencies().config.put_api_key(hash_api_key(legacy), tenant.id)
    policy = authorize(legacy)
    assert policy["context"]["tenant_id"] == tenant.id and policy["context"]["role"] == "admin"
    assert policy["context"]["key_id"].startswith("k_legacy") and policy["context"]["agent_id"] == ""
    assert admin.tenant_for_api_key(dependencies(), legacy) == tenant.id
    assert admin.tenant_for_api_key(dependencies(), tenant.key) == tenant.id  # register_tenant's admin key
    assert admin.credential_for_api_key(dependencies(), tenant.key).role == "admin"
