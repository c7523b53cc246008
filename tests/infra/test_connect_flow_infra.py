"""The contact-flow Lambda: invocable by the configured Amazon Connect instances only, and only with the
grants it needs."""
from __future__ import annotations

import json

import pytest

from infra.config import StageConfig
from infra.function_specs import SPECS

INSTANCES = (
    "arn:aws:connect:us-east-1:111122223333:instance/0a1b2c3d-1111-2222-3333-444455556666",
    "arn:aws:connect:eu-west-2:444455556666:instance/9f8e7d6c-aaaa-bbbb-cccc-ddddeeeeffff",
)


def _connect_permissions(resources: dict) -> list[dict]:
    return [r["Properties"] for r in resources.values()
            if r["Type"] == "AWS::Lambda::Permission" and r["Properties"].get("Principal") == "connect.amazonaws.com"]


@pytest.fixture(scope="module")
def configured():
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from infra.stack import CcaasStack

    stack = CcaasStack(cdk.App(), config=StageConfig("dev", connect_instance_arns=(*INSTANCES, INSTANCES[0])))
    return stack, Template.from_stack(stack).to_json()


def test_no_instance_configured_means_no_connect_permission(synth):
    assert _connect_permissions(synth.resources) == []
    assert SPECS["connect_flow"].invoked_by_connect


def test_each_configured_instance_and_only_it_may_invoke(configured):
    stack, template = configured
    fn_id = stack.resolve(stack.get_logical_id(stack.factory.functions["connect_flow"].node.default_child))
    permissions = _connect_permissions(template["Resources"])
    assert len(permissions) == len(INSTANCES)  # a repeated ARN is one permission
    assert sorted(p["SourceArn"] for p in permissions) == sorted(INSTANCES)
    for p in permissions:
        assert p["Action"] == "lambda:InvokeFunction"
        assert p["FunctionName"] == {"Fn::GetAtt": [fn_id, "Arn"]}
        assert p["SourceAccount"] == p["SourceArn"].split(":")[4]  # the instance's own account, no other
    others = [p for p in _connect_permissions(template["Resources"]) if json.dumps(p["FunctionName"]).count(fn_id) == 0]
    assert others == []  # no other function is exposed to Connect


def test_a_malformed_instance_arn_fails_synth():
    import aws_cdk as cdk

    from infra.stack import CcaasStack

    with pytest.raises(ValueError, match="not an Amazon Connect instance ARN"):
        CcaasStack(cdk.App(), config=StageConfig("dev", connect_instance_arns=("arn:aws:connect:us-east-1:1:instance",)))


def test_the_flow_function_grants_are_the_few_it_needs(synth):
    spec = SPECS["connect_flow"]
    # Agents read only: a callback's routing plan asks who could satisfy its step (routing reach)
    assert spec.read_write == ("Contacts", "History") and set(spec.read) == {"Config", "Metrics", "Customers", "Agents"}
    assert spec.start_lifecycle and not spec.put_events and not spec.answer_tasks and not spec.publish_alerts
    assert spec.timeout_s <= 8  # Amazon Connect waits at most 8 s for a Lambda
    fn = synth.resources[synth.logical_id(synth.stack.factory.functions["connect_flow"])]["Properties"]
    assert fn["Timeout"] == spec.timeout_s and "CUSTOMERS_TABLE" in fn["Environment"]["Variables"]
    assert "AGENTS_TABLE" in fn["Environment"]["Variables"] and "ALERTS_TABLE" not in fn["Environment"]["Variables"]
    synth.template.has_output("ConnectFlowFunctionArn", {})


def _dial_grants(stack, template: dict) -> dict[str, list]:
    """Per function: the resources its role may StartOutboundVoiceContact on."""
    grants: dict[str, list] = {}
    for folder, fn in stack.factory.functions.items():
        role = {"Ref": stack.resolve(stack.get_logical_id(fn.role.node.default_child))}
        for policy in (r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Policy"):
            if role not in policy.get("Roles", []):
                continue
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                if "connect:StartOutboundVoiceContact" in actions:
                    resources = statement["Resource"]
                    grants.setdefault(folder, []).extend(resources if isinstance(resources, list) else [resources])
    return grants


def test_the_dialer_and_the_preview_dial_route_may_start_calls_on_the_configured_instances_only(configured, synth):
    """POST /contacts/{id}/dial (serve_api) dials through the same Connect dialer as the campaign loop: without
    the grant every preview call would be denied and stored as a dial error."""
    stack, template = configured
    grants = _dial_grants(stack, template)
    assert set(grants) == {"dial_campaign", "serve_api"} == {f for f, s in SPECS.items() if s.dials_connect}
    for resources in grants.values():
        assert sorted(resources) == sorted(f"{arn}/contact/*" for arn in INSTANCES)
    assert _dial_grants(synth.stack, synth.json) == {}  # no instance configured: no grant at all
    # texts are the campaign loop's only
    assert {f for f, s in SPECS.items() if s.sends_texts} == {"dial_campaign"}
