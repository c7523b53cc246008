"""The REST API as one Powertools resolver (validation, OpenAPI at /openapi.json, Swagger UI at /swagger).

The tenant is always the authorizer's (requestContext.authorizer.tenant_id), never the request's.
"""
from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import UnauthorizedError
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.openapi.params import Path

from ccaas.api.views import AgentView, ContactView
from ccaas.bootstrap import Dependencies, dependencies
from ccaas.domain.live_metrics import RealtimeQueueMetrics
from ccaas.domain.models import Agent, Conflict, DomainError, NotFound, Queue
from ccaas.usecases import admin, agents, contacts, metrics

TITLE = "CCaaS contact-center API"
VERSION = "1.0.0"
SECURITY = {"apiKey": HTTPBearer(description="the tenant's API key: `Authorization: Bearer ck_...`")}

app = APIGatewayRestResolver(enable_validation=True)
app.enable_swagger(path="/swagger", title=TITLE, version=VERSION, security_schemes=SECURITY, security=[{"apiKey": []}])

Id = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]


def deps() -> Dependencies:
    return dependencies()


def tenant() -> str:
    authorizer = app.current_event.request_context.authorizer or {}
    tenant_id = authorizer.get("tenant_id")
    if not tenant_id:
        raise UnauthorizedError("no tenant in the request's authorization")
    return tenant_id


def _error(status: int, code: str, message: str, field: str | None) -> Response:
    body = {"error": code, "message": message, **({"field": field} if field else {})}
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


@app.exception_handler(NotFound)
def _not_found(error: NotFound) -> Response:
    return _error(404, error.code, str(error), error.field)


@app.exception_handler(Conflict)
def _conflict(error: Conflict) -> Response:
    return _error(409, error.code, str(error), error.field)


@app.exception_handler(DomainError)
def _invalid(error: DomainError) -> Response:
    return _error(422, error.code, str(error), error.field)


@app.get("/openapi.json", include_in_schema=False)
def openapi_document():  # noqa: ANN201 - raw document, not a validated model
    body = app.get_openapi_json_schema(title=TITLE, version=VERSION, security_schemes=SECURITY, security=[{"apiKey": []}])
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=body)


# Contacts -----------------------------------------------------------------------------------------

@app.post("/contacts", tags=["contacts"], summary="Create a contact and start its lifecycle workflow")
def create_contact(body: contacts.NewContact) -> tuple[ContactView, int]:
    return ContactView.of(contacts.create_contact(deps(), tenant(), body)), 201


@app.get("/contacts/<contact_id>", tags=["contacts"])
def get_contact(contact_id: Id) -> ContactView:
    return ContactView.of(contacts.get_contact(deps(), tenant(), contact_id))


@app.post("/contacts/<contact_id>/abandon", tags=["contacts"], summary="The customer left while waiting")
def abandon_contact(contact_id: Id) -> ContactView:
    return ContactView.of(contacts.abandon_contact(deps(), tenant(), contact_id, reason="CUSTOMER_LEFT", from_workflow=False))


# Agents -------------------------------------------------------------------------------------------

@app.get("/agents/<agent_id>", tags=["agents"], summary="An agent with its status, activity and offers")
def get_agent(agent_id: Id) -> AgentView:
    return AgentView.of(agents.get_agent(deps(), tenant(), agent_id))


@app.put("/agents/<agent_id>/status", tags=["agents"])
def set_agent_status(agent_id: Id, body: agents.StatusChange) -> AgentView:
    return AgentView.of(agents.set_agent_status(deps(), tenant(), agent_id, body))


@app.post("/agents/<agent_id>/contacts/<contact_id>/accept", tags=["agents"])
def accept_contact(agent_id: Id, contact_id: Id) -> ContactView:
    return ContactView.of(contacts.accept_contact(deps(), tenant(), agent_id, contact_id))


@app.post("/agents/<agent_id>/contacts/<contact_id>/reject", tags=["agents"])
def reject_contact(agent_id: Id, contact_id: Id) -> ContactView:
    return ContactView.of(contacts.reject_contact(deps(), tenant(), agent_id, contact_id))


@app.post("/agents/<agent_id>/contacts/<contact_id>/complete", tags=["agents"], summary="End the conversation; ACW starts")
def complete_contact(agent_id: Id, contact_id: Id) -> ContactView:
    return ContactView.of(contacts.complete_contact(deps(), tenant(), agent_id, contact_id))


@app.post("/agents/<agent_id>/contacts/<contact_id>/end-acw", tags=["agents"], summary="End after-contact work")
def end_acw(agent_id: Id, contact_id: Id) -> ContactView:
    return ContactView.of(contacts.end_after_contact_work(deps(), tenant(), agent_id, contact_id))


# Configuration ------------------------------------------------------------------------------------

class QueueConfig(Queue):
    """A queue as configured through the API (tenant and id come from the path and the caller)."""

    tenant_id: str = ""
    queue_id: str = ""


class AgentConfig(Agent):
    tenant_id: str = ""
    agent_id: str = ""


@app.put("/queues/<queue_id>", tags=["configuration"])
def put_queue(queue_id: Id, body: QueueConfig) -> Queue:
    queue = Queue.model_validate({**body.model_dump(), "tenant_id": tenant(), "queue_id": queue_id})
    return admin.put_queue(deps(), queue)


@app.get("/queues", tags=["configuration"])
def list_queues() -> list[Queue]:
    return deps().config.list_queues(tenant())


@app.put("/agents/<agent_id>", tags=["configuration"], summary="Create an agent or replace its profile")
def put_agent(agent_id: Id, body: AgentConfig) -> AgentView:
    agent = Agent.model_validate({**body.model_dump(), "tenant_id": tenant(), "agent_id": agent_id})
    return AgentView.of(admin.put_agent(deps(), agent))


# Real-time metrics --------------------------------------------------------------------------------

@app.get("/queues/<queue_id>/metrics/realtime", tags=["metrics"])
def queue_realtime(queue_id: Id) -> RealtimeQueueMetrics:
    return metrics.realtime_queue_metrics(deps(), tenant(), queue_id)


@app.get("/metrics/realtime", tags=["metrics"], summary="Real-time metrics of every queue")
def realtime() -> list[RealtimeQueueMetrics]:
    return metrics.realtime_all_queues(deps(), tenant())
