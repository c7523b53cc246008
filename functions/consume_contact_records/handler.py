"""Kinesis consumer: Amazon Connect contact records (CTRs) -> contact history.

Connect streams CTRs at least once, updated versions included, in no guaranteed order. Each record
is written only if its LastUpdateTimestamp is newer than the stored one (one conditional write), so
duplicates and stale versions are no-ops and the latest version wins whatever the delivery order.
A CTR that cannot be mapped (not JSON, no ContactId, an unsupported channel, an unregistered Connect
instance, a field no Connect record has, a time ahead of now) is reported as a batch item failure: the
mapping retries it (bounded), bisects, and sends the batch pointer to the DLQ; the reason is logged with
the shard and sequence number, which is what the DLQ entry points at, and counted (ContactRecordsRejected)
whatever became of the batch, one whose every record was rejected too. Any other failure (a throttled
table) is no fault of the record: a batch item failure as well, retried, logged by its error's type and
not counted as a rejection. Log lines carry ids and reasons, never record content (endpoints are PII).
"""
from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ccaas.bootstrap import dependencies
from ccaas.domain.kpis import MalformedContactRecord, parse_ctr
from ccaas.stream import process_and_report
from ccaas.usecases.history import ingest_ctr
from ccaas.logs import handler_logger
from ccaas.tracing import lambda_tracer

logger = handler_logger()  # Powertools' Logger (ccaas.logs: no root filter by name)
tracer = lambda_tracer()  # X-Ray only when tracing is on (ccaas.tracing)
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.KinesisDataStreams)
counts = {"stored": 0, "unchanged": 0, "rejected": 0, "failed": 0}


def record_handler(record: KinesisStreamRecord) -> None:
    position = {"shard_id": record.event_id.split(":")[0], "sequence_number": record.kinesis.sequence_number}
    try:
        deps = dependencies()
        # read here with the clock, so a time ahead of now (a LastUpdateTimestamp in 2099 would make its copy the
        # newest for good) is this record's rejection
        ctr = parse_ctr(record.kinesis.data_as_bytes(), now_ms=deps.clock.now_ms())
        outcome = ingest_ctr(deps, ctr)
    except MalformedContactRecord as error:
        counts["rejected"] += 1
        logger.warning("contact record rejected",
                       extra={"reason": error.reason, "rejected_contact_id": error.contact_id, **position})
        raise
    except Exception as error:
        counts["failed"] += 1  # retried as it is: no rejection (its message may quote the record: the type only)
        logger.warning("contact record not stored", extra={"error": type(error).__name__, **position})
        raise
    counts["stored" if outcome.stored else "unchanged"] += 1


def _report() -> None:
    metrics.add_metric(name="ContactRecordsStored", unit=MetricUnit.Count, value=counts["stored"])
    metrics.add_metric(name="ContactRecordsUnchanged", unit=MetricUnit.Count, value=counts["unchanged"])
    metrics.add_metric(name="ContactRecordsRejected", unit=MetricUnit.Count, value=counts["rejected"])
    logger.info("contact records applied", extra=dict(counts))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    for key in counts:
        counts[key] = 0
    return process_and_report(event, record_handler, processor, context, _report)
