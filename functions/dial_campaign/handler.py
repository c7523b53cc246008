"""Every minute (EventBridge Scheduler): the outbound dialing loop.

One invocation runs a pacing tick of every RUNNING campaign (ccaas.usecases.outbound.dial_sweep) every
TICK_S seconds for about LOOP_S seconds, bounded by the function's remaining time: a fresh pacing decision
every few seconds without a schedule per row or a poll per call. Nothing is kept between ticks but the
table (the due index, attempts, counters), so a missed or doubled invocation costs a tick, never a rule:
every dial is preceded by its stored, allowing checks, and a tick decides for a queue's agents only while it
holds the queue's lease (two overlapping invocations never both dial for one free agent). A test or an operator may ask for a shorter loop
(`loop_s`, `tick_s` in the event).
"""
from __future__ import annotations

import time

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from ccaas.bootstrap import dependencies
from ccaas.domain.outbound.pacing import TICK_S
from ccaas.logs import handler_logger
from ccaas.tracing import lambda_tracer
from ccaas.usecases.outbound import TickResult, dial_sweep
from ccaas.usecases.outbound_metrics import emit_tick_counts

logger = handler_logger()  # Powertools' Logger (ccaas.logs: no root filter by name)
tracer = lambda_tracer()  # X-Ray only when tracing is on (ccaas.tracing)
metrics = Metrics()
LOOP_S = 50.0
RESERVE_MS = 6_000  # one sweep must fit in what is left
# With the service dimension only: the series the abandonment-rate alarm divides (campaign ids are run-time data).
ALARM_SERIES = ("HumanAnswered", "Abandoned")


def _bounded(event: dict, name: str, default: float, low: float, high: float) -> float:
    try:
        return min(high, max(low, float((event or {}).get(name, default))))
    except (TypeError, ValueError):
        return default


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    logger.append_keys(scheduled_time=(event or {}).get("scheduled_time"))
    loop_s, tick_s = _bounded(event, "loop_s", LOOP_S, 0, LOOP_S), _bounded(event, "tick_s", TICK_S, 0.5, 30)

    def failed(tenant_id: str, campaign_id: str, error: Exception) -> None:
        logger.error("campaign tick failed", extra={"tenant_id": tenant_id, "campaign_id": campaign_id,
                                                     "error": type(error).__name__}, exc_info=error)

    started = time.monotonic()
    ticks = dialed = failures = 0
    campaign_ticks: list[TickResult] = []
    while True:
        result = dial_sweep(dependencies(), on_error=failed, tick_s=tick_s)  # agentless paces over the real tick
        ticks += 1
        campaign_ticks += result.ticks
        dialed += result.dialed
        failures += len(result.failed)
        if result.campaigns == 0:
            break  # nothing running or settling: the next minute looks again (an idle minute costs two Queries)
        wait = tick_s - (time.monotonic() - started) % tick_s
        if time.monotonic() - started + wait > loop_s or context.get_remaining_time_in_millis() - wait * 1000 < RESERVE_MS:
            break
        time.sleep(wait)
    totals = emit_tick_counts(campaign_ticks)  # per campaign: attempts, outcomes, blocks by rule
    for name in ALARM_SERIES:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=totals.get(name, 0))
    metrics.add_metric(name="Blocked", unit=MetricUnit.Count, value=totals.get("Blocked", 0))
    metrics.add_metric(name="OutboundDials", unit=MetricUnit.Count, value=dialed)
    metrics.add_metric(name="OutboundTickFailures", unit=MetricUnit.Count, value=failures)
    summary = {"ticks": ticks, "dialed": dialed, "failed": failures}
    logger.info("dialing loop done", extra=summary)
    return summary
