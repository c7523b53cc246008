"""What a deploy does not do again: the test tiers deploy the stack dozens of times a run (a fresh mock_aws per
module, a local runtime per module), so work that gives the same answer every time is done once."""
from __future__ import annotations

import gc

from moto import mock_aws

from local import deployer, synth
from local.deployer import Deployer


def test_each_function_folder_and_asset_is_fingerprinted_once_a_deploy(monkeypatch) -> None:
    """A function's code asset is matched against every functions/<folder>: each folder's fingerprint was
    computed again for every function (~340 directory walks and hashes a deploy, ~45 ms of its CPU)."""
    walked: list = []
    real = deployer._dir_fingerprint  # noqa: SLF001

    def counting(path):  # noqa: ANN001, ANN202
        walked.append(path)
        return real(path)

    monkeypatch.setattr(deployer, "_dir_fingerprint", counting)
    template_path, _, _ = synth.synth()
    d = Deployer(template_path, register_functions=False)
    resources = d.template["Resources"]
    functions = {lid: r["Properties"] for lid, r in resources.items() if r["Type"] == "AWS::Lambda::Function"}
    mapped = {lid: d.map_function_folder(lid, props) for lid, props in functions.items()}

    assert len(walked) == len(set(walked)), "a directory fingerprinted twice"
    assert all(how == "code asset contents" for _, how in mapped.values())  # still matched by contents
    assert len({folder for folder, _ in mapped.values()}) == len(functions)  # each function its own folder


def test_a_table_is_made_with_one_create_table_and_its_ttl_no_describe(monkeypatch) -> None:
    """CreateTable answers with the table's description (its ARN, its stream's ARN): the DescribeTable after it
    was one more moto round trip per table (10 a deploy)."""
    template = {"Resources": {"T": {"Type": "AWS::DynamoDB::Table", "Properties": {
        "TableName": "t", "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
        "TimeToLiveSpecification": {"AttributeName": "expires", "Enabled": True},
    }}}}
    with mock_aws():
        d = Deployer(template, register_functions=False)
        calls: list[str] = []
        d.client("dynamodb").meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
        dep = d.deploy()
        deploy_calls = list(calls)
        described = d.client("dynamodb").describe_table(TableName="t")["Table"]
        ttl = d.client("dynamodb").describe_time_to_live(TableName="t")["TimeToLiveDescription"]
    assert deploy_calls == ["CreateTable", "UpdateTimeToLive"]
    assert dep.resources["T"].attributes == {"Arn": described["TableArn"], "StreamArn": described["LatestStreamArn"]}
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}


def test_the_placeholder_code_is_zipped_once_per_note() -> None:
    note = "function F runs functions/f in-process"
    assert deployer.tiny_zip(note) is deployer.tiny_zip(note)
    assert deployer.tiny_zip("layer L") != deployer.tiny_zip(note)


def test_the_test_tiers_deploy_with_the_cyclic_collector_paused(monkeypatch) -> None:
    """As LocalRuntime.start does: each full collection during a deploy walked every object of the test worker
    (~0.15-0.2 s each; a worker's first deploy paid ~0.6 s of them). It runs again once the stack is up."""
    from tests import aws_stack

    seen: list[bool] = []

    class RecordingDeployer:
        def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
            pass

        def deploy(self) -> str:
            seen.append(gc.isenabled())
            return "deployment"

    monkeypatch.setattr(aws_stack, "Deployer", RecordingDeployer)
    assert gc.isenabled()
    with aws_stack.deployed_stack() as deployment:
        assert deployment == "deployment"
        assert gc.isenabled()
    assert seen == [False]
    assert gc.isenabled()
