"""Batches a stream's consumers gave up on, handed back to them: the admin tool's `redrive-stream-failures`.

A consumer that fails a record past its mapping's retries (or its record age) does not lose it: the event source
mapping writes the discarded batch to the stream's failure bucket (infra.constructs.events), one object holding
the failure's context and, under "payload", the Kinesis event the function was invoked with; S3 announces the
object on the stream's DLQ (an "Object Created" event through EventBridge), whose depth is alarmed.

Once the cause is fixed (a deployment, a configuration), `redrive` invokes the function named in each object's
`requestContext.functionArn` with its payload, as the mapping did. Consumers are idempotent (each record carries its
event id), so a batch that partly succeeded before is safe to hand back whole. An object whose invocation succeeded
with no batch item failure is deleted; one that failed again is kept (and said so). Then the DLQ's notices of
objects no longer in the bucket are deleted: the alarm clears when nothing is left to redrive. `dry_run` lists.

Two consumers are of the moment, not the record: push_updates' batches are frames for agents' and supervisors'
screens (an offer hours old would ring a desk for a contact long gone), so they are discarded, not handed back
(the screens reload from the API); and live metrics (consume_contact_events) skip records at or below their
shard's watermark, so a handed-back batch adds nothing to today's live figures (the day's report comes from
history, which the lifecycle writes, not this stream). The others (alerts, agent activity, contact records,
dial outcomes) apply what they had failed.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from infra.naming import construct_id

NOTICE_BATCH = 10  # SQS ReceiveMessage's most
# Consumers whose failed batches are dropped, not handed back (the function's construct id is in its name).
NOT_HANDED_BACK = {construct_id("push_updates"): "push frames are of their moment: the screens reload from the API"}


@dataclass
class Redriven:
    """What one pass did: objects handed back (and deleted), kept (failed again or unreadable), notices deleted."""

    handed_back: list[str] = field(default_factory=list)
    kept: dict[str, str] = field(default_factory=dict)  # key -> why
    discarded: dict[str, str] = field(default_factory=dict)  # key -> why (NOT_HANDED_BACK)
    records: int = 0
    notices_deleted: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"handed_back": self.handed_back, "kept": self.kept, "discarded": self.discarded,
                "records": self.records, "notices_deleted": self.notices_deleted}  # fmt: skip


def kept_batches(s3: Any, bucket: str) -> Iterator[str]:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="aws/lambda/"):
        for item in page.get("Contents", ()):
            yield item["Key"]


def _payload(record: dict[str, Any]) -> dict[str, Any]:
    """The Kinesis event of a kept batch (an object, or the same as a JSON string: both are read)."""
    payload = record.get("payload")
    if isinstance(payload, str):
        payload = json.loads(payload)
    if not isinstance(payload, dict) or not isinstance(payload.get("Records"), list):
        raise ValueError("no Kinesis event under payload.Records")
    return payload


def _failed_again(response: dict[str, Any]) -> str | None:
    """Why an invocation did not take the batch (a function error, or records it reported failed), or None."""
    raw = response["Payload"].read()
    if response.get("FunctionError"):
        return f"the function failed again ({response['FunctionError']}): {raw[:300].decode(errors='replace')}"
    try:
        answer = json.loads(raw) if raw else {}
    except ValueError:
        return None
    failures = answer.get("batchItemFailures") if isinstance(answer, dict) else None
    if failures:
        return f"{len(failures)} record(s) failed again: " + ", ".join(str(f.get("itemIdentifier")) for f in failures[:5])
    return None


def redrive(s3: Any, sqs: Any, lambda_client: Any, *, bucket: str, queue_url: str | None,
            dry_run: bool = False) -> Redriven:
    done = Redriven()
    for key in list(kept_batches(s3, bucket)):
        try:
            record = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            event, function = _payload(record), record["requestContext"]["functionArn"]
        except (ValueError, KeyError, TypeError) as exc:
            done.kept[key] = f"unreadable: {exc}"
            continue
        dropped = next((why for name, why in NOT_HANDED_BACK.items() if f"{name}Function" in function), None)
        if dry_run:
            done.kept[key] = f"{len(event['Records'])} record(s) for {function}" + (f", to discard: {dropped}" if dropped else "")
            continue
        if dropped:
            s3.delete_object(Bucket=bucket, Key=key)
            done.discarded[key] = dropped
            continue
        why = _failed_again(lambda_client.invoke(FunctionName=function, InvocationType="RequestResponse",
                                                 Payload=json.dumps(event).encode()))
        if why:
            done.kept[key] = why
            continue
        s3.delete_object(Bucket=bucket, Key=key)
        done.handed_back.append(key)
        done.records += len(event["Records"])
    if queue_url and not dry_run:
        done.notices_deleted = _clear_notices(s3, sqs, bucket, queue_url)
    return done


def _clear_notices(s3: Any, sqs: Any, bucket: str, queue_url: str) -> int:
    """Delete the DLQ's notices of objects no longer in the bucket; the others stay (visible again at once)."""
    present = set(kept_batches(s3, bucket))
    deleted, seen, left = 0, set(), []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=NOTICE_BATCH, VisibilityTimeout=30,
                                       WaitTimeSeconds=0).get("Messages", [])
        fresh = [m for m in messages if m["MessageId"] not in seen]
        if not fresh:
            break
        for message in fresh:
            seen.add(message["MessageId"])
            try:
                key = json.loads(message["Body"])["detail"]["object"]["key"]
            except (ValueError, KeyError, TypeError):
                key = None  # not a notice of ours: kept for a person to read
            if key is not None and key not in present:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                deleted += 1
            else:
                left.append(message["ReceiptHandle"])
    for handle in left:  # still to redrive: visible (and alarmed) again now, not in 30 s
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=handle, VisibilityTimeout=0)
    return deleted
