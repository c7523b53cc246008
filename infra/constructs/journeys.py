"""Journey tests on AWS: the alarm per journey (issue 16).

A tenant's journey names are its data (PUT /settings/journeys), so their CloudWatch alarms cannot be
declared here: the function serving that PUT creates and deletes them
(ccaas.adapters.aws.journeys.CloudWatchJourneyAlarms). It may do so only for alarms whose name starts with
this stage's prefix (`ccaas-<stage>-journey-`, in its JOURNEY_ALARM_PREFIX setting): PutMetricAlarm and
DeleteAlarms are authorised on the alarm resource, so the grant is `alarm:<prefix>*`, nothing else (DescribeAlarms
too: a suite change lists the alarms that exist by that prefix).
"""
from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

from infra.function_specs import JOURNEY_ALARM_PREFIX_ENV
from infra.nag import acknowledge

__all__ = ["JOURNEY_ALARM_PREFIX_ENV", "allow_journey_alarms", "journey_alarm_prefix"]
# DescribeAlarms: a suite change lists the alarms that exist by that prefix (a concurrent change may have left one)
ALARM_ACTIONS = ("cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms")


def journey_alarm_prefix(stage: str) -> str:
    return f"ccaas-{stage}-journey-"


def allow_journey_alarms(fn: lambda_.Function, prefix: str) -> None:
    stack = Stack.of(fn)
    arn = stack.format_arn(service="cloudwatch", resource="alarm", resource_name=f"{prefix}*",
                           arn_format=ArnFormat.COLON_RESOURCE_NAME)
    fn.add_to_role_policy(iam.PolicyStatement(actions=list(ALARM_ACTIONS), resources=[arn]))
    assert fn.role is not None
    acknowledge(
        fn.role.node.find_child("DefaultPolicy"),
        "AwsSolutions-IAM5",
        "The alarms are named after the tenants' journeys (tenant data, created on PUT /settings/journeys), "
        "so the grant is every alarm of this stage's journey prefix, and only PutMetricAlarm/DeleteAlarms/DescribeAlarms.",
        findings=[f"Resource::arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:{prefix}*"],
    )

