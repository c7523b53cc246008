"""What keeps a long local run's memory flat (issue 17 item 4), each against moto:

- patch 16: moto's CloudWatch keeps the newest datapoints of each metric, not one per Kinesis put forever;
- local.memory_release: what malloc holds free after a thread's peak goes back to the OS, every so often.
"""
from __future__ import annotations

import datetime as dt
import gc
import json
import logging
import threading
import time
import uuid
import weakref

import boto3
import pytest

from local import memory_release, moto_patches, moto_server

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runtime-traffic")]

ACCOUNT, REGION = "123456789012", "us-east-1"


@pytest.fixture(scope="module")
def endpoint():
    moto_patches.apply()
    werkzeug = logging.getLogger("werkzeug")  # one log record per request otherwise
    level = werkzeug.level
    werkzeug.setLevel(logging.ERROR)
    started = moto_server.ensure_started()
    # A runtime this worker ran before leaves its tables in the server until the next start resets it: items with a
    # TTL among them were swept too (the sweep's count is the whole backend's). These tests start from none.
    moto_server.reset()
    yield started
    werkzeug.setLevel(level)
    moto_patches.restore_step_functions_config()


def _client(endpoint: str, service: str, region: str = REGION):  # noqa: ANN202
    return boto3.client(service, endpoint_url=endpoint, region_name=region,
                        aws_access_key_id="t", aws_secret_access_key="t")


def _cloudwatch(region: str = REGION):  # noqa: ANN202
    from moto.cloudwatch.models import cloudwatch_backends

    return cloudwatch_backends[ACCOUNT][region]


def _datapoints(namespace: str, name: str, dimension: str, region: str = REGION) -> list[float]:
    return [d.value for d in _cloudwatch(region).metric_data
            if (d.namespace, d.name) == (namespace, name) and [x.value for x in d.dimensions] == [dimension]]


# -- patch 16 ------------------------------------------------------------------------------------------

def test_trim_keeps_the_newest_datapoints_of_each_metric_in_order() -> None:
    from moto.cloudwatch.models import MetricDatum

    def datum(name: str, value: float, stream: str = "s") -> MetricDatum:
        return MetricDatum("NS", name, value, [{"Name": "StreamName", "Value": stream}], None)

    data = [datum("a", i) for i in range(5)] + [datum("b", 100)] + [datum("a", i, "other") for i in range(3)]
    data += [datum("a", i) for i in range(5, 8)]
    assert moto_patches.trim_metric_data(data, keep=2) == 7
    assert [(d.name, d.dimensions[0].value, d.value) for d in data] == [
        ("b", "s", 100), ("a", "other", 1), ("a", "other", 2), ("a", "s", 6), ("a", "s", 7)]


