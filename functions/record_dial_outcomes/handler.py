"""Kinesis consumer of the Amazon Connect contact-record stream: the outcomes of campaign calls.

A second consumer of the CTR stream (functions/consume_contact_records keeps history from the same records).
Only records of calls our Connect dialer placed (InitiationMethod OUTBOUND with the ccaas_* attributes) are
acted on: the attempt they name gets its disposition (ccaas.usecases.outbound.record_ctr_outcome: AMD status,
agent connection, destination errors); every other record is skipped. At least once is fine: an attempt's
carrier disposition is set once, a repeat returns it unchanged. Records are read as the history consumer reads
them (ccaas.usecases.outbound.read_dial_record: the KPIs' CTR reader, its bounds, a time ahead of now refused): one
that cannot be read (not JSON, no ContactId, a field no Connect record has, ids that are none of ours) is rejected
with a reason, logged with the shard and sequence number (never the record's content) and counted
(DialOutcomeRecordsRejected), and is a batch item failure (bounded retries, bisect, DLQ), as is one whose Connect
instance does not belong to the tenant it names and any other failure (a throttled table: logged by its error's
type, retried, not counted as a rejection).

CloudWatch (EMF): per (tenant, campaign) of the batch, Outcomes, HumanAnswered, Connects and Abandoned
(ccaas.usecases.outbound_metrics.emit_campaign_counts: one document per campaign per batch), and the same
HumanAnswered / Abandoned summed over the batch with the service dimension only — the series the
abandonment-rate alarm divides (campaign ids are only known at run time). A retried batch counts its
records again (the counts are at least once; the API's figures come from the store and are exact). The counts
and the summary line are written whatever became of the batch (one whose every record failed too).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ccaas.bootstrap import dependencies
from ccaas.domain.outbound.metrics import outcome_metrics
from ccaas.logs import handler_logger
from ccaas.stream import process_and_report
from ccaas.tracing import lambda_tracer
from ccaas.usecases.outbound import read_dial_record, record_ctr_outcome
from ccaas.usecases.outbound_metrics import emit_campaign_counts

if TYPE_CHECKING:  # the CTR reader is loaded by the first record (_rejection), not at this function's cold start
    from ccaas.domain.kpis.ctr import MalformedContactRecord

logger = handler_logger()  # Powertools' Logger (ccaas.logs: no root filter by name)
tracer = lambda_tracer()  # X-Ray only when tracing is on (ccaas.tracing)
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.KinesisDataStreams)
counts = {"recorded": 0, "skipped": 0, "rejected": 0, "failed": 0}
campaigns: dict[tuple[str, str], dict[str, int]] = {}  # this invocation's outcome counts per (tenant, campaign)
ALARM_SERIES = ("HumanAnswered", "Abandoned")


def _rejection(error: Exception) -> MalformedContactRecord | None:
    """The CTR reader's rejection of the record, if the error is one (its module: in memory since the first read)."""
    from ccaas.domain.kpis.ctr import MalformedContactRecord  # noqa: PLC0415 - see TYPE_CHECKING above

    return error if isinstance(error, MalformedContactRecord) else None


def record_handler(record: KinesisStreamRecord) -> None:
    position = {"shard_id": record.event_id.split(":")[0], "sequence_number": record.kinesis.sequence_number}
    try:
        deps = dependencies()
        # read here with the clock, as the history consumer reads the same records: a time ahead of now (an outcome
        # dated in 2099 counted on a day the 30-day abandonment rate never reads) is this record's rejection
        done = record_ctr_outcome(deps, read_dial_record(record.kinesis.data_as_bytes(), now_ms=deps.clock.now_ms()))
    except Exception as error:
        rejected = _rejection(error)
        if rejected is not None:
            counts["rejected"] += 1
            logger.warning("dial outcome record rejected",
                           extra={"reason": rejected.reason, "rejected_contact_id": rejected.contact_id, **position})
        else:
            counts["failed"] += 1  # retried as it is: no rejection (its message may quote the record: the type only)
            logger.warning("dial outcome record not applied", extra={"error": type(error).__name__, **position})
        raise
    counts["skipped" if done is None else "recorded"] += 1
    if done is None or done.attempt.disposition is None:
        return
    cell = campaigns.setdefault((done.tenant_id, done.attempt.campaign_id), {})
    for name, n in outcome_metrics(done.attempt.disposition, connected=done.contact_id is not None).items():
        cell[name] = cell.get(name, 0) + n


def _report() -> None:
    for (tenant_id, campaign_id), values in sorted(campaigns.items()):
        emit_campaign_counts(tenant_id, campaign_id, values)
    metrics.add_metric(name="DialOutcomesRecorded", unit=MetricUnit.Count, value=counts["recorded"])
    metrics.add_metric(name="DialOutcomeRecordsRejected", unit=MetricUnit.Count, value=counts["rejected"])
    for name in ALARM_SERIES:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=sum(v.get(name, 0) for v in campaigns.values()))
    logger.info("dial outcomes applied", extra={**counts, "campaigns": len(campaigns)})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    for key in counts:
        counts[key] = 0
    campaigns.clear()
    return process_and_report(event, record_handler, processor, context, _report)
