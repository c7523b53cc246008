"""infra.stream_failures.redrive: kept batches handed back to the function that failed them, moved aside (handed-back/)
only when it took them; push frames dropped (discarded/); one that cannot be invoked does not stop the pass; notices
cleared for what the pass moved and what expired (named), never for a batch still kept; a dry run changes nothing."""
from __future__ import annotations

import io
import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from infra.stream_failures import redrive

BUCKET = "ccaas-failures"
CONSUMER = "arn:aws:lambda:us-east-1:123456789012:function:Ccaas-FunctionsEvaluateAlertsFunctionAB12CD34"
ACTIVITY = "arn:aws:lambda:us-east-1:123456789012:function:Ccaas-FunctionsRecordAgentActivityFunction12AB34CD"
PUSHER = "arn:aws:lambda:us-east-1:123456789012:function:Ccaas-FunctionsPushUpdatesFunctionEF56AB78"


class FakeLambda:
    """Answers each invocation as `answers[function]` says: None (took it), "error", or a list of failed ids."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def invoke(self, *, FunctionName: str, InvocationType: str, Payload: bytes) -> dict[str, Any]:  # noqa: N803
        assert InvocationType == "RequestResponse"
        self.calls.append((FunctionName, json.loads(Payload)))
        answer = self.answers.get(FunctionName)
        if answer == "gone":
            raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "Function not found"}}, "Invoke")
        if answer == "error":
            return {"FunctionError": "Unhandled", "Payload": io.BytesIO(b'{"errorMessage": "still broken"}')}
        failures = [{"itemIdentifier": i} for i in answer or ()]
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps({"batchItemFailures": failures}).encode())}


@pytest.fixture
def aws():
    with mock_aws():
        s3, sqs = boto3.client("s3", region_name="us-east-1"), boto3.client("sqs", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        url = sqs.create_queue(QueueName="dlq")["QueueUrl"]
        yield s3, sqs, url


def keep(s3: Any, sqs: Any, url: str, name: str, function: str, payload: Any) -> str:
    key = f"aws/lambda/uuid-1/shardId-000000000000/2026/12/05/2026-12-05T10.00.00-{name}"
    body = {"requestContext": {"functionArn": function, "condition": "RetryAttemptsExhausted"}, "payload": payload}
    s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(body).encode())
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"detail": {"object": {"key": key}}}))
    return key


def event(*ids: str) -> dict[str, Any]:
    return {"Records": [{"kinesis": {"sequenceNumber": i, "data": "e30="}} for i in ids]}


def keys(s3: Any, prefix: str = "aws/lambda/") -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", []))


def notices(sqs: Any, url: str) -> list[str]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    return sorted(json.loads(m["Body"])["detail"]["object"]["key"] for m in messages)


def test_a_taken_batch_is_deleted_with_its_notice_and_a_refused_one_stays_with_its_own(aws) -> None:
    s3, sqs, url = aws
    took = keep(s3, sqs, url, "a", CONSUMER, event("1", "2"))
    refused = keep(s3, sqs, url, "b", CONSUMER + "X", json.dumps(event("3")))  # payload as a JSON string: read too
    failing = keep(s3, sqs, url, "c", CONSUMER + "Y", event("4", "5"))
    lam = FakeLambda({CONSUMER + "X": "error", CONSUMER + "Y": ["5"]})
    done = redrive(s3, sqs, lam, bucket=BUCKET, queue_url=url)
    assert done.handed_back == [took] and done.records == 2
    assert set(done.kept) == {refused, failing}
    assert "failed again (Unhandled)" in done.kept[refused] and done.kept[failing].startswith("1 record(s) failed again: 5")
    assert [(f, e) for f, e in lam.calls if f == CONSUMER] == [(CONSUMER, event("1", "2"))]  # the event as invoked
    assert keys(s3) == sorted([refused, failing]) and done.notices_deleted == 1
    assert keys(s3, "handed-back/") == ["handed-back/" + took]  # kept for a person until the bucket's expiry
    assert notices(sqs, url) == sorted([refused, failing])  # visible again at once: the alarm stays


def test_push_frames_are_dropped_not_handed_back(aws) -> None:
    s3, sqs, url = aws
    frame = keep(s3, sqs, url, "p", PUSHER, event("1"))
    lam = FakeLambda({})
    done = redrive(s3, sqs, lam, bucket=BUCKET, queue_url=url)
    assert lam.calls == [] and list(done.discarded) == [frame] and keys(s3) == [] and notices(sqs, url) == []
    assert keys(s3, "discarded/") == ["discarded/" + frame]


def test_an_unreadable_object_is_kept_and_said_so(aws) -> None:
    s3, sqs, url = aws
    s3.put_object(Bucket=BUCKET, Key="aws/lambda/u/s/2026/12/05/x", Body=b"{not json")
    no_payload = keep(s3, sqs, url, "n", CONSUMER, {"records": []})
    done = redrive(s3, sqs, FakeLambda({}), bucket=BUCKET, queue_url=url)
    assert done.kept["aws/lambda/u/s/2026/12/05/x"].startswith("unreadable") and "payload.Records" in done.kept[no_payload]
    assert len(keys(s3)) == 2 and done.notices_deleted == 0


def test_a_dry_run_invokes_and_deletes_nothing(aws) -> None:
    s3, sqs, url = aws
    key = keep(s3, sqs, url, "a", CONSUMER, event("1"))
    frame = keep(s3, sqs, url, "p", PUSHER, event("2"))
    lam = FakeLambda({})
    done = redrive(s3, sqs, lam, bucket=BUCKET, queue_url=url, dry_run=True)
    assert lam.calls == [] and keys(s3) == sorted([key, frame]) and notices(sqs, url) == sorted([key, frame])
    assert done.kept[key].startswith("1 record(s) for") and "to discard" in done.kept[frame]


def test_one_batch_that_cannot_be_invoked_does_not_stop_the_pass(aws) -> None:
    s3, sqs, url = aws
    orphan = keep(s3, sqs, url, "a", CONSUMER + "Renamed", event("1"))
    took = keep(s3, sqs, url, "b", CONSUMER, event("2"))
    done = redrive(s3, sqs, FakeLambda({CONSUMER + "Renamed": "gone"}), bucket=BUCKET, queue_url=url)
    assert done.kept[orphan].startswith("not invoked:") and "ResourceNotFoundException" in done.kept[orphan]
    assert done.handed_back == [took] and notices(sqs, url) == [orphan]


def test_notices_go_for_what_the_pass_moved_and_what_expired_never_for_a_batch_still_kept(aws) -> None:
    """A batch kept after the pass listed the bucket keeps its notice (the alarm stays); a notice whose batch is gone
    though the pass did not move it (the bucket's expiry) is cleared and named; a DLQ message from before the
    failure bucket (a pointer into the stream) is listed and left for a person."""
    s3, sqs, url = aws
    expired = keep(s3, sqs, url, "x", CONSUMER, event("1"))
    s3.delete_object(Bucket=BUCKET, Key=expired)
    pointer = {"requestContext": {"condition": "RetryAttemptsExhausted"},
               "KinesisBatchInfo": {"shardId": "shardId-000000000001", "startSequenceNumber": "10",
                                    "endSequenceNumber": "12", "batchSize": 3}}
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(pointer))
    lam = FakeLambda({})
    late: list[str] = []
    invoke = lam.invoke

    def invoke_then_a_new_failure(**kwargs: Any) -> dict[str, Any]:  # a batch discarded while the pass runs
        if not late:
            late.append(keep(s3, sqs, url, "late", CONSUMER + "Z", event("9")))
        return invoke(**kwargs)

    lam.invoke = invoke_then_a_new_failure  # type: ignore[method-assign]
    took = keep(s3, sqs, url, "a", CONSUMER, event("2"))
    done = redrive(s3, sqs, lam, bucket=BUCKET, queue_url=url)
    assert done.handed_back == [took] and done.expired == [expired] and done.notices_deleted == 2
    assert done.old_pointers == ["shardId-000000000001 10..12 (3 record(s))"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    bodies = [json.loads(m["Body"]) for m in messages]
    assert sorted(b.get("detail", {}).get("object", {}).get("key", "pointer") for b in bodies) == sorted([late[0], "pointer"])


def test_what_a_consumer_does_with_a_batch_it_takes_is_noted(aws) -> None:
    s3, sqs, url = aws
    key = keep(s3, sqs, url, "a", ACTIVITY, event("1"))
    done = redrive(s3, sqs, FakeLambda({}), bucket=BUCKET, queue_url=url)
    assert done.handed_back == [key] and "in order" in done.notes[key]
