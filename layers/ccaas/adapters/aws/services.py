"""Kinesis, Step Functions and Powertools-idempotency adapters."""
from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from ccaas.domain.events import Event
from ccaas.domain.models import Conflict, Contact

_MAX_PUT_ATTEMPTS = 4


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
                raise RuntimeError(f"{len(pending)} events not accepted by the stream after {_MAX_PUT_ATTEMPTS} attempts")


class StepFunctionsWorkflow:
    def __init__(self, client: Any, state_machine_arn: str) -> None:
        self._sfn = client
        self._arn = state_machine_arn

    def start_contact(self, contact: Contact, queue_timeout_s: int) -> None:
        self._sfn.start_execution(
            stateMachineArn=self._arn,
            # The name makes a retried start of the same contact a no-op instead of a second workflow.
            name=f"{contact.tenant_id}-{contact.contact_id}"[:80],
            input=json.dumps(
                {"tenant_id": contact.tenant_id, "contact_id": contact.contact_id, "queue_timeout_s": queue_timeout_s}
            ),
        )

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


class PowertoolsDeduplicator:
    """Event-id idempotency with Powertools: the stored result is the sequence number of the first
    sighting, so a redelivery of that same record is recognised and a re-published copy is not."""

    def __init__(self, table_name: str, expires_after_seconds: int = 2 * 24 * 3600) -> None:
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )

        self.config = IdempotencyConfig(event_key_jmespath="event_id", expires_after_seconds=expires_after_seconds)

        @idempotent_function(
            data_keyword_argument="sighting",
            persistence_store=DynamoDBPersistenceLayer(table_name=table_name),
            config=self.config,
        )
        def first_sighting(sighting: dict[str, str]) -> dict[str, str]:
            return {"sequence": sighting["sequence"]}

        self._first_sighting = first_sighting

    def bind_invocation(self, context: Any) -> None:
        self.config.register_lambda_context(context)

    def first_sequence(self, event: Event, sequence: str) -> str:
        return self._first_sighting(sighting={"event_id": event.event_id, "sequence": sequence})["sequence"]


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class UuidIds:
    def new_id(self) -> str:
        return str(uuid.uuid4())
