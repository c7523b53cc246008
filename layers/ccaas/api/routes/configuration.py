from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from ccaas.api.common import Id, deps, tenant
from ccaas.api.views import AgentView
from ccaas.domain.models import Agent, Queue
from ccaas.usecases import admin

router = Router()


class QueueConfig(Queue):
    """A queue as configured through the API (tenant and id come from the caller and the path)."""

    tenant_id: str = ""
    queue_id: str = ""


class AgentConfig(Agent):
    tenant_id: str = ""
    agent_id: str = ""


@router.put("/queues/<queue_id>", tags=["configuration"])
def put_queue(queue_id: Id, body: QueueConfig) -> Queue:
    queue = Queue.model_validate({**body.model_dump(), "tenant_id": tenant(router), "queue_id": queue_id})
    return admin.put_queue(deps(), queue)


@router.get("/queues", tags=["configuration"])
def list_queues() -> list[Queue]:
    return deps().config.list_queues(tenant(router))


@router.put("/agents/<agent_id>", tags=["configuration"], summary="Create an agent or replace its profile")
def put_agent(agent_id: Id, body: AgentConfig) -> AgentView:
    agent = Agent.model_validate({**body.model_dump(), "tenant_id": tenant(router), "agent_id": agent_id})
    return AgentView.of(admin.put_agent(deps(), agent))
