"""State machines from statemachines/*.asl.json: the ASL files are the truth.

The definition is inlined (DefinitionBody.from_string) so template assertions, cfn-lint and the local
runtime all see it; placeholders are filled by CloudFormation DefinitionSubstitutions. The loader
(infra.asl) fails synth when the ASL's ${Placeholders} and the substitutions differ either way, or
when the state graph is broken, or when an Express machine's worst case (retries and waits included, with its
functions' timeouts) is over the 5 minutes an Express execution may run. Raw ASL gets no automatic IAM grants:
invoke is granted per function.
"""
from __future__ import annotations

import json
from collections.abc import Mapping

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import asl, log_levels
from infra.nag import acknowledge
from infra.naming import function_arn_placeholder, state_machine_file

LAMBDA_DEFAULT_TIMEOUT_S = 3  # a function created without a timeout


class AslStateMachine(Construct):
    """One state machine from statemachines/<snake name>.asl.json: Standard, or Express with `express=True`
    (at-least-once, under 5 minutes, billed by duration instead of per state transition).

    `functions`: folder -> function, for every ${<Folder>FunctionArn} the ASL references (each gets
    lambda:InvokeFunction). `values`: any other placeholders (e.g. table names), name -> value.
    """

    def __init__(
        self,
        scope: Construct,
        name: str,
        *,
        functions: Mapping[str, lambda_.IFunction],
        values: Mapping[str, str] | None = None,
        express: bool = False,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        """`removal_policy` applies to the execution log group (the data), not the state machine."""
        super().__init__(scope, name)
        substitutions: dict[str, str] = {function_arn_placeholder(f): fn.function_arn for f, fn in functions.items()}
        for key, value in (values or {}).items():
            if key in substitutions:
                raise ValueError(f"{name}: substitution {key} given twice")
            substitutions[key] = value
        self.definition_file = state_machine_file(name)
        text = asl.load(self.definition_file, substitutions.keys())  # raises on any mismatch
        if express:
            timeouts_s = {
                function_arn_placeholder(f): fn.timeout.to_seconds() if fn.timeout else LAMBDA_DEFAULT_TIMEOUT_S
                for f, fn in functions.items() if isinstance(fn, lambda_.Function)
            }
            asl.check_express_budget(json.loads(text), timeouts_s, source=self.definition_file.name)

        log_group = logs.LogGroup(self, "Logs", retention=log_retention, removal_policy=removal_policy)
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_type=sfn.StateMachineType.EXPRESS if express else sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_string(text),
            definition_substitutions=substitutions,
            logs=sfn.LogOptions(
                destination=log_group,
                level=log_levels.EXPRESS_STATE_MACHINE_LOG_LEVEL if express else log_levels.STANDARD_STATE_MACHINE_LOG_LEVEL,
                include_execution_data=log_levels.STATE_MACHINE_EXECUTION_DATA,
            ),
            tracing_enabled=True,
            # No removal_policy: a state machine holds no data (its history lives in the log group,
            # which follows the stage policy); retaining it would orphan one per replacement.
        )
        if asl.starts_itself(json.loads(text), source=self.definition_file.name):
            # Continue-as-new: the machine starts itself. In its own policy, not the role's default one: the state
            # machine depends on that one, and a statement naming the machine there would be a dependency cycle.
            itself = self.state_machine.state_machine_arn
            own = iam.PolicyStatement(actions=["states:StartExecution"], resources=[itself])
            iam.Policy(self, "StartsItself", roles=[self.state_machine.role], statements=[own])
        for fn in functions.values():
            # The ASL passes the unqualified ARN as FunctionName: grant exactly that (no ":*").
            self.state_machine.add_to_role_policy(
                iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[fn.function_arn])
            )
        acknowledge(
            self.state_machine.role.node.find_child("DefaultPolicy"),
            "AwsSolutions-IAM5",
            "Added by CDK for state machine logging and tracing: CloudWatch Logs vended-log delivery actions "
            "(logs:CreateLogDelivery, PutResourcePolicy, DescribeLogGroups, ...) and X-Ray "
            "PutTraceSegments/PutTelemetryRecords/GetSampling* support no resource-level permissions, "
            "so Resource must be '*'.",
            findings=["Resource::*"],
        )

        if not express:
            acknowledge(
                self.state_machine,
                "AwsSolutions-SF1",
                "A Standard execution's full event history is kept by Step Functions for 90 days "
                "(GetExecutionHistory, the console); logging ALL events again doubled the cost per "
                "contact for no extra information. Failures are logged (level ERROR).",
            )

    @property
    def arn(self) -> str:
        return self.state_machine.state_machine_arn
