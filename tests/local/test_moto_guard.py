"""Fails loudly when a moto internal the local runtime relies on moves (see local/moto_patches.py).

The fast checks read moto's code; the slow ones show the two concurrency patches still matter and
still work against the embedded server: serialised DynamoDB conditional writes lose no update, and
serialised Kinesis puts lose no record.
"""
from __future__ import annotations

import inspect
import threading

import pytest

from local import moto_patches


def test_no_patch_target_moved() -> None:
    problems = moto_patches.problems()
    assert not problems, "moto internals the local runtime patches have moved:\n- " + "\n- ".join(problems)


def test_moto_version_is_the_pinned_one() -> None:
    import moto

    pinned = moto_patches.pinned_moto_version()
    assert pinned, "requirements.txt does not pin moto (moto[server]==X.Y.Z)"
    assert moto.__version__ == pinned, (
        f"moto {moto.__version__} is installed but requirements.txt pins {pinned}: the local runtime patches "
        "moto internals (local/moto_patches.py); re-verify them before moving the pin"
    )


def test_invoke_lambda_seam_signature() -> None:
    from moto.awslambda.models import LambdaFunction

    target = moto_patches._original_invoke or LambdaFunction._invoke_lambda  # noqa: SLF001
    params = inspect.signature(target).parameters
    assert list(params)[:2] == ["self", "event"], f"LambdaFunction._invoke_lambda{inspect.signature(target)}"
    # moto's invoke() unpacks exactly three values from it
    assert "res, errored, logs = self._invoke_lambda(" in inspect.getsource(LambdaFunction.invoke)


def test_dynamodb_and_kinesis_request_paths_exist() -> None:
    from moto.core.responses import BaseResponse
    from moto.dynamodb.responses import DynamoHandler
    from moto.kinesis.responses import KinesisResponse

    assert "call_action" in DynamoHandler.__dict__, "DynamoHandler.call_action (locked per request) is gone"
    assert callable(getattr(KinesisResponse, "call_action", None)), "KinesisResponse.call_action is gone"
    assert "self.call_action()" in inspect.getsource(BaseResponse._dispatch)  # noqa: SLF001


def test_step_functions_execute_config_key_selects_the_asl_engine() -> None:
    from moto.core.config import default_user_config
    from moto.stepfunctions import responses
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    saved = dict(default_user_config.get("stepfunctions", {}))
    try:
        default_user_config["stepfunctions"] = {"execute_state_machine": True}
        assert isinstance(responses.get_backend("123456789012", "us-east-1"), StepFunctionsParserBackend)
        default_user_config["stepfunctions"] = {"execute_state_machine": False}
        assert not isinstance(responses.get_backend("123456789012", "us-east-1"), StepFunctionsParserBackend)
    finally:
        default_user_config["stepfunctions"] = saved  # type: ignore[typeddict-item]


def test_threaded_moto_server_exists() -> None:
    from moto.server import ThreadedMotoServer

    sig = inspect.signature(ThreadedMotoServer.__init__)
    assert {"ip_address", "port"} <= set(sig.parameters)


# -- the concurrency facts behind the patches (against the embedded server) ----------------------

@pytest.fixture(scope="module")
def moto_clients():
    import boto3

    from local import moto_server

    moto_patches.apply()
    endpoint = moto_server.ensure_started()
    kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
    yield boto3.client("dynamodb", **kw), boto3.client("kinesis", **kw)
    moto_patches.restore_step_functions_config()


def _hammer(threads: int, each: int, work) -> list[BaseException]:  # noqa: ANN001
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            for j in range(each):
                work(i, j)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    ts = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return errors


