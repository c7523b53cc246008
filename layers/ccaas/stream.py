"""What every Kinesis consumer of the contact-events stream does first: parse the batch with Powertools'
BatchProcessor (a record that is not an event, or whose payload ids are not text, is a batch item failure:
retried, bisected, then the DLQ)
and keep each valid event with its sequence number, so the use-case's own failures can be reported for
exactly the records behind them."""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
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
