"""API Gateway Lambda authorizer: an API key or a person's user-pool token names a tenant, a role and
(agents) an agent.

Two event shapes, one answer:
- TOKEN (the REST API): `Authorization: Bearer <key or JWT>`;
- REQUEST (the WebSocket API's $connect): the key or JWT in the `Authorization` header (Bearer or bare)
  or in the query string `token` (browsers cannot set headers on a WebSocket).
A JWT (three dot-separated parts) is a Cognito user-pool token: verified (RS256, the pool's JWKS, issuer,
app client, token_use, expiry) and mapped from its claims (ccaas.domain.tenants.credential_from_claims;
key_id "jwt:<sub>"). Without a user pool configured (USER_POOL_ISSUER / USER_POOL_CLIENT_ID unset, or
not an https issuer as in the local runtime) every JWT is refused; API keys work either way.
The context is {"tenant_id", "role", "agent_id" ("" when none), "key_id", "expires_at" (a user token's
`exp`, 0 for an API key)}; principalId is
tenant_id#key_id. Unknown or revoked keys, invalid tokens: "Unauthorized" (401). The REST policy allows every route of
the API's stage (API Gateway caches it per key for the authorizer's TTL; the role check per route is
the API's own, ccaas.api.access); a WebSocket policy allows the $connect it was asked about.
"""
from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerResponse,
    parse_api_gateway_arn,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from ccaas.bootstrap import dependencies
from ccaas.domain.presented import presented_secret
from ccaas.usecases.admin import credential_for_api_key, credential_for_user_token
from ccaas.logs import handler_logger
from ccaas.tracing import lambda_tracer

if TYPE_CHECKING:
    from ccaas.adapters.aws.jwks import TokenVerifier

logger = handler_logger()  # Powertools' Logger (ccaas.logs: no root filter by name)
tracer = lambda_tracer()  # X-Ray only when tracing is on (ccaas.tracing)

# infra.function_specs (verify_user_tokens) sets them from infra/constructs/identity.py.
USER_POOL_ISSUER_ENV = "USER_POOL_ISSUER"  # https://cognito-idp.<region>.amazonaws.com/<pool id>
USER_POOL_CLIENT_ID_ENV = "USER_POOL_CLIENT_ID"


@cache
def user_tokens() -> TokenVerifier | None:
    """The user pool's token verifier (its key set fetched on first use, kept for the cold start), or
    None when no pool is configured."""
    issuer, client_id = os.environ.get(USER_POOL_ISSUER_ENV, ""), os.environ.get(USER_POOL_CLIENT_ID_ENV, "")
    if not issuer.startswith("https://") or not client_id:
        return None
    from ccaas.adapters.aws.jwks import PoolSigningKeys, TokenVerifier

    return TokenVerifier(PoolSigningKeys(issuer), issuer=issuer, client_id=client_id)


def _is_jwt(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("eyJ")  # API keys are ck_<tenant>_<secret>


def api_key_of(event: dict[str, Any]) -> str:
    """The key or token the caller presented, by the one definition $connect reads it back with
    (ccaas.domain.presented.presented_secret): a TOKEN event's `authorizationToken` is its Authorization header."""
    if event.get("type") == "REQUEST":
        return presented_secret(event.get("headers"), event.get("queryStringParameters"))
    return presented_secret({"authorization": event.get("authorizationToken") or ""}, None)


@logger.inject_lambda_context(clear_state=True)  # a refused call never logs the previous caller's keys
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict:
    secret = api_key_of(event)
    if _is_jwt(secret):
        credential = credential_for_user_token(user_tokens(), secret)
        refused = "invalid user token" if user_tokens() else "user token without a user pool configured"
    else:
        credential = credential_for_api_key(dependencies(), secret) if secret else None
        refused = "unknown or revoked API key"
    if credential is None:
        logger.info(refused, extra={"event_type": event.get("type")})  # never the key or token itself
        raise Exception("Unauthorized")  # API Gateway's contract for a 401
    logger.append_keys(tenant_id=credential.tenant_id, role=credential.role.value, key_id=credential.key_id)
    claims = {"tenant_id": credential.tenant_id, "role": credential.role.value,
              "agent_id": credential.agent_id or "", "key_id": credential.key_id,
              "expires_at": credential.expires_at or 0}  # a user token's exp: what a socket opened with it lasts
    principal = f"{credential.tenant_id}#{credential.key_id}"
    method_arn = event["methodArn"]
    websocket = (event.get("requestContext") or {}).get("eventType") == "CONNECT" or method_arn.count("/") < 3
    if websocket:
        # arn:aws:execute-api:<region>:<account>:<api>/<stage>/$connect: exactly the route asked about.
        statement = {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": [method_arn]}
        return {"principalId": principal, "context": claims,
                "policyDocument": {"Version": "2012-10-17", "Statement": [statement]}}
    arn = parse_api_gateway_arn(method_arn)
    policy = APIGatewayAuthorizerResponse(
        principal_id=principal, region=arn.region, aws_account_id=arn.aws_account_id, api_id=arn.api_id,
        stage=arn.stage, context=claims,
    )
    # One cached policy serves every route of this API stage; what the role may call is the API's check.
    policy.allow_all_routes()
    return policy.asdict()
