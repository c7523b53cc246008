"""The Kinesis event source mapping emulation, with a fake consumer, against moto's Kinesis and SQS."""
from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from typing import Any

import pytest

from local.deployer import EventSourceMappingSpec
from local.kinesis_poller import InvokeResult, KinesisPoller
from local.testing import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runtime")]

FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:fake-consumer"
ROLE_ARN = "arn:aws:iam::123456789012:role/fake-consumer-role"


@pytest.fixture(scope="module")
def aws():
    import boto3

    from local import moto_patches, moto_server

    moto_patches.apply()
    endpoint = moto_server.ensure_started()
    kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
    yield {s: boto3.client(s, **kw) for s in ("kinesis", "sqs", "s3")}
    moto_patches.restore_step_functions_config()


class FakeConsumer:
    """Records every batch; `fail(seqs)` decides which records fail (by data), `raise_on` raises."""

    def __init__(self, fail_data: set[str] | None = None, raise_if: Any = None, partial: bool = True) -> None:
        self.batches: list[list[str]] = []
        self.sequences: list[list[str]] = []
        self.fail_data = fail_data or set()
        self.raise_if = raise_if
        self.partial = partial
        self.lock = threading.Lock()

    def __call__(self, event: dict[str, Any]) -> InvokeResult:
        records = event["Records"]
        data = [base64.b64decode(r["kinesis"]["data"]).decode() for r in records]
        with self.lock:
            self.batches.append(data)
            self.sequences.append([r["kinesis"]["sequenceNumber"] for r in records])
        if self.raise_if is not None and self.raise_if(data):
            return InvokeResult(function_error="Unhandled", payload={"errorType": "Boom", "errorMessage": "boom"})
        failures = [
            {"itemIdentifier": r["kinesis"]["sequenceNumber"]} for r, d in zip(records, data) if d in self.fail_data
        ]
        return InvokeResult(payload={"batchItemFailures": failures})

    def delivered(self) -> list[str]:
        with self.lock:
            return [d for b in self.batches for d in b]


def make_stream(aws: dict[str, Any]) -> tuple[str, str, str, str]:
    name = f"poller-{uuid.uuid4().hex[:8]}"
    aws["kinesis"].create_stream(StreamName=name, ShardCount=1)
    arn = aws["kinesis"].describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    url = aws["sqs"].create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = aws["sqs"].get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return name, arn, url, dlq_arn


def put(aws: dict[str, Any], stream: str, items: list[str]) -> None:
    aws["kinesis"].put_records(StreamName=stream, Records=[{"Data": d.encode(), "PartitionKey": "pk"} for d in items])


def poller(aws: dict[str, Any], stream_arn: str, consumer: FakeConsumer, clock=time.time, **settings: Any) -> KinesisPoller:
    props = {
        "EventSourceArn": stream_arn,
        "FunctionName": "fake-consumer",
        "StartingPosition": "TRIM_HORIZON",
        "BatchSize": 10,
        "MaximumBatchingWindowInSeconds": 0,
        **settings,
    }
    spec = EventSourceMappingSpec.from_properties("FakeMapping", props)
    return KinesisPoller(
        spec, kinesis=aws["kinesis"], sqs=aws["sqs"], s3=aws.get("s3"), function_arn=FUNCTION_ARN, identity_arn=ROLE_ARN,
        invoke=consumer, poll_interval_s=0.02, retry_backoff_s=0.0, clock=clock,
    )


def dlq_messages(aws: dict[str, Any], url: str, expected: int, timeout_s: float = 10.0) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []

    def probe() -> bool:
        out = aws["sqs"].receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        for m in out.get("Messages", []):
            got.append(json.loads(m["Body"]))
            aws["sqs"].delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return len(got) >= expected

    wait_until(probe, timeout_s, what=f"{expected} DLQ message(s)")
    return got


