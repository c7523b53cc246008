"""local.moto_patches patch 30: an UpdateItem's item size is measured once, after its last action, not at each
SET and ADD (moto summed every attribute's size at each: O(attributes x actions)); the limit and the answers are
moto's, and an update over it leaves the item as it was."""
from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from local import moto_patches
from tests.moto_items import keyed_table, patched  # noqa: F401 - the module's moto is patched

TABLE = "sizes"
KEY = {"pk": {"S": "p"}, "sk": {"S": "s"}}


@pytest.fixture
def ddb():
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        keyed_table(client, TABLE)
        yield client


def _item(ddb):
    return ddb.get_item(TableName=TABLE, Key=KEY, ConsistentRead=True)["Item"]


def _update(ddb, expression, values=None, names=None):
    extra = {"ExpressionAttributeValues": values} if values else {}
    return ddb.update_item(TableName=TABLE, Key=KEY, UpdateExpression=expression,
                           ExpressionAttributeNames=names or {}, ReturnValues="ALL_NEW", **extra)


def test_an_update_of_many_counters_measures_the_item_once_per_update_not_per_action(ddb, monkeypatch):
    from moto.dynamodb.models.dynamo_type import DynamoType

    ddb.put_item(TableName=TABLE, Item={**KEY, **{f"a{i}": {"N": str(i)} for i in range(60)}})
    sizes = []
    size = DynamoType.size

    def counted(self):
        sizes.append(1)
        return size(self)

    monkeypatch.setattr(DynamoType, "size", counted)
    adds = ", ".join(f"#n{i} :v{i}" for i in range(30))
    item = _update(ddb, f"ADD {adds}", {f":v{i}": {"N": "1"} for i in range(30)},
                   {f"#n{i}": f"a{i}" for i in range(30)})["Attributes"]
    assert [int(item[f"a{i}"]["N"]) for i in range(31)] == [i + 1 for i in range(30)] + [30]
    # moto's own check: ~30 actions x ~60 attributes = ~1,800 sizes; once after the actions: ~60 (+ each value set)
    assert len(sizes) < 200


def test_an_update_past_the_limit_is_moto_s_error_and_leaves_the_item_as_it_was(ddb):
    ddb.put_item(TableName=TABLE, Item={**KEY, "kept": {"S": "x" * 1000}, "n": {"N": "1"}})
    before = _item(ddb)
    half = "y" * 210_000
    with pytest.raises(ClientError) as error:
        _update(ddb, "SET a = :a, b = :b ADD n :one", {":a": {"S": half}, ":b": {"S": half}, ":one": {"N": "1"}})
    assert error.value.response["Error"]["Code"] == "ValidationException"
    assert "Item size to update has exceeded the maximum allowed size" in error.value.response["Error"]["Message"]
    assert _item(ddb) == before
    _update(ddb, "SET a = :a ADD n :one", {":a": {"S": half}, ":one": {"N": "1"}})  # under the limit: applied
    assert _item(ddb)["n"] == {"N": "2"} and len(_item(ddb)["a"]["S"]) == 210_000


def test_the_limit_is_motos_measure_of_the_item_the_update_leaves(ddb):
    """Under the limit by moto's measure of names and values, the update applies; a byte over, it does not."""
    ddb.put_item(TableName=TABLE, Item={**KEY})
    from moto.dynamodb.models import dynamodb_backends

    stored = dynamodb_backends["123456789012"]["us-east-1"].get_table(TABLE).get_item
    from moto.dynamodb.models.dynamo_type import DynamoType

    def size_now() -> int:
        return moto_patches.item_attributes_size(stored(DynamoType({"S": "p"}), DynamoType({"S": "s"})).attrs)

    room = moto_patches.ITEM_SIZE_LIMIT - size_now() - len("big")
    with pytest.raises(ClientError):
        _update(ddb, "SET big = :v", {":v": {"S": "z" * (room + 1)}})
    _update(ddb, "SET big = :v", {":v": {"S": "z" * room}})
    assert size_now() == moto_patches.ITEM_SIZE_LIMIT


def test_an_action_that_fails_after_a_set_leaves_the_top_level_attributes_as_they_were(ddb):
    """Outside review: `SET t = :big ADD s :one` with `s` a string failed at the ADD and kept `t` (over the limit)."""
    ddb.put_item(TableName=TABLE, Item={**KEY, "s": {"S": "text"}, "kept": {"S": "k"}})
    before = _item(ddb)
    with pytest.raises(ClientError) as error:
        _update(ddb, "SET t = :big ADD s :one", {":big": {"S": "t" * 1000}, ":one": {"N": "1"}})
    assert error.value.response["Error"]["Code"] == "ValidationException"
    assert _item(ddb) == before
