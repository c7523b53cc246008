from __future__ import annotations

from ccaas.api.access import ADMIN, INTEGRATION, READERS, Router
from ccaas.api.common import Id, deps, tenant
from ccaas.api.views import AgentView
from ccaas.domain.models import AgentProfile, Queue, QueueSettings
from ccaas.usecases import admin, agents

router = Router()


@router.put("/queues/<queue_id>", roles=[ADMIN], tags=["configuration"], summary="Create a queue or replace its settings")
def put_queue(queue_id: Id, body: QueueSettings) -> Queue:
    return admin.configure_queue(deps(), tenant(router), queue_id, body)


@router.get("/queues", roles=[*READERS, INTEGRATION], tags=["configuration"])
def list_queues() -> list[Queue]:
    return deps().config.list_queues(tenant(router))


@router.put("/agents/<agent_id>", roles=[ADMIN], tags=["configuration"],
            summary="Create an agent or replace its profile (live state is never input)")
def put_agent(agent_id: Id, body: AgentProfile) -> AgentView:
    tenant_id = tenant(router)
    agent = admin.configure_agent(deps(), tenant_id, agent_id, body)
    return AgentView.of(agent, agents.tenant_today(deps(), tenant_id))
