"""Kinesis consumer: contact and agent events -> live queue metrics (one write per queue per batch).

Bad records are reported as batch item failures (the mapping retries, bisects, then sends them to
the DLQ); a failed metrics write fails the invocation, and the shard watermark makes the retry safe.
"""
from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ccaas.bootstrap import dependencies
from ccaas.domain.events import Event
from ccaas.domain.live_metrics import MetricUpdate, SequencedEvent, pad_sequence
from ccaas.usecases.metrics import apply_batch, is_first_delivery

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.KinesisDataStreams)
accepted: list[SequencedEvent] = []  # this invocation's valid, first-seen events


def record_handler(record: KinesisStreamRecord) -> None:
    event = Event.model_validate_json(record.kinesis.data_as_bytes())
    sequenced = SequencedEvent(
        event=event,
        shard_id=record.event_id.split(":")[0],
        sequence=pad_sequence(record.kinesis.sequence_number),
    )
    if is_first_delivery(dependencies(), sequenced):
        accepted.append(sequenced)


def _emit(update: MetricUpdate) -> None:
    # Low-cardinality dimensions only: tenant and queue, never agent or contact ids.
    totals: dict[str, int] = {}
    for counters in update.counters.values():
        for name, delta in counters.items():
            totals[name] = totals.get(name, 0) + delta
    for name in ("offered", "answered", "answered_within_sl", "abandoned", "completed"):
        if totals.get(name):
            with single_metric(name=f"Contacts_{name}", unit=MetricUnit.Count, value=totals[name]) as metric:
                metric.add_dimension(name="tenant", value=update.tenant_id)
                metric.add_dimension(name="queue", value=update.queue_id)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    accepted.clear()
    dependencies().dedup.bind_invocation(context)
    response = process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    if accepted:
        updates = apply_batch(dependencies(), accepted[0].shard_id, accepted)
        for update in updates:
            _emit(update)
        metrics.add_metric(name="EventsApplied", unit=MetricUnit.Count, value=len(accepted))
        logger.info("batch applied", extra={"events": len(accepted), "writes": len(updates)})
    return response
