"""Where alarms go: one SNS topic every CloudWatch alarm of the stack notifies (ALARM and back to OK).

An alarm without an action only changes colour on a dashboard nobody watches at 3 a.m. The topic is encrypted
with a customer managed key (CloudWatch cannot publish to a topic under the AWS managed `aws/sns` key: its
policy cannot grant the service), takes TLS only, and lets CloudWatch of this account publish. People
subscribe by e-mail with `-c alarmEmails=ops@example.com,oncall@example.com`, or point any other endpoint
(PagerDuty, Chatbot, a queue) at the `AlarmTopicArn` output.

Alarms defined in the template get the topic by an Aspect (every `cloudwatch.Alarm`, whichever construct
made it), so a new alarm cannot be forgotten; the journey alarms a tenant's
settings create at run time get it from the `ALARM_TOPIC_ARN` setting (ccaas.adapters.aws.journeys).
"""
from __future__ import annotations

from collections.abc import Sequence

import jsii
from aws_cdk import Aspects, IAspect, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct, IConstruct

CLOUDWATCH = "cloudwatch.amazonaws.com"


@jsii.implements(IAspect)
class _NotifyEveryAlarm:
    def __init__(self, topic: sns.ITopic) -> None:
        self._action = cw_actions.SnsAction(topic)

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, cw.Alarm):
            node.add_alarm_action(self._action)
            node.add_ok_action(self._action)


class AlarmNotifications(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, emails: Sequence[str], removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, construct_id)
        account = Stack.of(self).account
        key = kms.Key(self, "Key", description="Alarm notifications (SNS)", enable_key_rotation=True,
                      removal_policy=removal_policy)
        key.add_to_resource_policy(iam.PolicyStatement(
            principals=[iam.ServicePrincipal(CLOUDWATCH)], actions=["kms:Decrypt", "kms:GenerateDataKey*"], resources=["*"],
            conditions={"StringEquals": {"aws:SourceAccount": account}},
        ))
        self.topic = sns.Topic(self, "Topic", display_name="Contact center alarms", master_key=key, enforce_ssl=True)
        self.topic.add_to_resource_policy(iam.PolicyStatement(
            principals=[iam.ServicePrincipal(CLOUDWATCH)], actions=["sns:Publish"], resources=[self.topic.topic_arn],
            conditions={"StringEquals": {"aws:SourceAccount": account}},
        ))
        for email in emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        Aspects.of(Stack.of(self)).add(_NotifyEveryAlarm(self.topic))

    @property
    def topic_arn(self) -> str:
        return self.topic.topic_arn

