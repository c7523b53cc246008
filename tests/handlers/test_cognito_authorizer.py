"""The authorizer with people's Cognito tokens (TOKEN and REQUEST events) next to API keys, on the stack
deployed into moto: a valid ID token gives the same context shape as a key (key_id "jwt:<sub>"); invalid
ones are "Unauthorized"; without a user pool configured (the local deployment: no https issuer) every JWT
is refused and keys keep working. The pool's key set is injected through the SigningKeys port."""
from __future__ import annotations

import time

import pytest

from ccaas.adapters.aws import jwks
from ccaas.adapters.aws.jwks import TokenVerifier
from ccaas.adapters.memory.jwks import StaticSigningKeys
from ccaas.usecases import admin
from tests.lambda_harness import context, load_module
from tests.unit.test_jwt_credentials import CLIENT, ISSUER, JWKS, OTHER_KEY, token

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]

REST_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/v1/GET/contacts/x"
WS_ARN = "arn:aws:execute-api:us-east-1:123456789012:ws0123/v1/$connect"


def _event(secret: str, kind: str = "TOKEN") -> dict:
    if kind == "TOKEN":
        return {"type": "TOKEN", "authorizationToken": f"Bearer {secret}", "methodArn": REST_ARN}
    return {"type": "REQUEST", "methodArn": WS_ARN, "headers": {}, "queryStringParameters": {"token": secret},
            "requestContext": {"eventType": "CONNECT"}}


@pytest.fixture
def authorizer(env, monkeypatch):
    """The handler module, with the user pool's verifier given the test key set (in its function's environment:
    a test asks for its tenant first, made as the API makes it)."""
    env("authorize_request")
    module = load_module("authorize_request")
    verifier = TokenVerifier(StaticSigningKeys(JWKS), issuer=ISSUER, client_id=CLIENT)
    monkeypatch.setattr(module, "user_tokens", lambda: verifier)
    yield module
    env("serve_api")


def test_a_valid_id_token_is_authorized_with_the_same_context_shape_as_a_key(tenant, authorizer):
    claims = {"custom:tenant_id": tenant.id, "cognito:groups": ["agent"], "custom:agent_id": "ana", "sub": "u-1"}
    policy = authorizer.lambda_handler(_event(token(**claims)), context("authorize"))
    assert policy["principalId"] == f"{tenant.id}#jwt:u-1"
    expires_at = policy["context"].pop("expires_at")  # the token's exp: what a socket opened with it lasts
    assert policy["context"] == {"tenant_id": tenant.id, "role": "agent", "agent_id": "ana", "key_id": "jwt:u-1"}
    assert 0 < expires_at - time.time() <= 3600 + 5
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    # The WebSocket $connect: the token in ?token=, the policy names exactly the route asked about.
    ws = authorizer.lambda_handler(_event(token(**claims), "REQUEST"), context("authorize"))
    assert ws["context"]["role"] == "agent" and ws["policyDocument"]["Statement"][0]["Resource"] == [WS_ARN]
    supervisor = authorizer.lambda_handler(_event(token(**{"custom:tenant_id": tenant.id})), context("authorize"))
    assert supervisor["context"] == {"tenant_id": tenant.id, "role": "supervisor", "agent_id": "", "key_id": "jwt:5f1c-77aa",
                                     "expires_at": supervisor["context"]["expires_at"]}


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param({"exp_in": -60}, id="expired"),
        pytest.param({"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"}, id="wrong issuer"),
        pytest.param({"aud": "another-client"}, id="wrong audience"),
        pytest.param({"key": OTHER_KEY}, id="bad signature"),
        pytest.param({"drop": ("custom:tenant_id",)}, id="missing tenant"),
        pytest.param({"cognito:groups": ["admin", "agent"], "custom:agent_id": "ana"}, id="two roles"),
        pytest.param({"cognito:groups": ["agent"]}, id="agent without agent_id"),
    ],
)
@pytest.mark.parametrize("kind", ["TOKEN", "REQUEST"])
def test_invalid_tokens_are_unauthorized(tenant, authorizer, logs, bad, kind):
    jwt_ = token(**{"custom:tenant_id": tenant.id, **bad})
    with pytest.raises(Exception, match="Unauthorized"):
        authorizer.lambda_handler(_event(jwt_, kind), context("authorize"))
    assert jwt_ not in logs.text() and "invalid user token" in logs.text()  # never the token itself


def test_api_keys_still_work_next_to_tokens(tenant, authorizer):
    issued = admin.issue_api_key(__import__("ccaas.bootstrap", fromlist=["dependencies"]).dependencies(), tenant.id, role="supervisor")
    policy = authorizer.lambda_handler(_event(issued.api_key), context("authorize"))
    assert policy["context"]["role"] == "supervisor" and policy["context"]["key_id"] == issued.key_id
    assert policy["context"]["expires_at"] == 0  # a key lasts until it is revoked
    with pytest.raises(Exception, match="Unauthorized"):
        authorizer.lambda_handler(_event("ck_unknown_key"), context("authorize"))


def test_without_a_user_pool_tokens_are_refused_and_keys_work(env, tenant):
    env("authorize_request")  # the moto deployment: the pool is skipped, its issuer is no https URL
    try:
        module = load_module("authorize_request")
        assert module.user_tokens() is None
        with pytest.raises(Exception, match="Unauthorized"):
            module.lambda_handler(_event(token(**{"custom:tenant_id": tenant.id})), context("authorize"))
        assert module.lambda_handler(_event(tenant.key), context("authorize"))["context"]["tenant_id"] == tenant.id
    finally:
        env("serve_api")


def test_a_configured_pool_fetches_its_key_set_once_per_cold_start(env, tenant, monkeypatch):
    fetched = []
    monkeypatch.setattr(jwks, "_fetch_json", lambda url: fetched.append(url) or JWKS)
    env("authorize_request")
    monkeypatch.setenv("USER_POOL_ISSUER", ISSUER)
    monkeypatch.setenv("USER_POOL_CLIENT_ID", CLIENT)
    try:
        module = load_module("authorize_request")
        for _ in range(3):
            policy = module.lambda_handler(_event(token(**{"custom:tenant_id": tenant.id})), context("authorize"))
            assert policy["context"]["tenant_id"] == tenant.id
        assert fetched == [ISSUER + "/.well-known/jwks.json"]
    finally:
        env("serve_api")
