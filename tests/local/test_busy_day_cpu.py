"""What cuts a busy day's CPU per contact on the runtime's side (issue 17 item 4):

- local.inprocess_transport's fast parse: the embedded moto's answers to DynamoDB item operations are parsed
  with json.loads when that is botocore's parse (checked here against botocore's own walk, answer by answer);
- local.api_server.invoke_function: a registered function is invoked straight into its environment.
"""
from __future__ import annotations

import logging

import boto3
import pytest
from botocore.parsers import JSONParser

from local import inprocess_transport, moto_patches, moto_server

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runtime-traffic")]


@pytest.fixture(scope="module")
def ddb():
    moto_patches.apply()
    endpoint = moto_server.ensure_started()
    werkzeug = logging.getLogger("werkzeug")  # one log record per request otherwise
    level = werkzeug.level
    werkzeug.setLevel(logging.ERROR)
    was_installed = inprocess_transport.installed()
    inprocess_transport.install(endpoint, moto_server.app())
    yield boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="t", aws_secret_access_key="t")
    if not was_installed:
        inprocess_transport.uninstall()
    werkzeug.setLevel(level)
    moto_patches.restore_step_functions_config()


def _without_metadata(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "ResponseMetadata"}


def test_item_answers_parse_as_botocore_parses_them(ddb) -> None:  # noqa: ANN001
    table = "fast-parse"
    ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk")])
    every_type = {"s": {"S": "text with null and \"B\": inside"}, "n": {"N": "1.50"}, "ok": {"BOOL": True},
                  "nothing": {"NULL": True}, "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2"]},
                  "m": {"M": {"k": {"L": [{"S": "x"}, {"N": "3"}, {"M": {}}]}}}, "empty": {"L": []}}
    for i in range(5):
        ddb.put_item(TableName=table, Item={"pk": {"S": "p"}, "sk": {"S": f"{i}"}, "v": {"N": str(i)}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "p"}, "sk": {"S": "all"}, **every_type})
    ddb.put_item(TableName=table, Item={"pk": {"S": "p"}, "sk": {"S": "blob"}, "b": {"B": b"\x00\xff"},
                                        "bs": {"BS": [b"\x01"]}})
    key = {"pk": {"S": "p"}, "sk": {"S": "1"}}
    calls = [
        lambda: ddb.query(TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}}),
        lambda: ddb.query(TableName=table, KeyConditionExpression="pk = :p", Limit=2,
                          ExpressionAttributeValues={":p": {"S": "p"}}),
        lambda: ddb.get_item(TableName=table, Key={"pk": {"S": "p"}, "sk": {"S": "all"}}),
        lambda: ddb.get_item(TableName=table, Key={"pk": {"S": "p"}, "sk": {"S": "blob"}}),
        lambda: ddb.get_item(TableName=table, Key={"pk": {"S": "p"}, "sk": {"S": "absent"}}),
        lambda: ddb.update_item(TableName=table, Key=key, UpdateExpression="SET w = :w", ReturnValues="ALL_NEW",
                                ExpressionAttributeValues={":w": {"M": {"x": {"NS": ["1", "2"]}}}}),
        lambda: ddb.put_item(TableName=table, Item={"pk": {"S": "p"}, "sk": {"S": "2"}, "v": {"N": "2"}},
                             ReturnValues="ALL_OLD"),
        lambda: ddb.scan(TableName=table, ConsistentRead=True),
        lambda: ddb.batch_get_item(RequestItems={table: {"Keys": [key, {"pk": {"S": "p"}, "sk": {"S": "all"}}]}}),
        lambda: ddb.transact_get_items(TransactItems=[{"Get": {"TableName": table, "Key": key}}]),
        lambda: ddb.query(TableName=table, KeyConditionExpression="pk = :p", ReturnConsumedCapacity="TOTAL",
                          ExpressionAttributeValues={":p": {"S": "p"}}),
    ]
    for call in calls:  # the writes once first: both rounds below then see the same table
        call()
    fast = [_without_metadata(call()) for call in calls]
    patched = JSONParser._do_parse
    JSONParser._do_parse = inprocess_transport._original_json_do_parse  # noqa: SLF001 - botocore's own walk
    try:
        slow = [_without_metadata(call()) for call in calls]
    finally:
        JSONParser._do_parse = patched
    assert fast == slow  # (every call writes what is there already: the two rounds see the same table)
    assert fast[3]["Item"]["b"] == {"B": b"\x00\xff"}  # a blob: botocore's way (base64 decoded)
    assert len(fast[0]["Items"]) == 7 and fast[1]["LastEvaluatedKey"] == {"pk": {"S": "p"}, "sk": {"S": "1"}}


