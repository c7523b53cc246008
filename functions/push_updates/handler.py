"""Kinesis consumer: contact and agent events -> WebSocket messages (offers, contact states, queue metrics).

A record that does not parse is a batch item failure (retried, bisected, then the DLQ). A push that
fails for another reason than a gone connection fails the records that caused it (retried; a retry may
repeat a message already delivered to another connection: clients key on contact id / queue id). A
gone connection is deleted. Nothing is lost by a failed push: offers and metrics stay readable by GET.
"""
from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ccaas.bootstrap import dependencies
from ccaas.domain.events import Event
from ccaas.usecases.push import push_events

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.KinesisDataStreams)
parsed: list[tuple[Event, str]] = []  # this invocation's valid events, with their sequence numbers


def record_handler(record: KinesisStreamRecord) -> None:
    parsed.append((Event.model_validate_json(record.kinesis.data_as_bytes()), record.kinesis.sequence_number))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    parsed.clear()
    response = process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    failures = response.setdefault("batchItemFailures", [])
    report = push_events(dependencies(), [e for e, _ in parsed])
    failures += [{"itemIdentifier": seq} for e, seq in parsed if e.event_id in report.failed_event_ids]
    metrics.add_metric(name="PushesSent", unit=MetricUnit.Count, value=report.sent)
    metrics.add_metric(name="PushConnectionsGone", unit=MetricUnit.Count, value=report.gone)
    metrics.add_metric(name="PushFailures", unit=MetricUnit.Count, value=len(report.failed_event_ids))
    logger.info("batch pushed", extra={"events": len(parsed), "sent": report.sent, "gone": report.gone,
                                       "failed": len(report.failed_event_ids)})
    return response
