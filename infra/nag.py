"""cdk-nag acknowledgments (suppressions), always with a reason, as narrow as the rule allows.

cdk-nag v3 runs as a CDK policy-validation plugin (`Validations.of(app).add_plugins(...)`) and takes
suppressions through CDK's own `Validations.of(construct).acknowledge(...)`; there is no
`NagSuppressions`/`appliesTo` any more. A finding of a multi-finding rule (IAM4/IAM5) is acknowledged
by its own id, `AwsSolutions-IAM5[Resource::*]`, which is what `findings=` builds.
An acknowledgment applies to the construct it is put on AND its children, so `acknowledge` puts it
on the CloudFormation resource itself (an L2's default child): the Lambda permissions under a Method,
or the QueuePolicy under a Queue, do not inherit it.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from aws_cdk import Acknowledgment, CfnResource, Validations
from constructs import IConstruct

_enabled = True


@contextmanager
def acknowledgments_disabled() -> Iterator[None]:
    """Build constructs without recording acknowledgments (tests use it to prove each one still
    matches a real finding: no stale suppressions)."""
    global _enabled
    _enabled, previous = False, _enabled
    try:
        yield
    finally:
        _enabled = previous


def acknowledge(scope: IConstruct, rule: str, reason: str, *, findings: Iterable[str] = ()) -> None:
    """`rule` like "AwsSolutions-SQS3". With `findings`, only those findings of the rule are
    acknowledged (e.g. findings=["Resource::*"] -> "AwsSolutions-IAM5[Resource::*]")."""
    if not reason or len(reason.strip()) < 20:
        raise ValueError(f"{rule}: a suppression needs a real reason")
    target = scope if CfnResource.is_cfn_resource(scope) else scope.node.default_child
    if target is None or not CfnResource.is_cfn_resource(target):
        raise ValueError(f"{rule}: {scope.node.path} is not (and has no default) CloudFormation resource")
    finding_list = list(findings)
    ids = [f"{rule}[{f}]" for f in finding_list] if finding_list else [rule]
    if not _enabled:
        return
    Validations.of(target).acknowledge(*(Acknowledgment(id=i, reason=reason) for i in ids))
