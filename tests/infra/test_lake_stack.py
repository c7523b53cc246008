"""The whole stack with the analytics lake (`-c lake=true`): cdk-nag clean (synthesis fails on a finding),
the API function may run the lake's queries, and every History writer may export snapshots."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.stack import LAKE_EXPORTERS


@pytest.fixture(scope="module")
def lake_stack(tmp_path_factory: pytest.TempPathFactory):
    from infra.app import build_app

    app, stack = build_app(context={"lake": "true"}, outdir=str(tmp_path_factory.mktemp("cdk-lake.out")))
    assembly = app.synth()  # cdk-nag: any unacknowledged finding fails here
    template = json.loads((Path(assembly.directory) / stack.template_file).read_text())
    return stack, template


def _actions_of(stack, template, folder: str) -> set[str]:
    role = stack.resolve(stack.get_logical_id(stack.factory.functions[folder].role.node.default_child))
    actions: set[str] = set()
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        if {"Ref": role} not in resource["Properties"].get("Roles", []):
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            found = statement["Action"]
            actions.update([found] if isinstance(found, str) else found)
    return actions


def _env_of(stack, template, folder: str) -> dict:
    fn = stack.resolve(stack.get_logical_id(stack.factory.functions[folder].node.default_child))
    return template["Resources"][fn]["Properties"]["Environment"]["Variables"]


def test_the_api_runs_lake_queries_and_the_history_writers_export(lake_stack):
    stack, template = lake_stack
    assert "athena:StartQueryExecution" in _actions_of(stack, template, "serve_api")
    for folder in LAKE_EXPORTERS:
        assert "firehose:PutRecordBatch" in _actions_of(stack, template, folder), folder
        assert "LAKE_CONTACT_RECORDS_STREAM" in _env_of(stack, template, folder), folder
    for folder in ("route_contact", "push_updates", "dial_campaign"):
        actions = _actions_of(stack, template, folder)
        assert not {a for a in actions if a.startswith(("firehose:", "athena:"))}, folder
