"""bench_cost's write hook in moto: each write priced from the item before and after it, on the table and on
each global secondary index as the table declares it (sparse keys, projections), inside transactions too."""
from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from bench import bench_cost
from local import call_counter


@pytest.fixture
def table():
    with mock_aws():
        db = boto3.client("dynamodb", region_name="us-east-1")
        keys = [{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "wait_pk", "wait_sk", "cust_pk")]
        db.create_table(
            TableName="T", BillingMode="PAY_PER_REQUEST", AttributeDefinitions=keys,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[
                {"IndexName": "waiting", "Projection": {"ProjectionType": "ALL"},
                 "KeySchema": [{"AttributeName": "wait_pk", "KeyType": "HASH"}, {"AttributeName": "wait_sk", "KeyType": "RANGE"}]},
                {"IndexName": "customer", "Projection": {"ProjectionType": "KEYS_ONLY"},
                 "KeySchema": [{"AttributeName": "cust_pk", "KeyType": "HASH"}]},
            ],
        )
        writes = bench_cost._Writes()
        writes.install()
        writes.on = True
        try:
            yield db, writes
        finally:
            writes.uninstall()


def _units(writes: bench_cost._Writes) -> tuple[float, dict[str, float]]:
    table = sum(writes.table_wru.values())
    index: dict[str, float] = {}
    for (_, _, name), v in writes.index_wru.items():
        index[name] = index.get(name, 0) + v
    return table, index


KEY = {"pk": {"S": "c1"}, "sk": {"S": "CONTACT"}}


def test_each_write_is_priced_on_the_table_and_on_the_indexes_it_touches(table):
    db, writes = table
    with call_counter.attribute_to("route_contact"):
        db.put_item(TableName="T", Item={**KEY, "cust_pk": {"S": "t#cust"}, "state": {"S": "NEW"}})
    assert _units(writes) == (1, {"customer": 1})  # not waiting: no `waiting` entry; the customer's keys: 1 put
    # enters `waiting`; the customer entry (keys only) is not rewritten
    db.update_item(TableName="T", Key=KEY, UpdateExpression="SET wait_pk = :q, wait_sk = :s, #st = :w",
                   ExpressionAttributeNames={"#st": "state"},
                   ExpressionAttributeValues={":q": {"S": "t#q1"}, ":s": {"S": "0001"}, ":w": {"S": "QUEUED"}})
    assert _units(writes) == (2, {"customer": 1, "waiting": 1})
    db.update_item(TableName="T", Key=KEY, UpdateExpression="SET note = :n", ExpressionAttributeValues={":n": {"S": "x" * 1500}})
    assert _units(writes) == (4, {"customer": 1, "waiting": 3})  # 1.5 KB item: 2 units, and its whole-item entry too
    db.delete_item(TableName="T", Key=KEY)
    assert _units(writes) == (6, {"customer": 2, "waiting": 5})  # leaves both indexes
    assert writes.index_ops[("T", "waiting", "put")] == 1 and writes.index_ops[("T", "waiting", "update")] == 1
    assert {fn for fn, _ in writes.table_wru} == {"route_contact", call_counter.RUNTIME}


def test_transactions_double_the_table_s_units_and_a_failed_condition_is_charged(table):
    db, writes = table
    db.transact_write_items(TransactItems=[{"Put": {"TableName": "T", "Item": {**KEY, "state": {"S": "NEW"}}}}])
    assert _units(writes) == (2, {})
    with pytest.raises(db.exceptions.ConditionalCheckFailedException):
        db.put_item(TableName="T", Item={**KEY, "wait_pk": {"S": "t#q1"}, "wait_sk": {"S": "1"}},
                    ConditionExpression="attribute_not_exists(pk)")
    assert _units(writes) == (3, {})  # the item there, 1 unit; nothing written to the index
    assert writes.writes["T"] == 2


def test_nothing_is_counted_while_off_and_the_backend_is_restored(table):
    db, writes = table
    writes.on = False
    db.put_item(TableName="T", Item={**KEY, "state": {"S": "NEW"}})
    assert _units(writes) == (0, {})
    writes.uninstall()
    from moto.dynamodb.models import DynamoDBBackend

    assert all(not getattr(getattr(DynamoDBBackend, n), "__qualname__", "").startswith("_Writes") for n in writes.WRITES)
