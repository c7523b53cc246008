"""WebSocket routes: $connect stores the connection, $disconnect deletes it, $default answers frames.

The tenant, role and agent are the authorizer's (authorize_request at $connect; API Gateway hands its
context to every later route of the connection), never a frame's. $default's reply is the route
response (the route returns responses): pong, subscribed, or an error frame; the connection stays.
"""
from __future__ import annotations

import json

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from ccaas.bootstrap import dependencies
from ccaas.domain.push import ConnectionRefused, SocketEvent
from ccaas.usecases.push import connect, disconnect, handle_frame
from ccaas.tracing import lambda_tracer

logger = Logger()
tracer = lambda_tracer()  # X-Ray only when tracing is on (ccaas.tracing)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_parser(model=SocketEvent)
def lambda_handler(event: SocketEvent, context: LambdaContext) -> dict:
    ctx = event.request_context
    identity = ctx.authorizer
    logger.append_keys(tenant_id=identity.tenant_id, route=ctx.route_key, role=identity.role)
    if ctx.route_key == "$connect":
        try:
            connect(dependencies(), identity, ctx.connection_id)
        except ConnectionRefused as exc:
            logger.info("socket refused", extra={"reason": str(exc)})
            return {"statusCode": 403, "body": json.dumps({"error": "forbidden", "message": str(exc)})}
        return {"statusCode": 200}
    if ctx.route_key == "$disconnect":
        disconnect(dependencies(), identity, ctx.connection_id)
        return {"statusCode": 200}
    reply = handle_frame(dependencies(), identity, ctx.connection_id, event.frame())
    return {"statusCode": 200, "body": json.dumps(reply, separators=(",", ":"))}
