"""cdk-nag (AwsSolutions) and cfn-lint on the synthesized template.

cdk-nag v3 is a CDK policy-validation plugin: an unacknowledged finding makes app.synth() raise, so
the session synthesis in conftest.py passing is itself the main check. These tests also prove the
plugin is really registered, and that every acknowledgment (suppression) still matches a real
finding, on the exact resource, with a reason.
"""
from __future__ import annotations

import pytest


def _acknowledged(scope) -> dict[tuple[str, str], str]:
    """(rule id, construct path) -> reason, for every acknowledgment in the tree."""
    from aws_cdk import Validations

    out = {}
    todo = [scope]
    while todo:
        node = todo.pop()
        for entry in node.node.metadata:
            if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                for key, reason in entry.data.items():
                    out[(key.split("::", 1)[-1] if key.lower().startswith("annotation::") else key, node.node.path)] = reason
        todo.extend(node.node.children)
    return out


@pytest.fixture(scope="session")
def acknowledged(synth) -> dict[tuple[str, str], str]:
    return _acknowledged(synth.app)


@pytest.fixture(scope="session")
def unacknowledged(tmp_path_factory):
    """The same app built with acknowledgments switched off: its synth must fail, and
    AwsSolutionsChecks.validate_scope lists every raw finding."""
    from cdk_nag import AwsSolutionsChecks

    from infra import nag
    from infra.app import build_app

    with nag.acknowledgments_disabled():
        app, _ = build_app(outdir=str(tmp_path_factory.mktemp("cdk.out.unacknowledged")))
    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()
    report = AwsSolutionsChecks().validate_scope(app)
    return {
        (violation.rule_name, resource.construct_path)
        for violation in report.violations
        for resource in violation.violating_resources
    }


def test_no_nag_errors_or_warnings_annotated(synth):
    from aws_cdk.assertions import Annotations, Match

    annotations = Annotations.from_stack(synth.stack)
    assert annotations.find_error("*", Match.string_like_regexp("AwsSolutions-.*")) == []
    assert annotations.find_warning("*", Match.string_like_regexp("AwsSolutions-.*")) == []


def test_synth_passes_all_aws_solutions_checks(synth):
    from cdk_nag import AwsSolutionsChecks

    report = AwsSolutionsChecks().validate_scope(synth.app)
    assert report.success, [(v.rule_name, [r.construct_path for r in v.violating_resources]) for v in report.violations]


def test_nag_is_enforced_on_synth(unacknowledged):
    assert unacknowledged  # without acknowledgments there are findings, and synth raised


def test_every_acknowledgment_matches_a_real_finding(acknowledged, unacknowledged):
    assert acknowledged
    stale = set(acknowledged) - unacknowledged
    assert not stale, f"acknowledgments without a finding (remove them): {sorted(stale)}"
    assert unacknowledged == set(acknowledged)


def test_acknowledgments_are_narrow_and_justified(acknowledged):
    for (rule, path), reason in acknowledged.items():
        assert rule.startswith("AwsSolutions-")
        assert len(reason) >= 40, (rule, path)
        assert path.endswith("/Resource"), f"{rule} on {path}: acknowledge on the CloudFormation resource"
        if rule.startswith(("AwsSolutions-IAM5", "AwsSolutions-IAM4")):
            assert "[" in rule, f"{rule} on {path}: IAM findings are acknowledged one by one"


def test_acknowledgments_are_written_to_the_template(synth, acknowledged):
    suppressed = {
        rule["id"]
        for resource in synth.resources.values()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    }
    assert suppressed == {rule for rule, _ in acknowledged}
