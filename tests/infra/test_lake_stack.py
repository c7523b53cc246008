"""The whole stack with the analytics lake (`-c lake=true`): cdk-nag clean (synthesis fails on a finding),
the API function may run the lake's queries, every writer may put rows to the streams of the tables it
exports (and no others), and `-c lake_analyst_tenants=…` adds one analyst policy and workgroup per tenant."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ccaas.adapters.aws.lake import STREAMS_ENV

ANALYSTS = "acme,globex"


@pytest.fixture(scope="module")
def lake_stack(tmp_path_factory: pytest.TempPathFactory):
    from infra.app import build_app

    app, stack = build_app(context={"lake": "true", "lake_analyst_tenants": ANALYSTS},
                           outdir=str(tmp_path_factory.mktemp("cdk-lake.out")))
    assembly = app.synth()  # cdk-nag: any unacknowledged finding fails here
    template = json.loads((Path(assembly.directory) / stack.template_file).read_text())
    return stack, template


def _statements_of(stack, template, folder: str) -> list[dict]:
    role = stack.resolve(stack.get_logical_id(stack.factory.functions[folder].role.node.default_child))
    statements: list[dict] = []
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        if {"Ref": role} not in resource["Properties"].get("Roles", []):
            continue
        statements.extend(resource["Properties"]["PolicyDocument"]["Statement"])
    return statements


def _actions_of(stack, template, folder: str) -> set[str]:
    actions: set[str] = set()
    for statement in _statements_of(stack, template, folder):
        found = statement["Action"]
        actions.update([found] if isinstance(found, str) else found)
    return actions


def _env_of(stack, template, folder: str) -> dict:
    fn = stack.resolve(stack.get_logical_id(stack.factory.functions[folder].node.default_child))
    return template["Resources"][fn]["Properties"]["Environment"]["Variables"]


def test_the_api_runs_lake_queries_and_each_writer_exports_its_tables_only(lake_stack):
    from infra.function_specs import LAKE_EXPORTERS, LAKE_EXPORTS

    stack, template = lake_stack
    assert "athena:StartQueryExecution" in _actions_of(stack, template, "serve_api")
    assert set(LAKE_EXPORTERS) == set(LAKE_EXPORTS) >= {"record_history", "consume_contact_records", "serve_api",
                                                        "analyze_contact", "record_agent_activity"}
    streams = {table: stack.resolve(stack.get_logical_id(s)) for table, s in stack.lake.streams.items()}
    for folder, tables in LAKE_EXPORTS.items():
        env = _env_of(stack, template, folder)
        assert {k: v for k, v in env.items() if k in STREAMS_ENV.values()} == {
            STREAMS_ENV[t]: {"Ref": streams[t]} for t in tables}, folder
        firehose = [st for st in _statements_of(stack, template, folder)
                    if any(str(a).startswith("firehose:") for a in ([st["Action"]] if isinstance(st["Action"], str)
                                                                     else st["Action"]))]
        (statement,) = firehose
        assert statement["Action"] == "firehose:PutRecordBatch", folder
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        assert resources == [{"Fn::GetAtt": [streams[t], "Arn"]} for t in tables], folder
    assert "LAKE_AGENT_ACTIVITY_STREAM" in _env_of(stack, template, "record_agent_activity")
    assert "LAKE_TRANSCRIPT_ANALYSES_STREAM" in _env_of(stack, template, "analyze_contact")
    for folder in ("route_contact", "push_updates", "dial_campaign"):
        actions = _actions_of(stack, template, folder)
        assert not {a for a in actions if a.startswith(("firehose:", "athena:"))}, folder


def test_analyst_tenants_from_context_get_a_policy_and_workgroup_each_with_outputs(lake_stack):
    stack, template = lake_stack
    assert set(stack.lake.analyst_policies) == {"acme", "globex"}
    policies = {k: r for k, r in template["Resources"].items() if r["Type"] == "AWS::IAM::ManagedPolicy"
                and k.startswith("LakeAnalyst")}
    assert len(policies) == 2
    outputs = template["Outputs"]
    for tenant in ("acme", "globex"):
        logical = stack.resolve(stack.get_logical_id(stack.lake.analyst_policies[tenant].node.default_child))
        assert any(o["Value"] == {"Ref": logical} for o in outputs.values()), tenant
        text = json.dumps(template["Resources"][logical])
        assert f"tenant_id={tenant}/" in text
        assert "tenant_id=" + ("globex" if tenant == "acme" else "acme") not in text


def test_a_bad_analyst_tenant_fails_synthesis_naming_it(tmp_path):
    from infra.app import build_app

    with pytest.raises(ValueError, match="'Acme!'"):
        build_app(context={"lake": "true", "lake_analyst_tenants": "acme,Acme!"}, outdir=str(tmp_path))


def test_only_the_api_writes_the_reference_tables_and_only_under_their_prefixes(lake_stack):
    from ccaas.adapters.aws.lake_reference import BUCKET_ENV
    from infra.function_specs import LAKE_EXPORTERS

    stack, template = lake_stack
    bucket = stack.resolve(stack.get_logical_id(stack.lake.bucket.node.default_child))
    assert _env_of(stack, template, "serve_api")[BUCKET_ENV] == {"Ref": bucket}
    puts = [st for st in _statements_of(stack, template, "serve_api") if st["Action"] == "s3:PutObject"
            and "Sid" in st]
    (write,) = puts
    assert [json.dumps(r).rsplit('"', 2)[-2] for r in write["Resource"]] == ["/lake_intervals/*", "/tenant_settings/*"]
    for folder in LAKE_EXPORTERS:
        if folder != "serve_api":
            assert BUCKET_ENV not in _env_of(stack, template, folder), folder
            assert "lake_intervals" not in json.dumps(_statements_of(stack, template, folder)), folder
