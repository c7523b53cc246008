"""API Gateway Lambda authorizer: an API key names a tenant, a role and (agent keys) an agent.

Two event shapes, one answer:
- TOKEN (the REST API): `Authorization: Bearer <key>`;
- REQUEST (the WebSocket API's $connect): the key in the `Authorization` header (Bearer or bare) or in
  the query string `token` (browsers cannot set headers on a WebSocket).
The context is {"tenant_id", "role", "agent_id" ("" when none), "key_id"}; principalId is
tenant_id#key_id. Unknown or revoked keys: "Unauthorized" (401). The REST policy allows every route of
the API's stage (API Gateway caches it per key for the authorizer's TTL; the role check per route is
the API's own, ccaas.api.access); a WebSocket policy allows the $connect it was asked about.
"""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerResponse,
    parse_api_gateway_arn,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from ccaas.bootstrap import dependencies
from ccaas.usecases.admin import credential_for_api_key

logger = Logger()
tracer = Tracer()


def _bare(value: str | None) -> str:
    value = (value or "").strip()
    return value[7:].strip() if value.lower().startswith("bearer ") else value


def api_key_of(event: dict[str, Any]) -> str:
    if event.get("type") == "REQUEST":
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        query = event.get("queryStringParameters") or {}
        return _bare(headers.get("authorization")) or _bare(query.get("token"))
    return _bare(event.get("authorizationToken"))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict:
    api_key = api_key_of(event)
    credential = credential_for_api_key(dependencies(), api_key) if api_key else None
    if credential is None:
        logger.info("unknown or revoked API key", extra={"event_type": event.get("type")})  # never the key itself
        raise Exception("Unauthorized")  # API Gateway's contract for a 401
    logger.append_keys(tenant_id=credential.tenant_id, role=credential.role.value, key_id=credential.key_id)
    claims = {"tenant_id": credential.tenant_id, "role": credential.role.value,
              "agent_id": credential.agent_id or "", "key_id": credential.key_id}
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
