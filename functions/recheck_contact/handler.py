"""Workflow step Recheck: a wait ended with no event; act on what expired and say what comes next."""
from __future__ import annotations

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from ccaas.bootstrap import dependencies
from ccaas.steps import RecheckStep
from ccaas.usecases.contacts import recheck
from ccaas.logs import handler_logger
from ccaas.tracing import lambda_tracer

logger = handler_logger()  # Powertools' Logger (ccaas.logs: no root filter by name)
tracer = lambda_tracer()  # X-Ray only when tracing is on (ccaas.tracing)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_parser(model=RecheckStep)
def lambda_handler(event: RecheckStep, context: LambdaContext) -> dict:
    logger.append_keys(tenant_id=event.tenant_id, contact_id=event.contact_id)
    next_step, wait_s, contact_id = recheck(dependencies(), event.tenant_id, event.contact_id)
    logger.info("recheck", extra={"next": next_step, "wait_s": wait_s})
    # The counts go back into $.recheck: the workflow continues as a new execution after enough loops.
    return {"next": next_step, "wait_s": wait_s, "contact_id": contact_id,
            "loop": event.recheck.loop + 1, "generation": event.recheck.generation}
