"""Kinesis consumer: contact and agent events -> supervisor alerts, evaluated once per tenant per batch.

A record that does not parse is a batch item failure (the mapping retries, bisects, then sends it to
the DLQ). Evaluation reads the stored live state for the queues and agents the batch touched, so it
is idempotent without an idempotency table: a redelivered batch finds its alerts already open
(conditional write) or already resolved. When one tenant's evaluation fails, that tenant's records
are reported as failures too; the other tenants' alerts stand.
"""
from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from ccaas.bootstrap import dependencies
from ccaas.stream import ParsedBatch
from ccaas.usecases.alerts import evaluate_touched, touched_by
from ccaas.logs import handler_logger
from ccaas.tracing import lambda_tracer

logger = handler_logger()  # Powertools' Logger (ccaas.logs: no root filter by name)
tracer = lambda_tracer()  # X-Ray only when tracing is on (ccaas.tracing)
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    batch = ParsedBatch(event, context)
    opened = resolved = 0
    for tenant_id, touched in touched_by(e for e, _ in batch.events).items():
        try:
            applied = evaluate_touched(dependencies(), tenant_id, touched)
        except Exception:
            logger.exception("alert evaluation failed", extra={"tenant_id": tenant_id})
            batch.fail(lambda e, t=tenant_id: e.tenant_id == t)
            metrics.add_metric(name="AlertEvaluationFailures", unit=MetricUnit.Count, value=1)
            continue
        opened += len(applied.opened)
        resolved += len(applied.resolved)
    # Most batches change no alert: as in push_updates, a line and an EMF document of zeros per batch would be
    # log ingestion paid for nothing (bench cost); only what happened is written at INFO.
    for name, value in (("AlertsOpened", opened), ("AlertsResolved", resolved)):
        if value:
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    (logger.info if opened or resolved else logger.debug)(
        "batch evaluated", extra={"events": len(batch.events), "opened": opened, "resolved": resolved})
    return batch.response
