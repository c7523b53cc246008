"""Kinesis consumer of the Amazon Connect contact-record stream: the outcomes of campaign calls.

A second consumer of the CTR stream (functions/consume_contact_records keeps history from the same records).
Only records of calls our Connect dialer placed (InitiationMethod OUTBOUND with the ccaas_* attributes) are
acted on: the attempt they name gets its disposition (ccaas.usecases.outbound.record_ctr_outcome: AMD status,
agent connection, destination errors); every other record is skipped. At least once is fine: an attempt's
carrier disposition is set once, a repeat returns it unchanged. A record that cannot be read, or whose Connect
instance does not belong to the tenant it names, is a batch item failure (bounded retries, bisect, DLQ).

CloudWatch (EMF): per (tenant, campaign) of the batch, Outcomes, HumanAnswered, Connects and Abandoned
(ccaas.usecases.outbound_metrics.emit_campaign_counts: one document per campaign per batch), and the same
HumanAnswered / Abandoned summed over the batch with the service dimension only — the series the
abandonment-rate alarm divides (campaign ids are only known at run time). A retried batch counts its
records again (the counts are at least once; the API's figures come from the store and are exact). The counts
and the summary line are written whatever became of the batch (one whose every record failed too).
"""
from __future__ import annotations

import json

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
from ccaas.usecases.outbound import record_ctr_outcome
from ccaas.usecases.outbound_metrics import emit_campaign_counts

logger = handler_logger()  # Powertools' Logger (ccaas.logs: no root filter by name)
tracer = lambda_tracer()  # X-Ray only when tracing is on (ccaas.tracing)
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.KinesisDataStreams)
counts = {"recorded": 0, "skipped": 0}
campaigns: dict[tuple[str, str], dict[str, int]] = {}  # this invocation's outcome counts per (tenant, campaign)
ALARM_SERIES = ("HumanAnswered", "Abandoned")


def record_handler(record: KinesisStreamRecord) -> None:
    ctr = json.loads(record.kinesis.data_as_bytes())
    if not isinstance(ctr, dict):
        raise ValueError("a contact record is a JSON object")
    done = record_ctr_outcome(dependencies(), ctr)
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
