"""Amazon Connect may invoke the contact-flow Lambda: a resource policy per configured instance.

The instances come from CDK context (`connectInstanceArns`, a list): one `AWS::Lambda::Permission` per
instance, principal `connect.amazonaws.com`, `SourceArn` the instance ARN and `SourceAccount` its
account, so no other instance (of this or any account) can call the function. None configured: no
permission at all (the function then cannot be called from a flow; the README says so).
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

CONNECT_PRINCIPAL = "connect.amazonaws.com"
INSTANCE_ARN = re.compile(r"^arn:aws[a-z-]*:connect:[a-z0-9-]+:(\d{12}):instance/[A-Za-z0-9-]{1,64}$")


def allow_connect_invoke(fn: lambda_.Function, instance_arns: Sequence[str]) -> None:
    for arn in dict.fromkeys(instance_arns):
        match = INSTANCE_ARN.match(arn)
        if match is None:
            raise ValueError(f"connectInstanceArns: {arn!r} is not an Amazon Connect instance ARN "
                             "(arn:aws:connect:<region>:<account>:instance/<id>)")
        fn.add_permission(
            f"ConnectInvoke{hashlib.sha1(arn.encode()).hexdigest()[:10]}",  # stable per instance, whatever the order
            principal=iam.ServicePrincipal(CONNECT_PRINCIPAL),
            action="lambda:InvokeFunction",
            source_arn=arn,
            source_account=match.group(1),
        )
