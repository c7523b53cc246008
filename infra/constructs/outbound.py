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

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

from infra.constructs.connect import INSTANCE_ARN
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
