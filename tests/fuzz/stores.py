"""Where a running deployment keeps what it was sent, read back whole: every item of every table, every object of
every bucket, every execution's input, output and history, every record still on a stream, every message
waiting in a queue. The card-number sweep reads it all for the numbers it typed (tests/fuzz/test_fuzz_api.py).
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any


def luhn_card(n: int) -> str:
    """The n-th of a family of 16-digit Visa-shaped numbers that pass the Luhn check, each distinct, so a
    number found in a store names the field it was typed into."""
    prefix = f"4{n:05d}{(n * 7_919_113) % 10**9:09d}"
    for check in "0123456789":
        digits = [int(d) for d in prefix + check]
        doubled = [d * 2 - 9 if d * 2 > 9 else d * 2 for d in digits[-2::-2]]
        if (sum(digits[-1::-2]) + sum(doubled)) % 10 == 0:
            return prefix + check
    raise AssertionError("unreachable: one check digit always fits")


def everything_stored(client: Any, executions_of: Iterable[str] = ()) -> Iterator[tuple[str, str]]:
    """(where, text) for each thing the deployment holds; `client(service)` makes a boto3 client. Executions
    are read whole (describe and history) only where their name holds one of `executions_of` (a contact's
    executions are named after it); the rest by their input and output."""
    wanted = tuple(executions_of)
    ddb = client("dynamodb")
    for table in ddb.list_tables()["TableNames"]:
        for page in ddb.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                yield f"table {table}", json.dumps(item, default=str)
    s3 = client("s3")
    for bucket in s3.list_buckets()["Buckets"]:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"]):
            for obj in page.get("Contents", []):
                body = s3.get_object(Bucket=bucket["Name"], Key=obj["Key"])["Body"].read()
                yield f"object {bucket['Name']}/{obj['Key']}", body.decode("utf-8", "replace")
    sfn = client("stepfunctions")
    for machine in sfn.list_state_machines()["stateMachines"]:
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine["stateMachineArn"]):
            for execution in page["executions"]:
                if not any(w in execution["name"] for w in wanted):
                    continue
                arn = execution["executionArn"]
                yield f"execution {machine['name']}", json.dumps(sfn.describe_execution(executionArn=arn), default=str)
                for history in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
                    yield f"execution history {machine['name']}", json.dumps(history["events"], default=str)
    kinesis = client("kinesis")
    for stream in kinesis.list_streams()["StreamNames"]:
        for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
            iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            while iterator:
                out = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
                for record in out["Records"]:
                    yield f"stream {stream}", record["Data"].decode("utf-8", "replace")
                iterator = out.get("NextShardIterator") if out["Records"] else None
    sqs = client("sqs")
    for queue in sqs.list_queues().get("QueueUrls", []):
        attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])
        if int(attributes["Attributes"]["ApproximateNumberOfMessages"]):
            for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", []):
                yield f"queue {queue}", message["Body"]
