"""API Gateway TOKEN authorizer: the API key (Authorization: Bearer <key>) names the tenant."""
from __future__ import annotations

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerResponse,
    APIGatewayAuthorizerTokenEvent,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from ccaas.bootstrap import dependencies
from ccaas.usecases.admin import tenant_for_api_key

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_source(data_class=APIGatewayAuthorizerTokenEvent)
def lambda_handler(event: APIGatewayAuthorizerTokenEvent, context: LambdaContext) -> dict:
    token = (event.authorization_token or "").strip()
    api_key = token[7:].strip() if token.lower().startswith("bearer ") else token
    tenant_id = tenant_for_api_key(dependencies(), api_key) if api_key else None
    if tenant_id is None:
        logger.info("unknown API key")  # never log the key itself
        raise Exception("Unauthorized")  # API Gateway's contract for a 401
    arn = event.parsed_arn
    policy = APIGatewayAuthorizerResponse(
        principal_id=tenant_id,
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
        context={"tenant_id": tenant_id},
    )
    # One cached policy serves every route of this tenant.
    policy.allow_all_routes()
    return policy.asdict()
