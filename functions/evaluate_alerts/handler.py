"""Kinesis consumer: contact and agent events -> supervisor alerts, evaluated once per tenant per batch.

A record that does not parse is a batch item failure (the mapping retries, bisects, then sends it to
the DLQ). Evaluation reads the stored live state for the queues and agents the batch touched, so it
is idempotent without an idempotency table: a redelivered batch finds its alerts already open
(conditional write) or already resolved. When one tenant's evaluation fails, that tenant's records
are reported as failures too; the other tenants' alerts stand.
"""
from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ccaas.bootstrap import dependencies
from ccaas.domain.events import Event
from ccaas.usecases.alerts import evaluate_touched, touched_by

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
    opened = resolved = 0
    for tenant_id, touched in touched_by(e for e, _ in parsed).items():
        try:
            applied = evaluate_touched(dependencies(), tenant_id, touched)
        except Exception:
            logger.exception("alert evaluation failed", extra={"tenant_id": tenant_id})
            failures += [{"itemIdentifier": seq} for e, seq in parsed if e.tenant_id == tenant_id]
            metrics.add_metric(name="AlertEvaluationFailures", unit=MetricUnit.Count, value=1)
            continue
        opened += len(applied.opened)
        resolved += len(applied.resolved)
    metrics.add_metric(name="AlertsOpened", unit=MetricUnit.Count, value=opened)
    metrics.add_metric(name="AlertsResolved", unit=MetricUnit.Count, value=resolved)
    logger.info("batch evaluated", extra={"events": len(parsed), "opened": opened, "resolved": resolved})
    return response
