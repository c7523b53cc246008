"""Amazon Comprehend sentiment: granted only when the stage allows it, only BatchDetectSentiment, only to the
two functions that analyse transcripts."""
from __future__ import annotations

import pytest

from infra.config import StageConfig
from infra.function_specs import SPECS


def _comprehend_statements(resources: dict) -> dict[str, list[dict]]:
    """Policy logical id -> its statements that name a comprehend action."""
    out = {}
    for lid, r in resources.items():
        if r["Type"] != "AWS::IAM::Policy":
            continue
        found = [s for s in r["Properties"]["PolicyDocument"]["Statement"]
                 if any(str(a).startswith("comprehend:") for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))]
        if found:
            out[lid] = found
    return out


def test_no_comprehend_permission_unless_the_stage_allows_it(synth):
    assert _comprehend_statements(synth.resources) == {}
    assert StageConfig.from_context({"comprehendSentiment": "true"}.get).comprehend_sentiment
    assert not StageConfig.from_context({}.get).comprehend_sentiment


@pytest.fixture(scope="module")
def allowed():
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from infra.stack import CcaasStack

    stack = CcaasStack(cdk.App(), config=StageConfig("dev", comprehend_sentiment=True))
    return stack, Template.from_stack(stack).to_json()


def test_only_the_transcript_analysers_may_detect_sentiment_and_nothing_else_of_comprehend(allowed):
    stack, template = allowed
    statements = _comprehend_statements(template["Resources"])
    analysers = {f for f, spec in SPECS.items() if spec.analyzes_transcripts}
    assert analysers == {"serve_api", "analyze_contact"}
    policies = {stack.resolve(stack.get_logical_id(stack.factory.functions[f].role.node.find_child("DefaultPolicy")
                                                    .node.default_child)) for f in analysers}
    assert set(statements) == policies
    for found in statements.values():
        assert found == [{"Action": "comprehend:BatchDetectSentiment", "Effect": "Allow", "Resource": "*"}]
