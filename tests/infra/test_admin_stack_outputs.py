"""infra.admin against a deployed stack: the table names come from the stack's CloudFormation outputs,
whose keys are the ones the synthesized template declares (a renamed output fails here). The "deployed
stack" is moto's CloudFormation, given the real template's table outputs over tables of the same keys."""
from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra import admin
from tests.admin_stack import fake_stack_template as _fake_stack_template
from tests.admin_stack import run_admin as _run
from tests.admin_stack import table_outputs as _table_outputs
from infra.naming import STACK_NAME, TABLE_IDS, table_env_var

REGION = "us-east-1"


def test_the_outputs_the_cli_reads_are_the_stacks_table_outputs(synth) -> None:
    outputs = _table_outputs(synth)
    assert set(admin.STACK_OUTPUTS) == set(outputs), "infra.admin.STACK_OUTPUTS and the stack's table outputs differ"
    assert set(admin.STACK_OUTPUTS.values()) == {table_env_var(t) for t in TABLE_IDS}
    # Each output names the table whose construct the function settings of that name come from.
    by_setting = {admin.STACK_OUTPUTS[k]: v["Value"]["Ref"] for k, v in outputs.items()}
    for table_id, table in synth.stack.data.tables.items():
        assert by_setting[table_env_var(table_id)] == synth.logical_id(table)


def test_the_cli_closes_sockets_at_the_endpoint_the_functions_push_to(synth) -> None:
    """revoke-key / rotate-key close the key's sockets: the stack's callback-URL output is the endpoint the
    pushing functions are given (WEBSOCKET_ENDPOINT), and the CLI reads it as that setting."""
    output = synth.json["Outputs"][admin.SOCKET_OUTPUT]["Value"]
    fn = next(r for r in synth.of_type("AWS::Lambda::Function").values()
              if "WEBSOCKET_ENDPOINT" in r["Properties"].get("Environment", {}).get("Variables", {}))
    assert output == fn["Properties"]["Environment"]["Variables"]["WEBSOCKET_ENDPOINT"]
    with mock_aws():
        cfn = boto3.client("cloudformation", region_name=REGION)
        outputs = {**_table_outputs(synth), admin.SOCKET_OUTPUT: {"Value": "https://abc123.execute-api.us-east-1.amazonaws.com/v1"}}
        cfn.create_stack(StackName=STACK_NAME, TemplateBody=_fake_stack_template(synth, outputs))
        settings = admin.stack_tables(cfn, STACK_NAME)
    assert settings["WEBSOCKET_ENDPOINT"] == "https://abc123.execute-api.us-east-1.amazonaws.com/v1"


def test_create_tenant_and_list_tenants_through_the_stack_outputs(synth) -> None:
    with mock_aws():
        cfn = boto3.client("cloudformation", region_name=REGION)
        cfn.create_stack(StackName=STACK_NAME, TemplateBody=_fake_stack_template(synth, _table_outputs(synth)))
        settings = admin.stack_tables(cfn, STACK_NAME)
        physical = {r["LogicalResourceId"]: r["PhysicalResourceId"]
                    for r in cfn.describe_stack_resources(StackName=STACK_NAME)["StackResources"]}  # fmt: skip
        config_lid = synth.logical_id(synth.stack.data.tables["Config"])
        assert settings[table_env_var("Config")] == physical[config_lid]
        assert set(settings) == {table_env_var(t) for t in TABLE_IDS}

        code, out, err = _run("--region", REGION, "create-tenant", "acme", "--name", "Acme Ltd", "--time-zone", "Europe/London")
        assert code == 0, err
        key = out.strip()
        assert key.startswith("ck_acme_") and "\n" not in key
        assert "only once" in err and key not in err

        # the key's hash is in the stack's Config table: what the authorizer reads
        from ccaas.adapters.aws.dynamodb import DynamoConfigStore
        from ccaas.domain.tenants import hash_api_key

        store = DynamoConfigStore(boto3.client("dynamodb", region_name=REGION), physical[config_lid])
        assert store.tenant_for_key(hash_api_key(key)) == "acme"

        code, out, err = _run("list-tenants", "--json", "--region", REGION)
        assert code == 0, err
        assert json.loads(out) == [{"tenant_id": "acme", "name": "Acme Ltd", "time_zone": "Europe/London"}]

        code, out, err = _run("--region", REGION, "create-tenant", "acme", "--name", "Again")
        assert code == 1 and err.count("\n") == 1 and "already exists" in err


@pytest.mark.parametrize(
    ("outputs", "message"),
    [(None, "stack Elsewhere not found in us-east-1"), ({}, "has no output ConfigTableName")],
)
def test_a_missing_stack_or_output_is_one_line(synth, outputs, message) -> None:
    with mock_aws():
        if outputs is not None:  # a stack of the name, without the outputs
            body = {"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}, "Outputs": outputs}
            boto3.client("cloudformation", region_name=REGION).create_stack(StackName="Elsewhere", TemplateBody=json.dumps(body))
        code, out, err = _run("--stack", "Elsewhere", "--region", REGION, "list-tenants")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
