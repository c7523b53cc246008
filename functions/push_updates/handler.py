"""Kinesis consumer: contact and agent events -> WebSocket messages (offers, contact states, queue metrics).

A record that does not parse is a batch item failure (retried, bisected, then the DLQ). A push that
fails for a passing reason (a throttle, a 5xx) fails the record that caused it, and nothing after it is pushed
in this invocation: the mapping redelivers from that record on, so later messages are not sent twice. A message
API Gateway refuses for good (over 128 KB, which `fitted` prevents; malformed) is counted and dropped. A gone
connection is deleted. Nothing is lost by a failed push: offers and metrics stay readable by GET.

`_cache` lives as long as the execution environment: each agent's connections and each tenant's routing
policy for a few seconds (ccaas.usecases.push.PushCache says what that may delay and what it may not).
"""
from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from ccaas.bootstrap import dependencies
from ccaas.stream import ParsedBatch
from ccaas.usecases.push import PushCache, push_events
from ccaas.logs import handler_logger
from ccaas.tracing import lambda_tracer

logger = handler_logger()  # Powertools' Logger (ccaas.logs: no root filter by name)
tracer = lambda_tracer()  # X-Ray only when tracing is on (ccaas.tracing)
metrics = Metrics()
_cache = PushCache()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    batch = ParsedBatch(event, context)
    report = push_events(dependencies(), [e for e, _ in batch.events], _cache)
    batch.fail(lambda e: e.event_id in report.failed_event_ids)
    counts = {"PushesSent": report.sent, "PushConnectionsGone": report.gone, "PushFailures": len(report.failed_event_ids),
              "PushesRefused": report.refused}
    # Most batches reach nobody (no agent or supervisor of theirs connected): a line and an EMF document of
    # zeros per batch were ~0.7 KB of log ingestion each (bench cost); only what happened is written.
    for name, value in counts.items():
        if value:
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    (logger.info if any(counts.values()) else logger.debug)(
        "batch pushed", extra={"events": len(batch.events), "sent": report.sent, "gone": report.gone,
                               "audience_reads": report.audience_reads, "failed": len(report.failed_event_ids)})
    return batch.response