def test_real_event_shape_and_batch_size(aws) -> None:
    stream, arn, _, _ = make_stream(aws)
    items = [f"r{i}" for i in range(25)]
    put(aws, stream, items)
    consumer = FakeConsumer()
    p = poller(aws, arn, consumer, BatchSize=10).start()
    try:
        wait_until(lambda: len(consumer.delivered()) >= 25, what="25 records delivered")
    finally:
        p.stop()
    assert consumer.delivered() == items  # in order, each once
    assert [len(b) for b in consumer.batches] == [10, 10, 5]

    # one delivered record, field by field
    captured: list[dict[str, Any]] = []
    stream2, arn2, _, _ = make_stream(aws)
    put(aws, stream2, ["x"])
    p2 = poller(aws, arn2, lambda e: (captured.append(e), InvokeResult(payload=None))[1]).start()
    try:
        wait_until(lambda: captured, what="one batch")
    finally:
        p2.stop()
    rec = captured[0]["Records"][0]
    assert rec["eventSource"] == "aws:kinesis" and rec["eventName"] == "aws:kinesis:record"
    assert rec["eventVersion"] == "1.0" and rec["awsRegion"] == "us-east-1"
    assert rec["eventSourceARN"] == arn2 and rec["invokeIdentityArn"] == ROLE_ARN
    k = rec["kinesis"]
    assert k["kinesisSchemaVersion"] == "1.0" and k["partitionKey"] == "pk"
    assert base64.b64decode(k["data"]) == b"x"
    assert isinstance(k["approximateArrivalTimestamp"], float)
    assert rec["eventID"] == f"shardId-000000000000:{k['sequenceNumber']}"


def test_batching_window_collects_records(aws) -> None:
    stream, arn, _, _ = make_stream(aws)
    consumer = FakeConsumer()
    p = poller(aws, arn, consumer, BatchSize=100, MaximumBatchingWindowInSeconds=1).start()
    try:
        for i in range(5):
            put(aws, stream, [f"w{i}"])
            time.sleep(0.05)
        wait_until(lambda: len(consumer.delivered()) >= 5, what="5 records")
    finally:
        p.stop()
    assert [len(b) for b in consumer.batches] == [5]


def test_flush_delivers_what_the_batching_window_holds_and_later_records_wait_again(aws) -> None:
    """The window is measured on the poller's clock, stopped here: it never ends by itself, so a record
    held in it is delivered by flush() or not at all."""
    stream, arn, _, _ = make_stream(aws)
    consumer = FakeConsumer()
    stopped_clock = lambda: 1_000.0  # noqa: E731 - the window's clock never moves
    p = poller(aws, arn, consumer, clock=stopped_clock, BatchSize=100, MaximumBatchingWindowInSeconds=300).start()
    try:
        wait_until(p.idle, what="the shard read once")
        put(aws, stream, ["f1", "f2"])
        wait_until(lambda: not p.idle(), what="the records fetched into the window")
        time.sleep(0.3)  # several of the window's checks (every 0.02 s here) go by
        assert consumer.batches == []  # held: not flushed, window open
        p.flush()
        wait_until(lambda: consumer.batches, what="the flushed batch")
        wait_until(p.idle, what="the poller idle after the flush")
        assert consumer.batches == [["f1", "f2"]]
        put(aws, stream, ["f3"])  # after the flush: batched as configured again
        wait_until(lambda: not p.idle(), what="the next record fetched into a new window")
        time.sleep(0.3)
        assert consumer.batches == [["f1", "f2"]]
        p.flush()
        wait_until(lambda: len(consumer.batches) == 2, what="the second flushed batch")
    finally:
        p.stop()
    assert consumer.batches == [["f1", "f2"], ["f3"]]


