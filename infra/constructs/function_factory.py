"""ONE factory for every Lambda: functions/<folder>/handler.py -> handler.lambda_handler.

Each function gets its own role (no AWS managed policy: it may write only to its own log group), an
explicit log group with retention, X-Ray active tracing (unless `traced=False`: Powertools' Tracer is then
off too, so the handler never imports the X-Ray SDK), python3.13 on arm64, the two layers, and an
environment taken from ONE settings dict (only the names its spec needs) plus the Powertools basics.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import log_levels
from infra.constructs.layer import ARCHITECTURE, RUNTIME
from infra.function_specs import FunctionSpec
from infra.nag import acknowledge
from infra.naming import FUNCTIONS_DIR, HANDLER, construct_id

METRICS_NAMESPACE = "Ccaas"
_CODE_EXCLUDE = ["__pycache__", "**/__pycache__", "*.pyc", "**/*.pyc", ".pytest_cache"]


class FunctionFactory(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id_: str,
        *,
        layers: Sequence[lambda_.ILayerVersion],
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id_)
        self._layers = list(layers)
        self._log_retention = log_retention
        self._removal_policy = removal_policy
        self.functions: dict[str, lambda_.Function] = {}

    def create(self, folder: str, spec: FunctionSpec, settings: Mapping[str, str], *, traced: bool = True) -> lambda_.Function:
        """`settings` is the stack's one settings dict; the function gets exactly `spec.env_names`."""
        if folder in self.functions:
            raise ValueError(f"function {folder!r} created twice")
        missing = [name for name in spec.env_names if name not in settings]
        if missing:
            raise ValueError(f"{folder}: settings {missing} are not available yet (creation order / cycle?)")
        cid = construct_id(folder)
        code_dir = FUNCTIONS_DIR / folder
        if not (code_dir / "handler.py").is_file():
            raise FileNotFoundError(f"{code_dir}/handler.py not found")

        scope = Construct(self, cid)
        log_group = logs.LogGroup(
            scope,
            "Logs",
            retention=self._log_retention,
            removal_policy=self._removal_policy,
        )
        role = iam.Role(
            scope,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{folder} Lambda execution role",
        )
        # Instead of AWSLambdaBasicExecutionRole (logs on every log group): only this function's group.
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            )
        )

        environment = {name: settings[name] for name in spec.env_names}
        environment.update(
            POWERTOOLS_SERVICE_NAME=folder,
            POWERTOOLS_METRICS_NAMESPACE=METRICS_NAMESPACE,
            LOG_LEVEL=log_levels.LAMBDA_APPLICATION_LOG_LEVEL.value,
            # No pydantic plugins are used: without this the first model built scans every installed
            # distribution's entry points for them (~25 M instructions of each cold start).
            PYDANTIC_DISABLE_PLUGINS="__all__",
            # X-Ray keeps what Tracer records as metadata: a handler's whole answer (a customer's profile, a
            # transcript's text) or an exception's text is personal data outside the stores' retention and access.
            POWERTOOLS_TRACER_CAPTURE_RESPONSE="false",
            POWERTOOLS_TRACER_CAPTURE_ERROR="false",
        )
        if not traced:
            environment["POWERTOOLS_TRACE_DISABLED"] = "true"
        fn = lambda_.Function(
            scope,
            "Function",
            description=spec.description,
            code=lambda_.Code.from_asset(str(code_dir), exclude=_CODE_EXCLUDE),
            handler=HANDLER,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_s),
            tracing=lambda_.Tracing.ACTIVE if traced else lambda_.Tracing.DISABLED,
            log_group=log_group,
            logging_format=log_levels.LAMBDA_LOG_FORMAT,
            system_log_level_v2=log_levels.LAMBDA_SYSTEM_LOG_LEVEL,
            application_log_level_v2=log_levels.LAMBDA_APPLICATION_LOG_LEVEL,
            role=role,
            layers=self._layers,
            environment=environment,
        )
        if traced:  # active tracing adds xray:PutTraceSegments/PutTelemetryRecords on "*" to the role's policy
            acknowledge(
                role.node.find_child("DefaultPolicy"),
                "AwsSolutions-IAM5",
                "X-Ray PutTraceSegments/PutTelemetryRecords (added by active tracing) support no resource-level "
                "permissions (IAM service authorization reference): Resource must be '*'.",
                findings=["Resource::*"],
            )
        acknowledge(
            fn,
            "AwsSolutions-L1",
            "python3.13 is pinned on purpose: it must match the AWS-published Powertools layer build we pin "
            "(python3.13/arm64 3.37.0) and the runtime the shared layer is tested on; moving the runtime "
            "is a deliberate, tested change.",
        )
        self.functions[folder] = fn
        return fn

    def allow_task_responses(self, folder: str) -> None:
        """states:SendTaskSuccess/SendTaskFailure, in a policy of their own so the '*' suppression
        covers exactly these two actions."""
        fn = self.functions[folder]
        policy = iam.Policy(
            fn.node.scope,  # the function's own scope
            "TaskTokenPolicy",
            statements=[
                iam.PolicyStatement(
                    actions=["states:SendTaskSuccess", "states:SendTaskFailure"],
                    resources=["*"],
                )
            ],
            roles=[fn.role],
        )
        acknowledge(
            policy,
            "AwsSolutions-IAM5",
            "states:SendTaskSuccess and states:SendTaskFailure have no resource types in the IAM service "
            "authorization reference (the task token is the capability), so Resource must be '*'. Only "
            "these two actions are in this policy.",
            findings=["Resource::*"],
        )
