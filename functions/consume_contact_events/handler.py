"""Kinesis consumer: contact and agent events -> live queue metrics (one write per queue per batch).

Bad records (ccaas.usecases.metrics.accept_record: not an event, a payload field of the wrong type, a time
far ahead, a queue the tenant does not have) are reported as batch item failures (the mapping retries,
bisects, then sends them to the DLQ), with the reason logged beside the shard and sequence number the DLQ
entry points at; any other failure while reading a record (a throttle) fails the whole invocation; the valid ones are deduplicated by event id for the whole batch at once and applied (see
ccaas.usecases.metrics.apply_records). A failed metrics or dedup write fails the invocation, and the
shard watermark makes the retry safe.
"""
from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ccaas.bootstrap import dependencies
from ccaas.usecases.push import push_queue_views
from ccaas.domain.events import MalformedEvent
from ccaas.domain.live_metrics import RealtimeQueueMetrics, SequencedEvent
from ccaas.usecases.metrics import AppliedUpdate, accept_record, apply_records, view_after_write
from ccaas.logs import handler_logger
from ccaas.tracing import lambda_tracer

logger = handler_logger()  # Powertools' Logger (ccaas.logs: no root filter by name)
tracer = lambda_tracer()  # X-Ray only when tracing is on (ccaas.tracing)
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.KinesisDataStreams)
valid: list[SequencedEvent] = []  # this invocation's parsed events (one execution environment, one invocation)
PUSH_RESERVE_MS = 10_000  # of the invocation's time, kept when pushing queue views to watchers
transient: list[Exception] = []  # this invocation's failures that are no fault of a record (a throttled read)


def record_handler(record: KinesisStreamRecord) -> None:
    shard_id = record.event_id.split(":")[0]
    try:
        valid.append(accept_record(dependencies(), record.kinesis.data_as_bytes(), shard_id, record.kinesis.sequence_number))
    except MalformedEvent as error:
        logger.warning("event record rejected", extra={"reason": error.reason, "shard_id": shard_id,
                                                       "sequence_number": record.kinesis.sequence_number})
        raise
    except Exception as error:
        transient.append(error)
        raise


def _emit(applied: AppliedUpdate) -> RealtimeQueueMetrics:
    """Per-queue gauges for the dashboard (tenant and queue only: never agent or contact ids)."""
    update = applied.update
    view = view_after_write(dependencies(), applied)
    values = {
        ("OldestContactAge", MetricUnit.Seconds): view.oldest_wait_s or 0.0,
        ("InQueue", MetricUnit.Count): view.in_queue,
        ("AgentsAvailable", MetricUnit.Count): view.agents_available,
        ("AgentsReserved", MetricUnit.Count): view.agents_reserved,
        ("AgentsOnContact", MetricUnit.Count): view.agents_on_contact,
        ("AgentsAfterContactWork", MetricUnit.Count): view.agents_acw,
        ("AgentsNotReady", MetricUnit.Count): view.agents_not_ready,
        ("ServiceLevel", MetricUnit.Percent): None if view.service_level is None else 100 * view.service_level,
        ("AbandonmentRate", MetricUnit.Percent): None if view.abandonment_rate is None else 100 * view.abandonment_rate,
        ("AverageSpeedOfAnswer", MetricUnit.Seconds): view.asa_s,
    }
    # One EMF document per queue holding every gauge (same dimensions): a tenth of the log bytes of one
    # document per gauge (the cost bench measured these documents as most of this function's log volume).
    gauges = EphemeralMetrics()
    gauges.add_dimension(name="tenant", value=update.tenant_id)
    gauges.add_dimension(name="queue", value=update.queue_id)
    for (name, unit), value in values.items():
        if value is not None:
            gauges.add_metric(name=name, unit=unit, value=value)
    gauges.flush_metrics()
    return view


def _push_to_watchers(views: list[tuple[str, RealtimeQueueMetrics]], context: LambdaContext) -> None:
    """The views just written, to supervisors watching over WebSocket (best effort: GET has them too), while the
    invocation has PUSH_RESERVE_MS left: past its timeout the batch would be retried, and its views never pushed."""
    try:
        report = push_queue_views(dependencies(), views,
                                  keep_going=lambda: context.get_remaining_time_in_millis() > PUSH_RESERVE_MS)
    except Exception:  # noqa: BLE001 - the metrics are written; a failed push must not retry the batch
        logger.exception("queue metrics push failed")
        metrics.add_metric(name="PushFailures", unit=MetricUnit.Count, value=1)
        return
    metrics.add_metric(name="PushesSent", unit=MetricUnit.Count, value=report.sent)
    metrics.add_metric(name="PushFailures", unit=MetricUnit.Count, value=len(report.failed_event_ids))
    if report.skipped:
        metrics.add_metric(name="PushesSkipped", unit=MetricUnit.Count, value=report.skipped)


def _below_target(view: RealtimeQueueMetrics) -> bool:
    return view.service_level is not None and view.service_level_target is not None and view.service_level < view.service_level_target


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    valid.clear()
    transient.clear()
    response = process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    if transient:
        # A throttled or timed-out read while checking a record is no poison: as a batch item failure, the records
        # after it would be applied, the shard's watermark would pass it, and its redelivery would be skipped as
        # applied (lost for good). The whole batch fails instead, nothing applied: its retry is safe.
        raise transient[0]
    if valid:
        applied = apply_records(dependencies(), valid[0].shard_id, valid)
        views = [_emit(a) for a in applied]
        _push_to_watchers([(a.update.tenant_id, v) for a, v in zip(applied, views, strict=True)], context)
        # Dimensionless roll-ups the CDK alarms watch (queue dimensions are only known at run time).
        metrics.add_metric(name="QueuesBelowServiceLevelTarget", unit=MetricUnit.Count, value=sum(map(_below_target, views)))
        metrics.add_metric(name="OldestContactAgeMax", unit=MetricUnit.Seconds, value=max((v.oldest_wait_s or 0.0 for v in views), default=0.0))
        events = sum(a.update.events for a in applied)
        metrics.add_metric(name="EventsApplied", unit=MetricUnit.Count, value=events)
        # DEBUG: every batch applies something, and its counts are the EventsApplied metric above (a line a batch
        # was ~0.4 KB of log ingestion, ~3 KB a contact at a deployment's batches: bench cost)
        logger.debug("batch applied", extra={"events": events, "writes": len(applied)})
    return response