class CountingKinesis:
    """The Kinesis client, counting GetRecords calls."""

    def __init__(self, client: Any) -> None:
        self.client, self.reads = client, 0

    def get_records(self, **kwargs: Any) -> Any:
        self.reads += 1
        return self.client.get_records(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def test_an_open_window_reads_the_shard_only_when_a_put_wakes_it(aws) -> None:
    """Records held in a batching window: the shard is read again for a put (the hook wakes it), not at every
    one of the window's checks (it was read every 0.02 s here: ~15 reads in the 0.3 s)."""
    stream, arn, _, _ = make_stream(aws)
    consumer = FakeConsumer()
    stopped_clock = lambda: 1_000.0  # noqa: E731 - the window never ends by itself
    p = poller(aws, arn, consumer, clock=stopped_clock, BatchSize=100, MaximumBatchingWindowInSeconds=300)
    counting = p.kinesis = CountingKinesis(aws["kinesis"])
    p.start()
    try:
        wait_until(p.idle, what="the shard read once")
        put(aws, stream, ["h1"])
        wait_until(lambda: not p.idle(), what="the record fetched into the window")
        reads = counting.reads
        time.sleep(0.3)  # ~15 of the window's checks
        assert counting.reads - reads <= 1, counting.reads - reads
        put(aws, stream, ["h2"])  # a put: read at once, into the same window
        wait_until(lambda: counting.reads > reads, what="a read for the put")
        p.flush()
        wait_until(lambda: consumer.batches, what="the flushed batch")
    finally:
        p.stop()
    assert consumer.batches == [["h1", "h2"]]


def test_a_put_no_hook_announced_is_read_as_the_window_ends(aws) -> None:
    """Another process's client (the AWS CLI against the local endpoint) wakes no poller: what it put during a
    window is read once as the window ends and delivered in that batch."""
    from moto.kinesis.models import kinesis_backends

    stream, arn, _, _ = make_stream(aws)
    consumer = FakeConsumer()
    p = poller(aws, arn, consumer, BatchSize=100, MaximumBatchingWindowInSeconds=1).start()
    try:
        wait_until(p.idle, what="the shard read once")
        put(aws, stream, ["a1"])
        wait_until(lambda: not p.idle(), what="the record fetched into the window")
        kinesis_backends["123456789012"]["us-east-1"].put_record(  # the backend itself: no botocore hook runs
            stream_arn=None, stream_name=stream, partition_key="pk", explicit_hash_key=None, data=base64.b64encode(b"a2").decode())
        wait_until(lambda: consumer.batches, timeout_s=10, what="the window's batch")
    finally:
        p.stop()
    assert consumer.batches == [["a1", "a2"]]


def test_partial_batch_failure_retries_from_the_failed_record(aws) -> None:
    stream, arn, _, _ = make_stream(aws)
    items = [f"p{i}" for i in range(10)]
    put(aws, stream, items)
    attempts = {"n": 0}

    class FlakyOnce(FakeConsumer):
        def __call__(self, event: dict[str, Any]) -> InvokeResult:
            attempts["n"] += 1
            self.fail_data = {"p4", "p7"} if attempts["n"] == 1 else set()
            return super().__call__(event)

    consumer = FlakyOnce()
    p = poller(aws, arn, consumer, BatchSize=10, FunctionResponseTypes=["ReportBatchItemFailures"], MaximumRetryAttempts=3).start()
    try:
        wait_until(lambda: len(consumer.batches) >= 2, what="the retried batch")
        time.sleep(0.2)
    finally:
        p.stop()
    # checkpoint at the LOWEST failed record (p4): p4..p9 again, p0..p3 never again
    assert consumer.batches == [items, items[4:]]
    assert p.stats.partial_failures == 1 and p.stats.dlq_batches == 0


def test_invalid_item_identifier_fails_the_whole_batch(aws) -> None:
    stream, arn, _, _ = make_stream(aws)
    put(aws, stream, ["a", "b"])
    calls = {"n": 0}

    def consumer(event: dict[str, Any]) -> InvokeResult:
        calls["n"] += 1
        return InvokeResult(payload={"batchItemFailures": [{"itemIdentifier": ""}]} if calls["n"] == 1 else None)

    seen: list[int] = []
    p = poller(aws, arn, lambda e: (seen.append(len(e["Records"])), consumer(e))[1],
               FunctionResponseTypes=["ReportBatchItemFailures"]).start()
    try:
        wait_until(lambda: len(seen) >= 2, what="a retry")
    finally:
        p.stop()
    assert seen[:2] == [2, 2]


def test_bisect_isolates_the_bad_record(aws) -> None:
    stream, arn, dlq_url, dlq_arn = make_stream(aws)
    items = [f"b{i}" for i in range(8)]
    put(aws, stream, items)
    consumer = FakeConsumer(raise_if=lambda data: "b5" in data)
    p = poller(
        aws, arn, consumer, BatchSize=8, BisectBatchOnFunctionError=True, MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": dlq_arn}},
    ).start()
    try:
        messages = dlq_messages(aws, dlq_url, 1)
        wait_until(lambda: set(consumer.delivered()) >= set(items), what="every record tried")
        time.sleep(0.2)
    finally:
        p.stop()
    sizes = [len(b) for b in consumer.batches]
    assert sizes[0] == 8 and 4 in sizes and 2 in sizes and 1 in sizes, sizes
    assert consumer.batches.count(["b5"]) == 2  # first try + MaximumRetryAttempts=1
    # everything else succeeded exactly in a batch that did not fail
    info = messages[0]["KinesisBatchInfo"]
    assert info["batchSize"] == 1
    bad_seq = consumer.sequences[consumer.batches.index(["b5"])][0]
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == bad_seq
    assert p.stats.bisections >= 3
    assert p.stats.last_function_error == "Boom: boom"  # what failed, not only how often


def test_retries_exhausted_go_to_the_dlq_with_batch_info(aws) -> None:
    stream, arn, dlq_url, dlq_arn = make_stream(aws)
    put(aws, stream, ["ok1", "bad", "ok2"])
    consumer = FakeConsumer(fail_data={"bad"})
    p = poller(
        aws, arn, consumer, BatchSize=10, FunctionResponseTypes=["ReportBatchItemFailures"], MaximumRetryAttempts=2,
        DestinationConfig={"OnFailure": {"Destination": dlq_arn}},
    ).start()
    try:
        (message,) = dlq_messages(aws, dlq_url, 1)
    finally:
        p.stop()
    # first delivery + 2 retries of the checkpointed batch [bad, ok2]
    assert consumer.batches == [["ok1", "bad", "ok2"], ["bad", "ok2"], ["bad", "ok2"]]
    rc, info = message["requestContext"], message["KinesisBatchInfo"]
    assert rc["condition"] == "RetryAttemptsExhausted" and rc["functionArn"] == FUNCTION_ARN
    assert rc["approximateInvokeCount"] == 3
    assert message["responseContext"]["statusCode"] == 200 and message["version"] == "1.0"
    assert info["shardId"] == "shardId-000000000000" and info["streamArn"] == arn and info["batchSize"] == 2
    assert info["startSequenceNumber"] == consumer.sequences[1][0]
    assert info["endSequenceNumber"] == consumer.sequences[1][1]
    assert info["approximateArrivalOfFirstRecord"].endswith("Z") and info["approximateArrivalOfLastRecord"].endswith("Z")
    assert message["timestamp"].endswith("Z")


def test_an_s3_destination_keeps_the_discarded_records_themselves(aws) -> None:
    """Lambda's S3 on-failure destination: the same invocation record as SQS gets, plus "payload" (the event the
    function was invoked with), under aws/lambda/<mapping UUID>/<shard>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>."""
    stream, arn, _, _ = make_stream(aws)
    bucket = f"{stream}-failures"
    aws["s3"].create_bucket(Bucket=bucket)
    put(aws, stream, ["ok1", "bad", "ok2"])
    consumer = FakeConsumer(fail_data={"bad"})
    p = poller(
        aws, arn, consumer, BatchSize=10, FunctionResponseTypes=["ReportBatchItemFailures"], MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": f"arn:aws:s3:::{bucket}"}},
    ).start()
    try:
        keys = wait_until(lambda: [o["Key"] for o in aws["s3"].list_objects_v2(Bucket=bucket).get("Contents", [])],
                          what="the discarded batch in the bucket")
    finally:
        p.stop()
    (key,) = keys
    assert re.fullmatch(rf"aws/lambda/{p.mapping.uuid}/shardId-000000000000/\d{{4}}/\d{{2}}/\d{{2}}/"
                        rf"\d{{4}}-\d{{2}}-\d{{2}}T\d{{2}}\.\d{{2}}\.\d{{2}}-[0-9a-f-]{{36}}", key), key
    body = json.loads(aws["s3"].get_object(Bucket=bucket, Key=key)["Body"].read())
    assert body["requestContext"]["condition"] == "RetryAttemptsExhausted" and body["KinesisBatchInfo"]["batchSize"] == 2
    records = body["payload"]["Records"]
    assert [base64.b64decode(r["kinesis"]["data"]).decode() for r in records] == ["bad", "ok2"]
    assert [r["kinesis"]["sequenceNumber"] for r in records] == consumer.sequences[1]
    assert p.stats.dlq_records == 2


def test_records_older_than_max_age_are_skipped_to_the_dlq(aws) -> None:
    stream, arn, dlq_url, dlq_arn = make_stream(aws)
    put(aws, stream, ["old1", "old2"])
    skew = {"s": 0.0}
    clock = lambda: time.time() + skew["s"]  # noqa: E731 - the poller's clock, moved forward below
    consumer = FakeConsumer()
    skew["s"] = 120.0  # the two records are now 2 minutes old
    p = poller(
        aws, arn, consumer, BatchSize=10, MaximumRecordAgeInSeconds=60,
        DestinationConfig={"OnFailure": {"Destination": dlq_arn}}, clock=clock,
    ).start()
    try:
        (message,) = dlq_messages(aws, dlq_url, 1)
        skew["s"] = 0.0
        put(aws, stream, ["fresh"])
        wait_until(lambda: consumer.delivered(), what="the fresh record")
    finally:
        p.stop()
    assert consumer.delivered() == ["fresh"]  # the old ones were never delivered
    assert message["requestContext"]["condition"] == "RecordAgeExceeded"
    assert message["requestContext"]["approximateInvokeCount"] == 0
    assert message["KinesisBatchInfo"]["batchSize"] == 2
