"""moto patch 8's fast responses (local.moto_patches.FAST_JSON_OPERATIONS): for every operation written as
the JSON its result already is, the body equals what moto's generic serializer writes."""
from __future__ import annotations

import json
import logging
from decimal import Decimal

import boto3
import pytest
from botocore.config import Config
from moto.dynamodb.responses import DynamoResult

from local import moto_patches, moto_server

ITEM = {
    "pk": "tenant#1", "sk": "contact#0001", "n": Decimal("12.5"), "i": 7, "flag": True, "nothing": None,
    "tags": {"a", "b"}, "nums": {Decimal(1), Decimal(2)}, "list": ["x", Decimal(3), {"deep": ["y", None]}],
    "map": {"when": "2026-12-02T10:00:00Z", "empty": {}, "also": []}, "text": "ünïcode \\ \" quotes",
}


@pytest.fixture(scope="module")
def table():
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto_patches.apply()
    endpoint = moto_server.ensure_started()
    resource = boto3.session.Session().resource(
        "dynamodb", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
        aws_secret_access_key="testing", config=Config(retries={"total_max_attempts": 1}))
    t = resource.create_table(
        TableName="fast-json", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"},
                              {"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[{"IndexName": "by_g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}])
    yield t
    t.delete()


def test_fast_bodies_equal_the_serializers(table, monkeypatch):
    fast = DynamoResult.execute_result
    original = moto_patches._original_execute_result  # noqa: SLF001
    assert original is not None and fast is not original
    compared: dict[str, int] = {}
    differences: list[tuple[str, str, str]] = []

    def spy(self, context):
        answer = fast(self, context)
        name = context.operation_model.name
        if name in moto_patches.FAST_JSON_OPERATIONS:
            moto_patches.converted_result(self)  # patch 23: moto's serializer gets the result in plain types
            generic = original(self, context)
            compared[name] = compared.get(name, 0) + 1
            if json.loads(answer[2]) != json.loads(generic[2]) or answer[0] != generic[0]:
                differences.append((name, answer[2], generic[2]))
        return answer

    monkeypatch.setattr(DynamoResult, "execute_result", spy)
    client = table.meta.client
    for i in range(3):
        table.put_item(Item={**ITEM, "sk": f"contact#{i:04d}", "g": f"g{i % 2}"})
    table.put_item(Item={**ITEM, "sk": "contact#0000", "g": "g0"}, ReturnValues="ALL_OLD")
    table.get_item(Key={"pk": "tenant#1", "sk": "contact#0001"})
    table.get_item(Key={"pk": "tenant#1", "sk": "missing"})
    table.get_item(Key={"pk": "tenant#1", "sk": "contact#0001"}, ProjectionExpression="#m.#w, tags",
                   ExpressionAttributeNames={"#m": "map", "#w": "when"}, ReturnConsumedCapacity="TOTAL")
    table.update_item(Key={"pk": "tenant#1", "sk": "contact#0001"}, UpdateExpression="SET i = i + :one, newer = :s",
                      ExpressionAttributeValues={":one": 1, ":s": "x"}, ReturnValues="ALL_NEW")
    table.update_item(Key={"pk": "tenant#1", "sk": "contact#0002"}, UpdateExpression="REMOVE nothing",
                      ReturnValues="UPDATED_OLD")
    table.update_item(Key={"pk": "tenant#1", "sk": "contact#0002"}, UpdateExpression="SET flag = :f",
                      ExpressionAttributeValues={":f": False})
    table.query(KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": "tenant#1"}, Limit=2)
    table.query(IndexName="by_g", KeyConditionExpression="g = :g", ExpressionAttributeValues={":g": "g0"},
                Select="COUNT")
    table.scan(FilterExpression="flag = :t", ExpressionAttributeValues={":t": True}, Limit=5)
    client.batch_get_item(RequestItems={"fast-json": {"Keys": [{"pk": "tenant#1", "sk": f"contact#{i:04d}"} for i in range(4)]}})
    client.transact_get_items(TransactItems=[{"Get": {"TableName": "fast-json", "Key": {"pk": "tenant#1", "sk": "contact#0000"}}},
                                             {"Get": {"TableName": "fast-json", "Key": {"pk": "tenant#1", "sk": "nope"}}}])
    table.delete_item(Key={"pk": "tenant#1", "sk": "contact#0002"}, ReturnValues="ALL_OLD")
    table.delete_item(Key={"pk": "tenant#1", "sk": "contact#0009"})
    assert differences == [], "\n".join(f"{n}\nFAST {a}\nGENERIC {b}" for n, a, b in differences)
    assert set(compared) == set(moto_patches.FAST_JSON_OPERATIONS), compared
