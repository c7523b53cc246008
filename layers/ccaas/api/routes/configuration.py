from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from ccaas.api.access import ADMIN, INTEGRATION, READERS, Router
from ccaas.api.common import Id, deps, tenant
from ccaas.api.paging import LIST_PAGE, PAGED, After, Limit, page_answer
from ccaas.api.views import AgentView
from ccaas.domain.models import AgentProfile, Queue, QueueSettings
from ccaas.usecases import admin, agents

router = Router()


@router.put("/queues/<queue_id>", roles=[ADMIN], tags=["configuration"], summary="Create a queue or replace its settings")
def put_queue(queue_id: Id, body: QueueSettings) -> Queue:
    return admin.configure_queue(deps(), tenant(router), queue_id, body)


@router.get("/queues", roles=[*READERS, INTEGRATION], tags=["configuration"],
            summary="Every queue, in queue id order: a page of at most `limit` (and ~4 MB) with a `Link` header "
                    "(rel=\"next\") while there is more", responses=PAGED)
def list_queues(after: After = None, limit: Limit = LIST_PAGE) -> Response[list[Queue]]:
    return page_answer(deps().config.list_queues(tenant(router)), key=lambda q: q.queue_id, after=after, limit=limit,
                       event=router.current_event, document=lambda q: q.model_dump(mode="json"))


@router.put("/agents/<agent_id>", roles=[ADMIN], tags=["configuration"],
            summary="Create an agent or replace its profile (live state is never input)")
def put_agent(agent_id: Id, body: AgentProfile) -> AgentView:
    tenant_id = tenant(router)
    agent = admin.configure_agent(deps(), tenant_id, agent_id, body)
    return AgentView.of(agent, agents.tenant_today(deps(), tenant_id))
