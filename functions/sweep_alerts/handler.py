"""Every minute (EventBridge Scheduler): the time-based alert rules for every tenant.

Waiting longer than X, not ready too long, service level below target over the last N minutes, dead air still
going on in a live-transcribed call all become true without any event (or post) arriving; this evaluates them
from the stored live state. Dead air still going on also gives the call's agent the tenant's silence guidance
prompt, once per silence (published as agent.guidance_prompted, pushed by the push consumer). A tenant that fails is logged and the invocation ends in an error (visible in the
Errors metric) after the other tenants were swept; tenants not reached before the time budget runs out wait for
the next tick.
"""
from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from ccaas.bootstrap import dependencies
from ccaas.usecases.alerts import sweep
from ccaas.logs import handler_logger
from ccaas.tracing import lambda_tracer

logger = handler_logger()  # Powertools' Logger (ccaas.logs: no root filter by name)
tracer = lambda_tracer()  # X-Ray only when tracing is on (ccaas.tracing)
metrics = Metrics()
RESERVE_MS = 8_000  # one tenant's sweep must fit in what is left


class SweepFailed(Exception):
    """Some tenants could not be swept (each is logged with its tenant id)."""


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    logger.append_keys(scheduled_time=(event or {}).get("scheduled_time"))

    def failed(tenant_id: str, error: Exception) -> None:
        logger.error("tenant sweep failed", extra={"tenant_id": tenant_id, "error": type(error).__name__}, exc_info=error)

    result = sweep(dependencies(), on_error=failed, keep_going=lambda: context.get_remaining_time_in_millis() > RESERVE_MS)
    metrics.add_metric(name="TenantsSwept", unit=MetricUnit.Count, value=result.tenants)
    metrics.add_metric(name="TenantsNotSwept", unit=MetricUnit.Count, value=len(result.failed) + result.skipped)
    metrics.add_metric(name="AlertsOpened", unit=MetricUnit.Count, value=result.opened)
    metrics.add_metric(name="AlertsResolved", unit=MetricUnit.Count, value=result.resolved)
    summary = {"tenants": result.tenants, "opened": result.opened, "resolved": result.resolved, "skipped": result.skipped}
    logger.info("sweep done", extra=summary)
    if result.failed:
        raise SweepFailed(f"{len(result.failed)} of {result.tenants} tenant(s) failed")
    return summary
