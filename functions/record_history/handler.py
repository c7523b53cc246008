"""Post-contact step RecordHistory: the ended contact's record into the History table (idempotent)."""
from __future__ import annotations

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from ccaas.bootstrap import dependencies
from ccaas.steps import ContactStep
from ccaas.usecases.history import record_contact
from ccaas.logs import handler_logger
from ccaas.tracing import lambda_tracer

logger = handler_logger()  # Powertools' Logger (ccaas.logs: no root filter by name)
tracer = lambda_tracer()  # X-Ray only when tracing is on (ccaas.tracing)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_parser(model=ContactStep)
def lambda_handler(event: ContactStep, context: LambdaContext) -> dict:
    logger.append_keys(tenant_id=event.tenant_id, contact_id=event.contact_id)
    outcome = record_contact(dependencies(), event.tenant_id, event.contact_id)
    logger.info("contact recorded", extra=outcome.model_dump())
    return outcome.model_dump()
