"""WebSocket API: push to agents and supervisors (offers, contact states, queue metrics).

$connect is authorized by the same Lambda as the REST API (authorize_request, a REQUEST authorizer:
WebSocket APIs take no TOKEN authorizers) and every route goes to manage_connection, which may DELETE this
stage's @connections (a $connect evicts a key's oldest sockets over its bound); the pushing functions
(push_updates, ...) may POST and DELETE there only. Stage v1: access logs (JSON), throttling.

Built in two steps because of creation order: the API and stage first (push_updates needs the stage's
callback URL in its environment when the factory creates it), the routes once the functions exist.
"""
from __future__ import annotations

import jsii
from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.nag import acknowledge

STAGE_NAME = "v1"
# Browsers cannot set headers on a WebSocket: the key travels as ?token=<key>. A client that can send
# `Authorization: Bearer <key>` sends it as well as (or instead of) the token; API Gateway answers 401
# without calling the authorizer when an identity source is missing, so only the query string is one.
IDENTITY_SOURCES = ["route.request.querystring.token"]
THROTTLE_RATE = 50  # messages/s for the stage (frames in: pings and subscribes)
THROTTLE_BURST = 100
ROUTES = ("$connect", "$disconnect", "$default")


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogs:
    def __init__(self, group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(group)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return apigw.AccessLogFormat.custom(
            '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime",'
            '"routeKey":"$context.routeKey","eventType":"$context.eventType","status":"$context.status",'
            '"connectionId":"$context.connectionId","tenant":"$context.authorizer.tenant_id",'
            '"error":"$context.error.message","integrationError":"$context.integration.error"}'
        )


class WebSocket(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.api = apigwv2.WebSocketApi(
            self,
            "Api",
            api_name=f"{Stack.of(self).stack_name}-push",
            description="Push to agents (offers, contact states) and supervisors (queue metrics)",
        )
        access_logs = logs.LogGroup(self, "AccessLogs", retention=log_retention, removal_policy=removal_policy)
        self.stage = apigwv2.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.api,
            stage_name=STAGE_NAME,
            auto_deploy=True,
            access_log_settings=_AccessLogs(access_logs),
            throttle=apigwv2.ThrottleSettings(rate_limit=THROTTLE_RATE, burst_limit=THROTTLE_BURST),
        )
        self.routes: dict[str, apigwv2.WebSocketRoute] = {}

    @property
    def url(self) -> str:
        """wss://<api>.execute-api.<region>.amazonaws.com/v1 (clients connect here)."""
        return self.stage.url

    @property
    def endpoint(self) -> str:
        """https://<api>.execute-api.<region>.amazonaws.com/v1 (the management API: PostToConnection)."""
        return self.stage.callback_url

    def add_routes(self, *, handler: lambda_.Function, authorizer_handler: lambda_.IFunction) -> None:
        integration = integrations.WebSocketLambdaIntegration("Connection", handler)
        authorizer = authorizers.WebSocketLambdaAuthorizer(
            "Authorizer", authorizer_handler, identity_source=IDENTITY_SOURCES
        )
        self.routes["$connect"] = self.api.add_route("$connect", integration=integration, authorizer=authorizer)
        self.routes["$disconnect"] = self.api.add_route("$disconnect", integration=integration)
        # return_response: the handler's body (pong, subscribed, error frame) goes back to the client.
        self.routes["$default"] = self.api.add_route("$default", integration=integration, return_response=True)
        for key in ("$disconnect", "$default"):
            acknowledge(
                self.routes[key],
                "AwsSolutions-APIG4",
                f"{key}: API Gateway WebSocket APIs authorize only the $connect route; later routes of a "
                "connection run with the context $connect's authorizer returned (tenant, role, agent).",
            )
        # $connect closes the sockets it evicts (DeleteConnection); it never posts (its replies are route responses).
        self._allow_connections(handler, ("DELETE",), "DeleteConnection names the connection in the resource "
                                "(@connections/<connection id>); ids are minted per client by API Gateway, so the grant "
                                "is this API's v1 stage, DELETE only, any connection.")

    def allow_push(self, fn: lambda_.Function) -> None:
        """execute-api:ManageConnections for POST @connections (PostToConnection) and DELETE (DeleteConnection: a
        socket whose credential expired or was revoked is closed) on this API's stage only."""
        self._allow_connections(
            fn, ("POST", "DELETE"),
            "PostToConnection and DeleteConnection name the connection in the resource (@connections/<connection id>); "
            "ids are minted per client by API Gateway, so the grant is this API's v1 stage, POST and DELETE, any connection.")

    def _allow_connections(self, fn: lambda_.Function, methods: tuple[str, ...], reason: str) -> None:
        stack = Stack.of(self)
        arns = [stack.format_arn(service="execute-api", resource=self.api.api_id,
                                 resource_name=f"{STAGE_NAME}/{method}/@connections/*") for method in methods]
        iam.Grant.add_to_principal(grantee=fn, actions=["execute-api:ManageConnections"], resource_arns=arns)
        assert fn.role is not None
        api = stack.get_logical_id(self.api.node.default_child)
        acknowledge(
            fn.role.node.find_child("DefaultPolicy"),
            "AwsSolutions-IAM5",
            reason,
            findings=[f"Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<{api}>/{STAGE_NAME}/{method}/@connections/*"
                      for method in methods],
        )
