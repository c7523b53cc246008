"""Every 5 minutes (EventBridge Scheduler): every tenant's journey tests (PUT /settings/journeys) through the
real entry points, inside this Lambda (ccaas.adapters.aws.journeys.LambdaEntryPoints: the API resolver and
the contact-flow use-case). Per journey, CloudWatch EMF metrics JourneySuccess (1/0) and JourneyLatency (ms)
with the dimensions tenant and journey (bounded: at most 50 journeys per tenant; a CloudWatch alarm per
journey watches JourneySuccess, made by PUT /settings/journeys); a failed journey is logged with its failed
step and expectation. Each run is stored with its per-step timings (GET /journeys/results), and a failing
journey opens a `journey_failed` alert on the alerts bus that its next passing run resolves
(ccaas.usecases.journeys.record_runs, inside run_scheduled). Synthetic contacts count in no KPI, metric or
alert, and their items expire (the Contacts table's TTL).
"""
from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext

from ccaas.adapters.aws.journeys import LambdaEntryPoints
from ccaas.bootstrap import dependencies
from ccaas.logs import handler_logger
from ccaas.tracing import lambda_tracer
from ccaas.usecases.journeys import run_scheduled

logger = handler_logger()  # Powertools' Logger (ccaas.logs: no root filter by name)
tracer = lambda_tracer()  # X-Ray only when tracing is on (ccaas.tracing)
metrics = Metrics()
RESERVE_MS = 60_000  # kept for recording and metrics: a journey runs only if its timeout fits in what is left


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    runs = run_scheduled(dependencies(), lambda tenant_id, suite: LambdaEntryPoints(tenant_id, suite.connect_instance_arn, context),
                         keep_going=lambda: context.get_remaining_time_in_millis() > RESERVE_MS,
                         time_left_s=lambda: (context.get_remaining_time_in_millis() - RESERVE_MS) / 1000)
    for run in runs:
        for result in run.results:
            for name, value, unit in (("JourneySuccess", 1 if result.passed else 0, MetricUnit.Count),
                                      ("JourneyLatency", result.total_ms, MetricUnit.Milliseconds)):
                with single_metric(name=name, unit=unit, value=value, namespace=metrics.namespace) as metric:
                    metric.add_dimension(name="tenant", value=run.tenant_id)
                    metric.add_dimension(name="journey", value=result.journey)
            if not result.passed:
                logger.warning("journey failed", extra={"tenant_id": run.tenant_id, "journey": result.journey,
                                                        "failed_step": result.failed_step, "failure": result.failure})
    failed = sum(len(r.failed) for r in runs)
    metrics.add_metric(name="JourneysFailed", unit=MetricUnit.Count, value=failed)
    return {"tenants": len(runs), "journeys": sum(len(r.results) for r in runs), "failed": failed}
