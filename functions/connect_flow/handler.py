"""Amazon Connect flows: the "Invoke AWS Lambda function" block's one Lambda (see ccaas.usecases.connect_flow).

Always returns a flat map of strings under 32 KB, errors included (`status=error`, `error_code`), within
the invocation's time: the work gets the remaining time minus a margin, then a `timeout` reply goes back.
The event is never logged (it carries the caller's phone number); the outcome line has ids and codes.
"""
from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from ccaas.bootstrap import dependencies
from ccaas.domain.connect_flow import ACTIONS
from ccaas.usecases.connect_flow import answer
from ccaas.logs import handler_logger
from ccaas.tracing import lambda_tracer

logger = handler_logger()  # Powertools' Logger (ccaas.logs: no root filter by name)
tracer = lambda_tracer()  # X-Ray only when tracing is on (ccaas.tracing)
metrics = Metrics()
MARGIN_MS = 400  # time kept back to return the reply (serialisation, the runtime's own work)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict[str, str]:
    budget_s = max(0.1, (context.get_remaining_time_in_millis() - MARGIN_MS) / 1000)
    reply, outcome = answer(dependencies, event, budget_s=budget_s)
    logger.info("flow action answered", extra=outcome.model_dump(exclude_none=True))
    metrics.add_dimension(name="action", value=outcome.action if outcome.action in ACTIONS else "other")
    metrics.add_metric(name="FlowErrors" if outcome.status == "error" else "FlowAnswers", unit=MetricUnit.Count, value=1)
    return reply

