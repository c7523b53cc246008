"""Workflow step AwaitAgent: queue the contact with the step's task token and try an agent at once."""
from __future__ import annotations

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from ccaas.bootstrap import dependencies
from ccaas.steps import TaskTokenStep
from ccaas.usecases.contacts import queue_and_route
from ccaas.logs import handler_logger
from ccaas.tracing import lambda_tracer

logger = handler_logger()  # Powertools' Logger (ccaas.logs: no root filter by name)
tracer = lambda_tracer()  # X-Ray only when tracing is on (ccaas.tracing)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_parser(model=TaskTokenStep)
def lambda_handler(event: TaskTokenStep, context: LambdaContext) -> dict:
    logger.append_keys(tenant_id=event.tenant_id, contact_id=event.contact_id)
    contact = queue_and_route(dependencies(), event.tenant_id, event.contact_id, event.task_token,
                              retried=event.retry > 0, wait_s=event.wait_s)
    return {"state": contact.state.value, "agent_id": contact.agent_id}
