"""WebSocket routes: $connect stores the connection, $disconnect deletes it, $default answers frames.

The tenant, role and agent are the authorizer's (authorize_request at $connect; API Gateway hands its
context to every later route of the connection), never a frame's. $default's reply is the route
response (the route returns responses): pong, subscribed, or an error frame; the connection stays.
$connect closes the sockets it evicts (a key over its bound) through the management API of the stage the
socket came in on (the event's domain and stage; this function has no WEBSOCKET_ENDPOINT setting), and reads the
credential again by the key or token the request presented (its headers and query string), as the authorizer did:
a key revoked or rotated between the authorizer's answer and the stored connection refuses the socket.
"""
from __future__ import annotations

import json
import os
from functools import cache
from typing import TYPE_CHECKING

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from ccaas.bootstrap import dependencies
from ccaas.domain.push import ConnectionRefused, SocketEvent, SocketRequestContext
from ccaas.usecases.push import connect, disconnect, handle_frame
from ccaas.logs import handler_logger
from ccaas.tracing import lambda_tracer

if TYPE_CHECKING:
    from ccaas.ports import PushChannel

logger = handler_logger()  # Powertools' Logger (ccaas.logs: no root filter by name)
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
            connect(dependencies(), identity, ctx.connection_id, channel=lambda: _closer(ctx), secret=event.secret())
        except ConnectionRefused as exc:
            logger.info("socket refused", extra={"reason": str(exc)})
            return {"statusCode": 403, "body": json.dumps({"error": "forbidden", "message": str(exc)})}
        return {"statusCode": 200}
    if ctx.route_key == "$disconnect":
        disconnect(dependencies(), identity, ctx.connection_id)
        return {"statusCode": 200}
    reply = handle_frame(dependencies(), identity, ctx.connection_id, event.frame())
    return {"statusCode": 200, "body": json.dumps(reply, separators=(",", ":"))}


def _closer(ctx: SocketRequestContext) -> PushChannel | None:
    """Made only when a $connect evicts a socket: most make no management client."""
    endpoint = ctx.management_endpoint(os.environ.get("AWS_REGION", ""))
    return _management_api(endpoint) if endpoint else None


def _management_api(endpoint: str) -> PushChannel:
    """DeleteConnection on `endpoint`. The local runtime's emulation of the management API
    (AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI) wins, as for the push consumer (ccaas.bootstrap)."""
    return _channel_at(os.environ.get("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI") or endpoint)


@cache
def _channel_at(url: str) -> PushChannel:
    """One client per endpoint, on the function's boto3 session."""
    from ccaas.adapters.aws.push import ApiGatewayPushChannel

    return ApiGatewayPushChannel(dependencies().session.client("apigatewaymanagementapi", endpoint_url=url))
