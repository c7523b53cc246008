"""manage_connection's $connect, on moto, reads the credential again by the key the request presented (its query
string `token`, or `Authorization`), as authorize_request read it: a key rotated or revoked between the
authorizer's answer and the stored connection refuses the socket (an outside probe kept sockets of a rotated
supervisor key open, receiving queue metrics: the read after storing looked at `revoked_at` only)."""
from __future__ import annotations

import pytest

from ccaas.bootstrap import dependencies
from ccaas.usecases import admin
from tests.lambda_harness import context, load_handler

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]

WS_ARN = "arn:aws:execute-api:us-east-1:123456789012:ws0123/v1/$connect"


@pytest.fixture
def handshake(env):
    """(connection id, headers, query) -> manage_connection's answer to $connect after authorize_request's, as
    API Gateway runs them (the authorizer's context handed on); None when the authorizer refused."""

    def run(connection_id: str, headers: dict | None = None, query: dict | None = None) -> dict | None:
        request = {"headers": headers or {}, "queryStringParameters": query}
        try:
            env("authorize_request")
            try:
                answer = load_handler("authorize_request")(
                    {"type": "REQUEST", "methodArn": WS_ARN, **request, "requestContext": {"eventType": "CONNECT"}},
                    context("authorize"))
            except Exception:  # noqa: BLE001 - "Unauthorized"
                return None
            # API Gateway hands the context on with its values as strings.
            authorizer = {**{k: str(v) for k, v in answer["context"].items()}, "principalId": answer["principalId"]}
            env("manage_connection")
            event = {"requestContext": {"routeKey": "$connect", "eventType": "CONNECT", "connectionId": connection_id,
                                        "stage": "v1", "authorizer": authorizer}, **request, "isBase64Encoded": False}
            return load_handler("manage_connection")(event, context("manage_connection"))
        finally:
            env("serve_api")

    return run


@pytest.mark.parametrize("role,agent_id", [("supervisor", None), ("agent", "ana")])
@pytest.mark.parametrize("replace", ["rotate_api_key", "revoke_api_key"])
def test_a_key_replaced_after_the_authorizer_answered_refuses_the_socket(tenant, handshake, monkeypatch, role,
                                                                         agent_id, replace):
    issued = admin.issue_api_key(dependencies(), tenant.id, role=role, agent_id=agent_id)
    replaced = []
    # The rotation (or revoke) runs once the authorizer has answered, before manage_connection stores the row.
    import ccaas.usecases.push as push_usecase

    open_connection = push_usecase.open_connection

    def replaced_first(*args, **kwargs):
        if not replaced:
            replaced.append(getattr(admin, replace)(dependencies(), tenant.id, issued.key_id))
        return open_connection(*args, **kwargs)

    monkeypatch.setattr(push_usecase, "open_connection", replaced_first)
    answer = handshake("old-1=", query={"token": issued.api_key})
    assert answer is not None and answer["statusCode"] == 403, answer
    assert dependencies().connections.get(tenant.id, "old-1=") is None
    monkeypatch.undo()
    if replace == "rotate_api_key":  # the new secret opens a socket; the old one no longer passes the authorizer
        fresh = replaced[0].api_key
        assert handshake("new-1=", query={"token": fresh}) == {"statusCode": 200}
        assert handshake("old-2=", query={"token": issued.api_key}) is None


def test_with_both_the_header_and_the_token_the_header_is_the_key_read_both_times(tenant, handshake):
    """The authorizer reads `Authorization` first; $connect reads the same one back (a valid header with any token
    opens the socket; the token of a live key does not save a revoked header key)."""
    header_key = admin.issue_api_key(dependencies(), tenant.id, role="supervisor")
    token_key = admin.issue_api_key(dependencies(), tenant.id, role="supervisor")
    answer = handshake("both-1=", headers={"Authorization": f"Bearer {header_key.api_key}"},
                       query={"token": token_key.api_key})
    assert answer == {"statusCode": 200}
    assert dependencies().connections.get(tenant.id, "both-1=").key_id == header_key.key_id
    admin.revoke_api_key(dependencies(), tenant.id, header_key.key_id)
    assert handshake("both-2=", headers={"Authorization": f"Bearer {header_key.api_key}"},
                     query={"token": token_key.api_key}) is None
