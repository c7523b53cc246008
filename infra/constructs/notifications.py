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


def service_topic(scope: Construct, *, service: str, display_name: str, removal_policy: RemovalPolicy) -> sns.Topic:
    """A topic (construct ids "Key" and "Topic" in `scope`) an AWS service of this account publishes to: encrypted
    with a customer managed key the service may use (the AWS managed `aws/sns` key's policy cannot grant a service),
    TLS only."""
    account = Stack.of(scope).account
    same_account = {"StringEquals": {"aws:SourceAccount": account}}
    key = kms.Key(scope, "Key", description=f"{display_name} (SNS)", enable_key_rotation=True, removal_policy=removal_policy)
    key.add_to_resource_policy(iam.PolicyStatement(
        principals=[iam.ServicePrincipal(service)], actions=["kms:Decrypt", "kms:GenerateDataKey*"], resources=["*"],
        conditions=same_account,
    ))
    topic = sns.Topic(scope, "Topic", display_name=display_name, master_key=key, enforce_ssl=True)
    topic.add_to_resource_policy(iam.PolicyStatement(
        principals=[iam.ServicePrincipal(service)], actions=["sns:Publish"], resources=[topic.topic_arn],
        conditions=same_account,
    ))
    return topic


class AlarmNotifications(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, emails: Sequence[str], removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, construct_id)
        self.topic = service_topic(self, service=CLOUDWATCH, display_name="Contact center alarms",
                                   removal_policy=removal_policy)
        for email in emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        Aspects.of(Stack.of(self)).add(_NotifyEveryAlarm(self.topic))

    @property
    def topic_arn(self) -> str:
        return self.topic.topic_arn

