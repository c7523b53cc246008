"""Kinesis consumer of the Amazon Connect contact-record stream: the outcomes of campaign calls.

A second consumer of the CTR stream (functions/consume_contact_records keeps history from the same records).
Only records of calls our Connect dialer placed (InitiationMethod OUTBOUND with the ccaas_* attributes) are
acted on: the attempt they name gets its disposition (ccaas.usecases.outbound.record_ctr_outcome: AMD status,
agent connection, destination errors); every other record is skipped. At least once is fine: an attempt's
carrier disposition is set once, a repeat returns it unchanged. A record that cannot be read, or whose Connect
instance does not belong to the tenant it names, is a batch item failure (bounded retries, bisect, DLQ).
"""
from __future__ import annotations

import json

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ccaas.bootstrap import dependencies
from ccaas.tracing import lambda_tracer
from ccaas.usecases.outbound import record_ctr_outcome

logger = Logger()
tracer = lambda_tracer()  # X-Ray only when tracing is on (ccaas.tracing)
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.KinesisDataStreams)
counts = {"recorded": 0, "skipped": 0}


def record_handler(record: KinesisStreamRecord) -> None:
    ctr = json.loads(record.kinesis.data_as_bytes())
    if not isinstance(ctr, dict):
        raise ValueError("a contact record is a JSON object")
    done = record_ctr_outcome(dependencies(), ctr)
    counts["skipped" if done is None else "recorded"] += 1


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    for key in counts:
        counts[key] = 0
    response = process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    metrics.add_metric(name="DialOutcomesRecorded", unit=MetricUnit.Count, value=counts["recorded"])
    logger.info("dial outcomes applied", extra=dict(counts))
    return response