@pytest.mark.slow
@pytest.mark.xdist_group("runtime")
def test_dynamodb_transactions_have_one_winner_under_threads(moto_clients) -> None:
    """Reservations are conditional transactions: exactly one of N racing writers may win each item.
    (Without the lock, moto let 2-5 of 40 items have two winners with 16 threads.)"""
    from botocore.exceptions import ClientError

    ddb, _ = moto_clients
    table = "guard-reservations"
    ddb.create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
    )
    items, writers = 10, 10
    for k in range(items):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"agent{k}"}, "version": {"N": "0"}})
    wins: dict[int, int] = {}
    lock = threading.Lock()
    barrier = threading.Barrier(writers)

    def reserve(i: int, k: int) -> None:
        try:
            barrier.wait(10)
        except threading.BrokenBarrierError:
            pass
        try:
            ddb.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": table, "Item": {"pk": {"S": f"agent{k}"}, "version": {"N": "1"}, "by": {"N": str(i)}},
                             "ConditionExpression": "version = :v", "ExpressionAttributeValues": {":v": {"N": "0"}}}},
                    {"Put": {"TableName": table, "Item": {"pk": {"S": f"contact{k}-{i}"}, "pad": {"S": "x" * 4000}},
                             "ConditionExpression": "attribute_not_exists(pk)"}},
                ]
            )
            with lock:
                wins[k] = wins.get(k, 0) + 1
        except ClientError as err:
            if err.response["Error"]["Code"] != "TransactionCanceledException":
                raise

    assert not _hammer(writers, items, reserve)
    doubles = {k: n for k, n in wins.items() if n > 1}
    assert not doubles, f"items with more than one winning transaction: {doubles} (DynamoDB requests not serialised)"
    assert len(wins) == items
    ddb.delete_table(TableName=table)


@pytest.mark.slow
@pytest.mark.xdist_group("runtime")
def test_kinesis_puts_lose_no_record_under_threads(moto_clients) -> None:
    _, kinesis = moto_clients
    stream = "guard-stream"
    kinesis.create_stream(StreamName=stream, ShardCount=1)

    def put(i: int, j: int) -> None:
        kinesis.put_records(StreamName=stream, Records=[{"Data": f"{i}-{j}".encode(), "PartitionKey": "same"}])

    assert not _hammer(8, 25, put)
    shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    it = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = kinesis.get_records(ShardIterator=it, Limit=10000)["Records"]
    assert len(records) == 200, f"{200 - len(records)} records lost: moto's Shard.put_record is not thread-safe"
    assert len({r["SequenceNumber"] for r in records}) == 200
    kinesis.delete_stream(StreamName=stream)


@pytest.mark.slow
@pytest.mark.xdist_group("runtime")
def test_sdk_service_tasks_get_the_sdk_parameter_names(moto_clients) -> None:
    """moto passes Task parameters to boto3 as written in the ASL; AWS maps `StateMachineArn` to the
    SDK's `stateMachineArn`. Without patch 5 this execution fails with States.Runtime 'StateMachineArn'."""
    import json
    import os
    import time
    import uuid

    import boto3

    from local import moto_server

    endpoint = moto_server.ensure_started()
    os.environ.setdefault("MOTO_PORT", endpoint.rsplit(":", 1)[1])
    sfn = boto3.client("stepfunctions", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
    moto_patches.enable_step_functions_execution()
    role = "arn:aws:iam::123456789012:role/guard"
    suffix = uuid.uuid4().hex[:8]
    child = sfn.create_state_machine(
        name=f"guard-child-{suffix}", roleArn=role,
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
    )["stateMachineArn"]
    for resource in ("arn:aws:states:::aws-sdk:sfn:startExecution", "arn:aws:states:::states:startExecution"):
        parent = sfn.create_state_machine(
            name=f"guard-parent-{uuid.uuid4().hex[:8]}", roleArn=role,
            definition=json.dumps({"StartAt": "S", "States": {"S": {
                "Type": "Task", "Resource": resource, "End": True,
                "Parameters": {"StateMachineArn": child, "Name.$": "$$.Execution.Name", "Input.$": "States.JsonToString($)"},
            }}}),
        )["stateMachineArn"]
        run = sfn.start_execution(stateMachineArn=parent, name=f"run-{uuid.uuid4().hex[:8]}", input='{"a": 1}')["executionArn"]
        for _ in range(100):
            desc = sfn.describe_execution(executionArn=run)
            if desc["status"] != "RUNNING":
                break
            time.sleep(0.05)
        assert desc["status"] == "SUCCEEDED", f"{resource}: {desc.get('error')}: {desc.get('cause')}"
        if "aws-sdk" in resource:
            assert set(json.loads(desc["output"])) == {"ExecutionArn", "StartDate"}  # PascalCase, as on AWS