@pytest.mark.parametrize(("body", "plain"), [
    (b'{"Items": [{"a": {"S": "x"}}], "Count": 1, "ScannedCount": 1}', True),
    (b"{}", True),
    (b'{"Item": {"a": {"B": "AAE="}}}', False),  # a blob
    (b'{"Item": {"a": {"S": "x"}}, "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 0.5}}', False),
    (b'{"Items": [], "LastEvaluatedKey": null}', False),  # a null botocore drops
    (b'{"Responses": {}, "UnprocessedKeys": {"t": {"Keys": []}}}', False),
    (b'{"Responses": {}, "UnprocessedKeys": {}}', True),
])
def test_only_plain_item_answers_take_the_short_way(body: bytes, plain: bool) -> None:
    assert (inprocess_transport.plain_item_answer(body) is not None) is plain


def test_api_requests_reach_their_functions_without_a_lambda_invoke(runtime) -> None:  # noqa: ANN001
    """The API gateway emulation invokes the authorizer and the API's function in their environments directly:
    both run (counted as invocations), and the runtime makes no Lambda Invoke call for them."""
    from local import call_counter, lambda_runtime
    from local.simulation import ApiClient

    def invocations() -> int:
        return sum(f["invocations"] for f in lambda_runtime.STATS.snapshot().values())

    invokes_before = call_counter.COUNTER.runtime_calls()["lambda.Invoke"]
    invocations_before = invocations()
    status, body = ApiClient(runtime.api_url, runtime.api_keys["demo"]).call("GET", "/metrics/realtime")
    assert status == 200 and {q["queue_id"] for q in body} >= {"sales", "support", "billing"}
    assert invocations() >= invocations_before + 1  # the API's function (and the authorizer unless cached)
    assert call_counter.COUNTER.runtime_calls()["lambda.Invoke"] == invokes_before


def test_answers_with_binary_attributes_are_written_as_moto_s_serializer_writes_them(ddb) -> None:  # noqa: ANN001
    """Patch 8's short way now writes blobs (B, BS) in base64 as moto's serializer does: UpdateItem and
    BatchGetItem answers holding a binary attribute no longer go the generic way, and read back the same."""
    from moto.dynamodb.responses import DynamoResult

    table = "fast-json-blobs"
    ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    item = {"pk": {"S": "p"}, "b": {"B": b"\x00\xffbinary"}, "bs": {"BS": [b"\x01", b"\x02\x03"]},
            "m": {"M": {"inner": {"B": b"\x10"}}}}
    ddb.put_item(TableName=table, Item=item)
    calls = [
        lambda: ddb.update_item(TableName=table, Key={"pk": {"S": "p"}}, UpdateExpression="SET n = :n",
                                ExpressionAttributeValues={":n": {"N": "1"}}, ReturnValues="ALL_NEW"),
        lambda: ddb.batch_get_item(RequestItems={table: {"Keys": [{"pk": {"S": "p"}}]}}),
        lambda: ddb.get_item(TableName=table, Key={"pk": {"S": "p"}}),
    ]
    bodies: list[str] = []
    short_way = DynamoResult.execute_result

    def recording(self, context):  # noqa: ANN001, ANN202
        status, headers, body = short_way(self, context)
        bodies.append(body)
        return status, headers, body

    DynamoResult.execute_result = recording
    try:
        fast = [_without_metadata(call()) for call in calls]
        def serializer(self, context):  # noqa: ANN001, ANN202 - moto's serializer, on the converted result
            moto_patches.converted_result(self)  # (patch 23 converts only for it)
            return moto_patches._original_execute_result(self, context)  # noqa: SLF001

        DynamoResult.execute_result = serializer
        reference = [_without_metadata(call()) for call in calls]
    finally:
        DynamoResult.execute_result = short_way
    assert fast == reference
    assert fast[0]["Attributes"] == {**item, "n": {"N": "1"}}
    assert all(body.startswith("{") and '"B":"AP9iaW5hcnk="' in body for body in bodies)  # written, not walked
