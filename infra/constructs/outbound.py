"""Outbound dialing on AWS: the dialer function may start outbound voice contacts on the configured Amazon
Connect instances only (`connectInstanceArns` in CDK context), nothing else of Connect.

`connect:StartOutboundVoiceContact` is authorised on the contact resource of the instance
(arn:aws:connect:<region>:<account>:instance/<id>/contact/*). No instance configured: no statement at all
(a tenant whose dialer is `connect` then gets AccessDenied on its first dial, recorded on the attempt as a
dial error; the simulated carrier needs no permission).

Agentless SMS campaigns send through AWS End User Messaging SMS (`sms-voice:SendTextMessage`), authorised on the
account's origination identities and configuration sets in the stack's region (the tenant's dialer settings
name which one).
"""
from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.connect import INSTANCE_ARN
from infra.constructs.notifications import service_topic
from infra.nag import acknowledge


def allow_outbound_dial(fn: lambda_.Function, instance_arns: Sequence[str]) -> None:
    arns = list(dict.fromkeys(instance_arns))
    for arn in arns:
        if INSTANCE_ARN.match(arn) is None:
            raise ValueError(f"connectInstanceArns: {arn!r} is not an Amazon Connect instance ARN")
    if not arns:
        return
    resources = [f"{arn}/contact/*" for arn in arns]
    fn.add_to_role_policy(iam.PolicyStatement(actions=["connect:StartOutboundVoiceContact"], resources=resources))
    assert fn.role is not None
    acknowledge(
        fn.role.node.find_child("DefaultPolicy"),
        "AwsSolutions-IAM5",
        "StartOutboundVoiceContact creates the contact it is authorised on; its id is minted by Amazon Connect, "
        "so the grant is the configured instance's contacts (contact/*), that instance only.",
        findings=[f"Resource::{r}" for r in resources],
    )


# SendTextMessage's resource types: the origination identity (number, pool, sender id), the configuration set
# and the opt-out list End User Messaging checks.
SMS_RESOURCE_TYPES = ("phone-number", "pool", "sender-id", "configuration-set", "opt-out-list")


def allow_outbound_sms(fn: lambda_.Function) -> None:
    stack = Stack.of(fn)
    resources = [f"arn:{stack.partition}:sms-voice:{stack.region}:{stack.account}:{kind}/*" for kind in SMS_RESOURCE_TYPES]
    fn.add_to_role_policy(iam.PolicyStatement(actions=["sms-voice:SendTextMessage"], resources=resources))
    assert fn.role is not None
    acknowledge(
        fn.role.node.find_child("DefaultPolicy"),
        "AwsSolutions-IAM5",
        "Agentless SMS campaigns send from the origination identity and configuration set each tenant names in its "
        "dialer settings (run-time data): the account's identities of this region, SendTextMessage only.",
        findings=[f"Resource::arn:<AWS::Partition>:sms-voice:<AWS::Region>:<AWS::AccountId>:{kind}/*" for kind in SMS_RESOURCE_TYPES],
    )


SMS_VOICE = "sms-voice.amazonaws.com"  # AWS End User Messaging SMS, publishing two-way messages


class InboundTexts(Construct):
    """Where replies to the tenants' numbers arrive: the topic AWS End User Messaging SMS publishes two-way messages
    to (set on each number: `aws pinpoint-sms-voice-v2 update-phone-number --two-way-enabled --two-way-channel-arn
    <InboundTextsTopicArn> --two-way-channel-role <a role End User Messaging may assume>` or, simpler, the topic's own
    policy, which lets End User Messaging of this account publish). Encrypted with a customer managed key (the AWS
    managed `aws/sns` key's policy cannot grant the service), TLS only. Its subscriber's failed deliveries (SNS) and
    failed invocations (async, after Lambda's two retries) go to one dead-letter queue, alarmed like the streams'."""

    def __init__(self, scope: Construct, construct_id: str, *, removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, construct_id)
        self.topic = service_topic(self, service=SMS_VOICE, display_name="Texts to the contact center's numbers",
                                   removal_policy=removal_policy)
        self.dlq = sqs.Queue(self, "Dlq", encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
                             retention_period=Duration.days(14), removal_policy=removal_policy)
        acknowledge(self.dlq, "AwsSolutions-SQS3",
                    "This queue IS the dead-letter destination of the inbound-texts subscriber (SNS deliveries and "
                    "async invocations that failed); a DLQ of a DLQ would only move the problem. Its depth is alarmed.")

    def subscribe(self, fn: lambda_.Function) -> None:
        self.topic.add_subscription(subscriptions.LambdaSubscription(fn, dead_letter_queue=self.dlq))
        fn.configure_async_invoke(retry_attempts=2, on_failure=destinations.SqsDestination(self.dlq))
