"""What every Kinesis consumer of the contact-events stream does first: parse the batch with Powertools'
BatchProcessor (a record that is not an event, or whose payload ids are not text, is a batch item failure:
retried, bisected, then the DLQ)
and keep each valid event with its sequence number, so the use-case's own failures can be reported for
exactly the records behind them. And what a stream consumer that counts its records does (`process_and_report`):
its counts are reported whatever became of the batch."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord

from ccaas.domain.events import Event, check_ids


class ParsedBatch:
    """The events of one invocation, and the response that reports its failures to the mapping."""

    def __init__(self, event: dict, context: Any) -> None:
        self.events: list[tuple[Event, str]] = []  # (event, sequence number), in stream order
        self.response = process_partial_response(
            event=event, record_handler=self._parse, processor=BatchProcessor(event_type=EventType.KinesisDataStreams),
            context=context,
        )
        self.failures: list[dict[str, str]] = self.response.setdefault("batchItemFailures", [])

    def _parse(self, record: KinesisStreamRecord) -> None:
        event = check_ids(Event.model_validate_json(record.kinesis.data_as_bytes()))  # raising: this record's failure
        self.events.append((event, record.kinesis.sequence_number))

    def fail(self, failed) -> int:  # noqa: ANN001 - a predicate on Event
        """Report every parsed record whose event `failed(event)` says so; returns how many."""
        records = [{"itemIdentifier": seq} for e, seq in self.events if failed(e)]
        self.failures += records
        return len(records)


def process_and_report(event: dict, record_handler: Callable[[Any], Any], processor: BatchProcessor, context: Any,
                       report: Callable[[], None]) -> PartialItemFailureResponse:
    """Powertools' process_partial_response, then `report` (the batch's metrics and summary line) whatever became of
    the records. When every record failed, Powertools raises BatchProcessingError, and so does this (the invocation
    fails: the mapping retries, bisects, and the failure bucket keeps the batch); a report after the call never ran
    then, so a batch of nothing but rejections (an instance that streams before it is registered) was never counted."""
    try:
        return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                        context=context)
    finally:
        report()
