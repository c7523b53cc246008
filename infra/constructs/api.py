"""REST API: one Lambda proxy (serve_api) behind a TOKEN authorizer (authorize_request).

GET /openapi.json and GET /swagger are public (API docs); everything else is /{proxy+} ANY with the
authorizer. Stage v1: access logs (JSON), execution logs at INFO, X-Ray (sampled by the stage's own rule),
throttling defaults. API Gateway's own 4xx answers (401/403 from the authorizer) carry the API's error body.
"""
from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_xray as xray
from constructs import Construct

from infra import log_levels
from infra.nag import acknowledge

STAGE_NAME = "v1"
PUBLIC_DOC_PATHS = ("openapi.json", "swagger")
THROTTLE_RATE = 100  # requests/s per stage (a default; usage plans can narrow per tenant later)
THROTTLE_BURST = 200
# X-Ray for the stage's requests (and what they call: the authorizer, serve_api, the workflows they start):
# 5 % of them and no reservoir. X-Ray's default rule records the first request each second before its 5 %,
# which at a contact center's ~1-10 requests a second keeps most of them (bench/cost_model.xray_traces).
TRACE_RESERVOIR_PER_S = 0
TRACE_RATE = 0.05
TRACE_RULE_PRIORITY = 9000  # after the account's own rules (lower numbers first), before the default (10000)
# API Gateway's own 4xx answers (the authorizer's 401/403, throttling, an unknown path) in the API's error body,
# {"error", "message"} (ccaas.api.errors.ErrorBody), which the OpenAPI document gives for every 401 and 403; its default
# bodies were {"message"} and {"Message"}. Templates are plain substitution (no VTL): `messageString` is quoted JSON.
GATEWAY_ERROR_CODES = {
    apigw.ResponseType.UNAUTHORIZED: "unauthorized",
    apigw.ResponseType.ACCESS_DENIED: "forbidden",
    apigw.ResponseType.DEFAULT_4_XX: "$context.error.responseType",  # e.g. THROTTLED, MISSING_AUTHENTICATION_TOKEN
}


def gateway_error_template(code: str) -> str:
    return '{"error":"' + code + '","message":$context.error.messageString}'


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: lambda_.IFunction,
        authorizer_handler: lambda_.IFunction,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
        sampling_rule_name: str,
    ) -> None:
        super().__init__(scope, construct_id)

        access_logs = logs.LogGroup(self, "AccessLogs", retention=log_retention, removal_policy=removal_policy)
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            description="Contact center API (tenant from the authorizer, never from the body)",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=True,  # execution logging needs the account-level CloudWatch role
            cloud_watch_role_removal_policy=removal_policy,
            deploy=True,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE_NAME,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
                logging_level=log_levels.REST_EXECUTION_LOG_LEVEL,
                data_trace_enabled=False,  # request/response bodies carry customer data
                metrics_enabled=True,
                tracing_enabled=True,
                throttling_rate_limit=THROTTLE_RATE,
                throttling_burst_limit=THROTTLE_BURST,
            ),
        )

        xray.CfnSamplingRule(self, "TraceSampling", sampling_rule=xray.CfnSamplingRule.SamplingRuleProperty(
            rule_name=sampling_rule_name, priority=TRACE_RULE_PRIORITY, version=1,
            reservoir_size=TRACE_RESERVOIR_PER_S, fixed_rate=TRACE_RATE,
            resource_arn=self.rest_api.deployment_stage.stage_arn, service_type="AWS::ApiGateway::Stage",
            service_name="*", host="*", http_method="*", url_path="*",
        ))

        for response_type, code in GATEWAY_ERROR_CODES.items():
            self.rest_api.add_gateway_response(
                f"GatewayResponse{response_type.response_type}", type=response_type,
                templates={"application/json": gateway_error_template(code)},
            )

        # RestApi adds its own "Endpoint" output; the stack exports one ApiUrl instead.
        self.rest_api.node.try_remove_child("Endpoint")

        self.authorizer = apigw.TokenAuthorizer(
            self,
            "Authorizer",
            handler=authorizer_handler,
            identity_source=apigw.IdentitySource.header("Authorization"),
            results_cache_ttl=Duration.seconds(300),
        )

        # allow_test_invoke=False: no extra Lambda permissions for the console's test-invoke stage.
        integration = apigw.LambdaIntegration(handler, proxy=True, allow_test_invoke=False)

        self.public_methods: list[apigw.Method] = []
        for path in PUBLIC_DOC_PATHS:
            method = self.rest_api.root.add_resource(path).add_method(
                "GET", integration, authorization_type=apigw.AuthorizationType.NONE
            )
            self.public_methods.append(method)
            acknowledge(
                method,
                "AwsSolutions-APIG4",
                f"GET /{path} serves the public API documentation (OpenAPI schema / Swagger UI) and no "
                "tenant data; it must be readable without credentials.",
            )
            acknowledge(
                method,
                "AwsSolutions-COG4",
                f"GET /{path} is intentionally public (API documentation, see APIG4): no authorizer at all.",
            )

        # A plain resource, not root.add_proxy(): ProxyResource also adds the method to "/" - and
        # without the authorizer. There is no root method on purpose.
        self.proxy = self.rest_api.root.add_resource("{proxy+}")
        self.proxy_method = self.proxy.add_method(
            "ANY",
            integration,
            authorizer=self.authorizer,
            authorization_type=apigw.AuthorizationType.CUSTOM,
        )
        acknowledge(
            self.proxy_method,
            "AwsSolutions-COG4",
            "Callers are tenant systems with API keys and people with Cognito user-pool tokens: one Lambda "
            "TOKEN authorizer (authorize_request) checks either (the key against ConfigTable; the JWT's "
            "signature, issuer, client and expiry against the pool) and returns the same tenant/role context, "
            "which a COGNITO_USER_POOLS authorizer could not do for API keys.",
        )
        acknowledge(
            self.rest_api,
            "AwsSolutions-APIG2",
            "Requests are validated in the Lambda proxy (Powertools APIGatewayRestResolver with pydantic "
            "models, the same models that generate /openapi.json); API Gateway models would be a second "
            "source of truth.",
        )
        acknowledge(
            self.rest_api.node.find_child("CloudWatchRole"),
            "AwsSolutions-IAM4",
            "The API Gateway account CloudWatch role uses AmazonAPIGatewayPushToCloudWatchLogs, the "
            "AWS-maintained policy for exactly this purpose (required for execution logging).",
            findings=["Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"],
        )
        acknowledge(
            self.rest_api.deployment_stage,
            "AwsSolutions-APIG3",
            "No WAFv2 web ACL in this stack yet: every non-doc route needs a valid tenant API key "
            "(authorizer, cached 300 s) and the stage is throttled; a web ACL is an edge/account concern "
            "attached per environment.",
        )

    @property
    def url(self) -> str:
        return self.rest_api.url