def test_kinesis_puts_keep_a_bounded_number_of_datapoints(endpoint, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(moto_patches, "CLOUDWATCH_KEEP_PER_METRIC", 10)
    # A region of its own: the trim runs when the backend's WHOLE list doubled, so other tests' datapoints in
    # the same backend (a worker shares one moto) would let this metric pass 2 x 10 before a trim.
    region = "ap-southeast-2"  # no other test uses it
    kinesis = _client(endpoint, "kinesis", region)
    stream = f"metrics-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    for i in range(120):
        kinesis.put_record(StreamName=stream, PartitionKey="pk", Data=json.dumps({"i": i}).encode() + b" " * i)
    records = _datapoints("AWS/Kinesis", "IncomingRecords", stream, region)
    sizes = _datapoints("AWS/Kinesis", "IncomingBytes", stream, region)
    # moto alone keeps 120 of each; the patch trims to 10 once the list doubled: never more than 2 x 10.
    assert 10 <= len(records) <= 20 and 10 <= len(sizes) <= 20
    # the newest puts are there (moto counts the partition key's bytes too)
    assert sizes[-2:] == [len(json.dumps({"i": i})) + i + len("pk") for i in (118, 119)]
    # ... and CloudWatch still answers for them.
    now = dt.datetime.now(dt.timezone.utc)
    stats = _client(endpoint, "cloudwatch", region).get_metric_statistics(
        Namespace="AWS/Kinesis", MetricName="IncomingRecords", Dimensions=[{"Name": "StreamName", "Value": stream}],
        StartTime=now - dt.timedelta(minutes=5), EndTime=now + dt.timedelta(minutes=1), Period=3600,
        Statistics=["SampleCount"])
    assert sum(p["SampleCount"] for p in stats["Datapoints"]) == len(records)


def test_moto_alone_keeps_every_datapoint() -> None:
    """What patch 16 is for: the original put_metric_data appends one datapoint per value, forever."""
    put = moto_patches._original_put_metric_data  # noqa: SLF001
    backend = _cloudwatch()
    name = f"raw-{uuid.uuid4().hex[:8]}"
    for i in range(50):
        put(backend, "Raw", [{"MetricName": name, "Value": i, "Dimensions": [{"Name": "d", "Value": "x"}]}])
    assert len(_datapoints("Raw", name, "x")) == 50


# -- local.memory_release ---------------------------------------------------------------------------------

def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmRSS:"))


def test_release_gives_a_threads_freed_peak_back() -> None:
    if not memory_release.available():  # not glibc: nothing to call, and it says so
        assert memory_release.release() is False
        return
    kept: list[bytes] = []

    def peak() -> None:  # ~100 MB of malloc'd blocks on a thread's heap; 1 in 100 survives (the holes stay)
        blocks = [bytes(1000) + bytes([i % 256]) for i in range(100_000)]
        kept.extend(blocks[::100])

    worker = threading.Thread(target=peak)
    worker.start()
    worker.join()
    before = _rss_mb()
    assert memory_release.release()
    assert before - _rss_mb() > 50  # malloc kept the freed pages resident until asked
    assert len(kept) == 1_000


def test_the_releaser_frees_what_only_a_cycle_holds_at_each_interval() -> None:
    """A finished Step Functions execution and its worker refer to each other (moto's parser): only the cyclic
    collector frees them, and with the runtime's thresholds its full passes were rare (finished executions piled
    up by the hundred). The releaser runs a full collection before each trim."""
    class Node:
        pass

    was_enabled = gc.isenabled()
    gc.disable()  # only the releaser collects here
    releaser = memory_release.MemoryReleaser(0.02).start()  # (its start collects once: the cycle comes after)
    try:
        first, second = Node(), Node()
        first.other, second.other = second, first
        first.payload = bytearray(1_000_000)
        alive = weakref.ref(first)
        del first, second
        assert alive() is not None  # refcounting alone keeps a cycle
        deadline = time.monotonic() + 5
        while alive() is not None and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        releaser.stop()
        if was_enabled:
            gc.enable()
    assert alive() is None
    assert releaser.collections >= 1 and 0 < releaser.longest_collect_s <= releaser.collect_s


def test_a_long_collection_spaces_out_the_next() -> None:
    assert memory_release.next_wait_s(30.0, 0.0) == 30.0
    assert memory_release.next_wait_s(30.0, 0.2) == 30.0  # ~0.7 % of the time
    assert memory_release.next_wait_s(30.0, 2.0) == 2.0 * memory_release.COLLECT_DUTY_SHARE  # 2 s pauses: 2 %


def test_the_releaser_runs_every_interval_and_stops_at_once() -> None:
    releaser = memory_release.MemoryReleaser(0.02).start()
    deadline = time.monotonic() + 5
    while releaser.releases < 2 and time.monotonic() < deadline and memory_release.available():
        time.sleep(0.01)
    releaser.stop()
    assert releaser.releases >= (2 if memory_release.available() else 0)
    assert not any(t.name == "local-memory-release" for t in threading.enumerate())


# --- DynamoDB's TTL, emulated (local.ttl) --------------------------------------------------------------------


def test_the_ttl_sweep_deletes_the_expired_items_of_tables_with_ttl_and_nothing_else(endpoint):
    from moto.dynamodb.models import dynamodb_backends

    from local.ttl import TtlSweeper

    ddb = _client(endpoint, "dynamodb")
    suffix = uuid.uuid4().hex[:8]
    keyed = {"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
             "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}]}
    hashed = {"KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
              "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}]}
    tables = {"ranged": (f"ttl-r-{suffix}", keyed), "hashed": (f"ttl-h-{suffix}", hashed), "plain": (f"ttl-p-{suffix}", hashed)}
    for kind, (name, schema) in tables.items():
        ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **schema)
        if kind != "plain":  # the third has no TTL: DynamoDB deletes nothing of it
            ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={"AttributeName": "expires", "Enabled": True})
    now = 1_800_000_000

    def put(kind: str, key: str, expires: dict | None) -> None:
        name, schema = tables[kind]
        item = {"pk": {"S": key}, "sk": {"S": "x"}} if schema is keyed else {"id": {"S": key}}
        ddb.put_item(TableName=name, Item={**item, **({"expires": expires} if expires else {})})

    for kind in tables:
        put(kind, "past", {"N": str(now - 1)})
        put(kind, "future", {"N": str(now + 60)})
        put(kind, "none", None)
        put(kind, "text", {"S": str(now - 1)})  # not a number: ignored, as DynamoDB does
    sweeper = TtlSweeper(dynamodb_backends[ACCOUNT][REGION], every_s=60, clock=lambda: now)
    assert sweeper.sweep_once() == 2

    def keys(kind: str) -> set[str]:
        name, schema = tables[kind]
        return {i["pk" if schema is keyed else "id"]["S"] for i in ddb.scan(TableName=name)["Items"]}

    assert keys("ranged") == keys("hashed") == {"future", "none", "text"}
    assert keys("plain") == {"past", "future", "none", "text"}
    assert sweeper.sweep_once() == 0 and sweeper.deleted == 2


def test_an_index_query_no_longer_answers_an_item_the_sweep_deleted(endpoint):
    """The sweep deletes from moto's table outside a request: patch 25's index maps (what index Queries read)
    must follow, or a Query of the index would still answer the deleted item."""
    from moto.dynamodb.models import dynamodb_backends

    from local.ttl import TtlSweeper

    ddb = _client(endpoint, "dynamodb")
    name, now = f"ttl-index-{uuid.uuid4().hex[:8]}", 1_800_000_000
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}, {"AttributeName": "g", "AttributeType": "S"}],
                     GlobalSecondaryIndexes=[{"IndexName": "by_g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                              "Projection": {"ProjectionType": "ALL"}}])
    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={"AttributeName": "expires", "Enabled": True})
    for key, expires in (("old", now - 5), ("new", now + 120)):
        ddb.put_item(TableName=name, Item={"id": {"S": key}, "g": {"S": "x"}, "expires": {"N": str(expires)}})

    def by_g() -> set[str]:
        answer = ddb.query(TableName=name, IndexName="by_g", KeyConditionExpression="g = :g", ExpressionAttributeValues={":g": {"S": "x"}})
        return {i["id"]["S"] for i in answer["Items"]}

    assert by_g() == {"old", "new"}  # the index's map is built now
    assert TtlSweeper(dynamodb_backends[ACCOUNT][REGION], every_s=60, clock=lambda: now).sweep_once() == 1
    assert by_g() == {"new"}
    assert "Item" not in ddb.get_item(TableName=name, Key={"id": {"S": "old"}})
