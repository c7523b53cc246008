"""Kinesis, Step Functions and event-id deduplication adapters."""
from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from ccaas.adapters.aws.batch_get import batch_get, batch_put
from ccaas.domain.events import Event
from ccaas.domain.models import Conflict, Contact

_MAX_PUT_ATTEMPTS = 4


class EventsNotAccepted(RuntimeError):
    """The stream kept refusing some events after the publisher's own retries. Named so a workflow step can
    retry it (Step Functions matches the exception's class name): the step saved its state before publishing."""


class KinesisEventPublisher:
    """PutRecords in chunks of 500; records the stream rejected are retried, never dropped silently."""

    def __init__(self, client: Any, stream_name: str) -> None:
        self._kinesis = client
        self._stream = stream_name

    def publish(self, events: Sequence[Event]) -> None:
        for start in range(0, len(events), 500):
            pending = [
                {"Data": e.model_dump_json().encode(), "PartitionKey": e.partition_key}
                for e in events[start : start + 500]
            ]
            for attempt in range(_MAX_PUT_ATTEMPTS):
                response = self._kinesis.put_records(StreamName=self._stream, Records=pending)
                if not response.get("FailedRecordCount"):
                    break
                pending = [r for r, result in zip(pending, response["Records"]) if "ErrorCode" in result]
                time.sleep(0.05 * 2**attempt)
            else:
                raise EventsNotAccepted(f"{len(pending)} events not accepted by the stream after {_MAX_PUT_ATTEMPTS} attempts")


def _execution_name(contact: Contact) -> str:
    return f"{contact.tenant_id}-{contact.contact_id}"[:80]


class StepFunctionsWorkflow:
    def __init__(self, client: Any, state_machine_arn: str, post_contact_arn: str = "") -> None:
        self._sfn = client
        self._arn = state_machine_arn
        self._post_contact_arn = post_contact_arn

    def start_contact(self, contact: Contact, wait_s: int) -> None:
        self._sfn.start_execution(
            stateMachineArn=self._arn,
            # The name makes a retried start of the same contact a no-op instead of a second workflow.
            name=_execution_name(contact),
            input=json.dumps(
                # AwaitAgent's first wait (TimeoutSecondsPath), as Recheck answers later ones.
                {"tenant_id": contact.tenant_id, "contact_id": contact.contact_id,
                 "recheck": {"next": "wait", "wait_s": wait_s, "contact_id": contact.contact_id}}
            ),
        )

    def start_post_contact(self, contact: Contact) -> None:
        if not self._post_contact_arn:
            raise RuntimeError("POST_CONTACT_STATE_MACHINE_ARN is not set for this function (infra.function_specs: start_post_contact)")
        try:
            self._sfn.start_execution(
                stateMachineArn=self._post_contact_arn,
                # Named as the lifecycle's StartPostContact names it; Express does not deduplicate names (a
                # second start runs the idempotent steps again), an emulator that does answers "already exists".
                name=_execution_name(contact),
                input=json.dumps({"tenant_id": contact.tenant_id, "contact_id": contact.contact_id}),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ExecutionAlreadyExists":
                raise

    def succeed(self, token: str, output: Mapping[str, Any]) -> None:
        self._answer(self._sfn.send_task_success, taskToken=token, output=json.dumps(output))

    def fail(self, token: str, error: str, cause: str) -> None:
        self._answer(self._sfn.send_task_failure, taskToken=token, error=error, cause=cause)

    @staticmethod
    def _answer(call: Any, **kwargs: Any) -> None:
        try:
            call(**kwargs)
        except ClientError as error:
            if error.response["Error"]["Code"] in ("TaskTimedOut", "TaskDoesNotExist", "InvalidToken"):
                raise Conflict("the workflow step for this contact has already ended") from error
            raise


class DynamoDeduplicator:
    """Event-id deduplication in the idempotency table (Powertools' schema: `id`, TTL `expiration`,
    `status`, `data`). The stored result is the sequence number of the first sighting, so a redelivery
    of that same record is recognised and a re-published copy is not.

    Built for a stream consumer's batch: `seen` reads the batch's event ids in one consistent
    BatchGetItem, `remember` stores the new first sightings with BatchWriteItem (25 per request) once
    the batch is applied. Read-then-write is race-free here because a copy of an event carries the
    same partition key (tenant + subject), so it lands on the same shard, whose batches run one at a
    time (and a parent shard is drained before its children). Storing after applying is safe: a batch
    that fails before `remember` is delivered again, finds nothing stored, and the consumer's own
    guard (the live metrics shard watermark) skips what was applied. `first_sequence` is the
    one-record form: one conditional PutItem that returns the stored record when it loses.
    Records are scoped by the function name (as Powertools' keys are) and expire after two days.
    """

    def __init__(self, table_name: str, expires_after_seconds: int = 2 * 24 * 3600, client: Any = None) -> None:
        self._table = table_name
        self._ttl_s = expires_after_seconds
        self._client = client
        self._client_lock = threading.Lock()

    @property
    def _db(self) -> Any:
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    import boto3

                    self._client = boto3.session.Session().client("dynamodb")
        return self._client

    @staticmethod
    def _key(event_id: str) -> str:
        # Read per call, not at import: locally, functions share one interpreter.
        return f"{os.environ.get('AWS_LAMBDA_FUNCTION_NAME', 'ccaas')}#event#{event_id}"

    def _record(self, event_id: str, sequence: str, now_s: int) -> dict[str, Any]:
        return {
            "id": {"S": self._key(event_id)},
            "expiration": {"N": str(now_s + self._ttl_s)},
            "status": {"S": "COMPLETED"},
            "data": {"S": json.dumps({"sequence": sequence})},
        }

    @staticmethod
    def _sequence(item: Mapping[str, Any] | None, now_s: int) -> str | None:
        """The stored first sequence, or None for no record or an expired one (TTL deletes lazily)."""
        if not item or "data" not in item or int(item.get("expiration", {}).get("N", "0")) < now_s:
            return None
        return str(json.loads(item["data"]["S"])["sequence"])

    def first_sequence(self, event: Event, sequence: str) -> str:
        now_s = int(time.time())
        try:
            self._db.put_item(
                TableName=self._table,
                Item=self._record(event.event_id, sequence, now_s),
                ConditionExpression="attribute_not_exists(#id) OR #expiration < :now",
                ExpressionAttributeNames={"#id": "id", "#expiration": "expiration"},
                ExpressionAttributeValues={":now": {"N": str(now_s)}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return sequence
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            stored = self._sequence(error.response.get("Item"), now_s)
        if stored is None:  # an endpoint that does not return the item: read it
            stored = self.seen([event.event_id]).get(event.event_id)
        return stored or sequence

    def seen(self, event_ids: Sequence[str]) -> dict[str, str]:
        """event id -> first sequence, for the ids that have a live record (strongly consistent)."""
        now_s = int(time.time())
        by_key = {self._key(e): e for e in dict.fromkeys(event_ids)}
        found: dict[str, str] = {}
        for item in batch_get(self._db, self._table, [{"id": {"S": k}} for k in by_key], consistent=True):
            stored = self._sequence(item, now_s)
            if stored is not None:
                found[by_key[item["id"]["S"]]] = stored
        return found

    def remember(self, first_sequences: Mapping[str, str]) -> None:
        """Store these first sightings (event id -> sequence)."""
        now_s = int(time.time())
        batch_put(self._db, self._table, [self._record(e, s, now_s) for e, s in first_sequences.items()])


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class UuidIds:
    def new_id(self) -> str:
        return str(uuid.uuid4())
