"""Workflow step AbandonOnQueueTimeout: end an unanswered contact as ABANDONED."""
from __future__ import annotations

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from ccaas.bootstrap import dependencies
from ccaas.steps import ContactStep
from ccaas.usecases.contacts import abandon_contact

logger = Logger()
tracer = Tracer()


class StepInput(ContactStep):
    reason: str = "QUEUE_TIMEOUT"


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_parser(model=StepInput)
def lambda_handler(event: StepInput, context: LambdaContext) -> dict:
    logger.append_keys(tenant_id=event.tenant_id, contact_id=event.contact_id)
    contact = abandon_contact(dependencies(), event.tenant_id, event.contact_id, reason=event.reason, from_workflow=True)
    return {"state": contact.state.value}
