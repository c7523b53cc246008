"""Batches a stream's consumers gave up on, handed back to them: the admin tool's `redrive-stream-failures`.

A consumer that fails a record past its mapping's retries (or its record age) does not lose it: the event source
mapping writes the discarded batch to the stream's failure bucket (infra.constructs.events), one object holding
the failure's context and, under "payload", the Kinesis event the function was invoked with; S3 announces the
object on the stream's DLQ (an "Object Created" event through EventBridge), whose depth is alarmed.

Once the cause is fixed (a deployment, a configuration), `redrive` invokes the function named in each object's
`requestContext.functionArn` with its payload, as the mapping did. Consumers are idempotent (each record carries its
event id), so a batch that partly succeeded before is safe to hand back whole. An object whose invocation succeeded
with no batch item failure is moved under `handed-back/` (kept until the bucket's expiry, for a person to read:
a consumer may take a batch and still change nothing, below); one that failed again, or could not be invoked,
stays (and is said so). Then the DLQ's notices of the batches this pass moved are deleted, and of batches gone
from the bucket otherwise (expired unredriven: reported as such); a notice of a batch still kept stays, so the
alarm clears when nothing is left to redrive. A DLQ message from before the failure bucket (a pointer at a shard
and sequence range, no records) is listed and left for a person. `dry_run` lists.

Two consumers are of the moment, not the record: push_updates' batches are frames for agents' and supervisors'
screens (an offer hours old would ring a desk for a contact long gone), so they are discarded, not handed back
(the screens reload from the API); and live metrics (consume_contact_events) skip records at or below their
shard's watermark, so a handed-back batch adds nothing to today's live figures (the day's report comes from
history, which the lifecycle writes, not this stream). Agent activity takes an agent's events in order: once the
agent's later events are applied, a handed-back older one changes nothing (its spans stay as the later events
made them; the report says so and the batch stays under handed-back/). The others (alerts, contact records, dial
outcomes) apply what they had failed.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from infra.naming import construct_id

NOTICE_BATCH = 10  # SQS ReceiveMessage's most
KEPT_PREFIX = "aws/lambda/"  # where the event source mappings write (the DLQ rule announces this prefix only)
HANDED_BACK, DISCARDED = "handed-back/", "discarded/"  # where a pass moves what it handled (same expiry)
# Consumers whose failed batches are dropped, not handed back (the function's construct id is in its name).
NOT_HANDED_BACK = {construct_id("push_updates"): "push frames are of their moment: the screens reload from the API"}
# What a consumer does with a batch it takes that the operator should know.
NOTES = {construct_id("record_agent_activity"): "agent activity applies an agent's events in order: an event older "
                                                 "than the agent's applied ones changed nothing",
         construct_id("consume_contact_events"): "live metrics skip records at or below the shard's watermark"}


@dataclass
class Redriven:
    """What one pass did: objects handed back (and deleted), kept (failed again or unreadable), notices deleted."""

    handed_back: list[str] = field(default_factory=list)
    kept: dict[str, str] = field(default_factory=dict)  # key -> why
    discarded: dict[str, str] = field(default_factory=dict)  # key -> why (NOT_HANDED_BACK)
    notes: dict[str, str] = field(default_factory=dict)  # handed-back key -> what its consumer did with it (NOTES)
    records: int = 0
    notices_deleted: int = 0
    expired: list[str] = field(default_factory=list)  # notices of batches gone from the bucket unredriven
    old_pointers: list[str] = field(default_factory=list)  # pre-bucket DLQ messages: shard and sequence range

    def as_json(self) -> dict[str, Any]:
        return {"handed_back": self.handed_back, "kept": self.kept, "discarded": self.discarded, "notes": self.notes,
                "records": self.records, "notices_deleted": self.notices_deleted, "expired": self.expired,
                "old_pointers": self.old_pointers}  # fmt: skip


def kept_batches(s3: Any, bucket: str) -> Iterator[str]:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=KEPT_PREFIX):
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


def _move(s3: Any, bucket: str, key: str, prefix: str) -> None:
    s3.copy_object(Bucket=bucket, Key=prefix + key, CopySource={"Bucket": bucket, "Key": key})
    s3.delete_object(Bucket=bucket, Key=key)


def _named(function: str, table: dict[str, str]) -> str | None:
    return next((text for name, text in table.items() if f"{name}Function" in function), None)


def redrive(s3: Any, sqs: Any, lambda_client: Any, *, bucket: str, queue_url: str | None,
            dry_run: bool = False) -> Redriven:
    from botocore.exceptions import BotoCoreError, ClientError

    done = Redriven()
    for key in list(kept_batches(s3, bucket)):
        try:
            record = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            event, function = _payload(record), record["requestContext"]["functionArn"]
        except (ValueError, KeyError, TypeError) as exc:
            done.kept[key] = f"unreadable: {exc}"
            continue
        dropped = _named(function, NOT_HANDED_BACK)
        if dry_run:
            done.kept[key] = f"{len(event['Records'])} record(s) for {function}" + (f", to discard: {dropped}" if dropped else "")
            continue
        if dropped:
            _move(s3, bucket, key, DISCARDED)
            done.discarded[key] = dropped
            continue
        try:
            why = _failed_again(lambda_client.invoke(FunctionName=function, InvocationType="RequestResponse",
                                                     Payload=json.dumps(event).encode()))
        except (BotoCoreError, ClientError) as exc:  # a consumer renamed or gone, a throttle: the next one goes on
            why = f"not invoked: {exc}"
        if why:
            done.kept[key] = why
            continue
        _move(s3, bucket, key, HANDED_BACK)
        done.handed_back.append(key)
        done.records += len(event["Records"])
        if note := _named(function, NOTES):
            done.notes[key] = note
    if queue_url and not dry_run:
        _clear_notices(s3, sqs, bucket, queue_url, done)
    return done


def _exists(s3: Any, bucket: str, key: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def _clear_notices(s3: Any, sqs: Any, bucket: str, queue_url: str, done: Redriven) -> None:
    """Delete the DLQ's notices of the batches this pass moved, and of batches no longer kept (expired unredriven:
    named in `done.expired`); a notice of a batch still kept, one written after this pass listed the bucket
    included, stays (visible again at once: the alarm stays on)."""
    handled = {*done.handed_back, *done.discarded}
    seen, left = set(), []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=NOTICE_BATCH, VisibilityTimeout=30,
                                       WaitTimeSeconds=0).get("Messages", [])
        fresh = [m for m in messages if m["MessageId"] not in seen]
        if not fresh:
            break
        for message in fresh:
            seen.add(message["MessageId"])
            body = _json_or_none(message["Body"])
            key = ((body.get("detail") or {}).get("object") or {}).get("key") if isinstance(body, dict) else None
            if isinstance(key, str) and (key in handled or not _exists(s3, bucket, key)):
                if key not in handled:
                    done.expired.append(key)
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                done.notices_deleted += 1
                continue
            if isinstance(body, dict) and isinstance(body.get("KinesisBatchInfo"), dict):
                info = body["KinesisBatchInfo"]
                done.old_pointers.append(f"{info.get('shardId')} {info.get('startSequenceNumber')}.."
                                         f"{info.get('endSequenceNumber')} ({info.get('batchSize')} record(s))")
            left.append(message["ReceiptHandle"])
    for handle in left:  # still to redrive, or for a person: visible (and alarmed) again now, not in 30 s
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=handle, VisibilityTimeout=0)


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
